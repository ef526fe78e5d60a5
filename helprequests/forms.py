from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from allemaal.forms import FreeTextCheck
from allemaal.models import Organisation
from allemaal.postcodes import normalise_postcode

from . import services
from .models import NO_NAMES_HELP, HelpRequest
from .services import connectivity

# The button that saves a draft without checking completeness.
DRAFT_BUTTON = "save_draft"


class HelpRequestForm(FreeTextCheck, forms.ModelForm):
    """One form for a new request, a draft and a submitted request.

    Saving a draft checks only what is filled in; going on to the confirmation page (or saving a
    submitted request) checks everything with the same rules as the submit service.
    """

    free_text_fields = ("motivation",)

    contact_phone = PhoneNumberField(
        label=_("Telefoonnummer contactpersoon"),
        region="NL",
        required=False,
        error_messages={
            "invalid": _(
                "Vul een geldig Nederlands telefoonnummer in, zoals 030 123 4567 of 06 12345678."
            )
        },
    )

    FIELDSETS = [
        (
            _("Voor wie vraagt u apparaten aan?"),
            ["target_group", "target_group_other", "no_home_schooling"],
        ),
        (
            _("Apparaten"),
            ["laptops", "tablets", "either", "people_reached", "connectivity_households"],
        ),
        (_("Hoe dringend?"), ["urgency", "need_by"]),
        (_("Toelichting"), ["motivation"]),
        (
            _("Bezorgadres en contactpersoon"),
            [
                "delivery_street",
                "delivery_postcode",
                "delivery_city",
                "contact_name",
                "contact_phone",
            ],
        ),
        (_("Verklaring"), ["declaration"]),
    ]

    class Meta:
        model = HelpRequest
        fields = services.REQUEST_FIELDS
        widgets = {
            "target_group": forms.RadioSelect,
            "urgency": forms.RadioSelect,
            "need_by": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "motivation": forms.Textarea(attrs={"rows": 4}),
            "delivery_street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "delivery_postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "delivery_city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.is_draft = self.instance.status == HelpRequest.Status.DRAFT
        self.saving_draft = self.is_draft and DRAFT_BUTTON in (self.data or {})
        for name in ["target_group", "urgency"]:
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]
        self.fields["target_group"].error_messages["required"] = _("Kies een doelgroep.")
        # Every count has a sensible 0; people reached is asked, not assumed.
        self.fields["people_reached"].initial = None
        for name in ["laptops", "tablets", "either", "people_reached", "connectivity_households"]:
            self.fields[name].required = False
            self.fields[name].widget.attrs.update({"min": 0, "inputmode": "numeric"})
        for name in services.REQUIRED_TO_SUBMIT:
            field = self.fields[name]
            field.required = not self.saving_draft
            field.error_messages["required"] = _("Vul dit veld in.")
        self.fields["contact_phone"].label = _("Telefoonnummer contactpersoon")
        if not self.is_draft:
            # The declaration was given when the request was submitted.
            del self.fields["declaration"]
        self.fields["target_group_other"].widget.attrs["maxlength"] = 200

    def fieldsets(self):
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.FIELDSETS
        ]

    def clean_delivery_postcode(self):
        value = self.cleaned_data.get("delivery_postcode", "")
        return normalise_postcode(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        for name in ["laptops", "tablets", "either", "people_reached", "connectivity_households"]:
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = 0
        # Check the rest even when a field is wrong, so that every problem shows at once.
        draft = HelpRequest(organisation=self.organisation, status=self.instance.status)
        for name, value in cleaned.items():
            setattr(draft, name, value)
        message = services.device_limit_error(draft.requested_devices)
        if message and "laptops" not in self.errors:
            self.add_error("laptops", message)
        if not self.saving_draft:
            self._check_complete(draft)
        return cleaned

    def _check_complete(self, draft):
        try:
            services.check_complete(draft, require_declaration=self.is_draft)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field not in self.errors:
                    for message in messages:
                        self.add_error(field if field in self.fields else None, message)
        if self.is_draft:
            try:
                services.check_open_limit(self.organisation, exclude_pk=self.instance.pk)
            except services.DomainError as exc:
                self.add_error(None, str(exc))


class ApproveForm(forms.Form):
    """The quantities a coordinator approves; at most what was requested, per kind."""

    laptops = forms.IntegerField(label=_("Laptops"), min_value=0)
    tablets = forms.IntegerField(label=_("Tablets"), min_value=0)
    either = forms.IntegerField(label=_("Laptops of tablets"), min_value=0)
    note = forms.CharField(
        label=_("Toelichting voor de organisatie (niet verplicht)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, help_request: HelpRequest, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "laptops": help_request.laptops,
                "tablets": help_request.tablets,
                "either": help_request.either,
            },
        )
        super().__init__(*args, **kwargs)
        self.help_request = help_request
        for name in ["laptops", "tablets", "either"]:
            requested = getattr(help_request, name)
            self.fields[name].max_value = requested
            self.fields[name].validators.append(_at_most(requested))
            self.fields[name].help_text = _("Aangevraagd: %(n)d") % {"n": requested}


def _at_most(requested: int):
    def validate(value):
        if value is not None and value > requested:
            raise ValidationError(
                _("U kunt niet meer goedkeuren dan er is aangevraagd (%(n)d).") % {"n": requested}
            )

    return validate


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("Reden (verplicht bij een goedgekeurde aanvraag die nog niet is vervuld)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- Internet connections ------------------------------------------------------------------


def telecom_providers():
    return Organisation.objects.filter(
        kind=Organisation.Kind.TELECOM, status=Organisation.Status.VERIFIED
    ).order_by("name")


class ConnectivityBulkAssignForm(forms.Form):
    """The admin action: every selected request's remaining households to one provider."""

    provider = forms.ModelChoiceField(
        label=_("Telecomaanbieder"),
        queryset=Organisation.objects.none(),
        error_messages={"required": _("Kies een telecomaanbieder.")},
    )
    note = forms.CharField(
        label=_("Toelichting voor de telecomaanbieder (niet verplicht)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=NO_NAMES_HELP,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = telecom_providers()


class ConnectivityAssignForm(ConnectivityBulkAssignForm):
    """One request from its change form: a provider and how many of its households."""

    households = forms.IntegerField(label=_("Aantal huishoudens"), min_value=1)
    field_order = ["provider", "households", "note"]

    def __init__(self, *args, open_households: int, **kwargs):
        kwargs.setdefault("initial", {"households": open_households})
        super().__init__(*args, **kwargs)
        field = self.fields["households"]
        field.max_value = open_households
        field.widget.attrs["max"] = open_households
        field.help_text = _("Nog zonder telecomaanbieder: %(n)d") % {"n": open_households}
        field.validators.append(_households_at_most(open_households))


def _households_at_most(open_households: int):
    def validate(value):
        if value is not None and value > open_households:
            raise ValidationError(
                _("Er zijn nog maar %(n)d huishoudens zonder telecomaanbieder.")
                % {"n": open_households}
            )

    return validate


class ProvisionForm(forms.Form):
    """What the telecom provider provided for one assignment."""

    sim_cards = forms.IntegerField(
        label=_("Aantal simkaarten"),
        min_value=0,
        required=False,
        error_messages={
            "min_value": _("Vul 0 of meer in."),
            "invalid": _("Vul een heel getal in (0 of meer)."),
        },
    )
    hotspots = forms.IntegerField(
        label=_("Aantal mobiele hotspots"),
        min_value=0,
        required=False,
        error_messages={
            "min_value": _("Vul 0 of meer in."),
            "invalid": _("Vul een heel getal in (0 of meer)."),
        },
    )
    bundle_ends_on = forms.DateField(
        label=_("De databundel loopt af op"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Dit is geen datum. Schrijf de datum zo: 31-12-2026.")},
        input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
    )
    note = forms.CharField(
        label=_("Opmerking voor de organisatie (niet verplicht)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ["sim_cards", "hotspots"]:
            self.fields[name].widget.attrs.update({"min": 0, "inputmode": "numeric"})

    def clean(self):
        cleaned = super().clean()
        for name in ["sim_cards", "hotspots"]:
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = 0
        if self.errors:
            return cleaned
        problems = connectivity.provision_errors(
            cleaned["sim_cards"],
            cleaned["hotspots"],
            cleaned.get("bundle_ends_on"),
            today=timezone.localdate(),
        )
        for field, message in problems.items():
            self.add_error(field, message)
        return cleaned

    def provision(self) -> connectivity.Provision:
        data = self.cleaned_data
        return connectivity.Provision(
            sim_cards=data["sim_cards"],
            hotspots=data["hotspots"],
            bundle_ends_on=data["bundle_ends_on"],
            note=data["note"],
        )


class ProvisionUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Ingevuld CSV-bestand"),
        error_messages={
            "required": _("Kies het bestand dat u wilt uploaden."),
            "empty": _("Het bestand is leeg."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
