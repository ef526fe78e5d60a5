from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from allemaal.postcodes import normalise_postcode

from . import services
from .models import HelpRequest

# The button that saves a draft without checking completeness.
DRAFT_BUTTON = "save_draft"


class HelpRequestForm(forms.ModelForm):
    """One form for a new request, a draft and a submitted request.

    Saving a draft checks only what is filled in; going on to the confirmation page (or saving a
    submitted request) checks everything with the same rules as the submit service.
    """

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
