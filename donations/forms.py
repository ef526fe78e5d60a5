from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from allemaal.models import Organisation
from allemaal.postcodes import normalise_postcode

from .manifest import FIELD_LABELS, MAX_BYTES, MIN_YEAR, PERSONAL
from .models import Donation
from .services import below_minimum_message


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DonationForm(forms.ModelForm):
    """A donor pledges a batch; the policy's minimum batch size is passed in by the view."""

    contact_phone = PhoneNumberField(
        label=_("Telefoon contactpersoon"),
        region="NL",
        error_messages={
            "invalid": _(
                "Vul een geldig Nederlands telefoonnummer in, zoals 030 123 4567 of 06 12345678."
            )
        },
    )
    consent_transfer = forms.BooleanField(
        label=_(
            "Wij dragen het eigendom van deze apparaten over aan #allemaaldigitaal en zijn "
            "opknappartners. Zij geven ze gratis aan mensen die ze nodig hebben."
        ),
        error_messages={
            "required": _("Zonder uw toestemming kunnen wij de apparaten niet aannemen.")
        },
    )

    class Meta:
        model = Donation
        fields = [
            "laptops",
            "chromebooks",
            "tablets",
            "chargers",
            "year_from",
            "year_to",
            "brands",
            "already_wiped",
            "pickup_street",
            "pickup_postcode",
            "pickup_city",
            "pickup_window_start",
            "pickup_window_end",
            "contact_name",
            "contact_phone",
            "consent_transfer",
        ]
        labels = {
            "laptops": _("Aantal laptops"),
            "chromebooks": _("Aantal Chromebooks"),
            "tablets": _("Aantal tablets"),
            "chargers": _("Aantal opladers"),
            "year_from": _("Bouwjaar van het oudste apparaat (ongeveer)"),
            "year_to": _("Bouwjaar van het nieuwste apparaat (ongeveer)"),
            "brands": _("Merken"),
            "already_wiped": _("Wij hebben de gegevens op de apparaten zelf al gewist"),
            "pickup_street": _("Ophaaladres: straat en huisnummer"),
            "pickup_postcode": _("Postcode"),
            "pickup_city": _("Plaats"),
            "pickup_window_start": _("Ophalen kan vanaf"),
            "pickup_window_end": _("Ophalen kan tot en met"),
            "contact_name": _("Contactpersoon voor het ophalen"),
        }
        help_texts = {
            "brands": _("Bijvoorbeeld: Dell, HP, Lenovo, Apple."),
            "already_wiped": _(
                "Ook dan wissen wij alle gegevens nog een keer met erkende software. U krijgt "
                "daarvan een wiscertificaat per serienummer."
            ),
            "pickup_window_start": _("Laat leeg als het niet uitmaakt."),
        }
        widgets = {
            "laptops": forms.NumberInput(attrs={"min": 0}),
            "chromebooks": forms.NumberInput(attrs={"min": 0}),
            "tablets": forms.NumberInput(attrs={"min": 0}),
            "chargers": forms.NumberInput(attrs={"min": 0}),
            "year_from": forms.NumberInput(attrs={"min": MIN_YEAR}),
            "year_to": forms.NumberInput(attrs={"min": MIN_YEAR}),
            "pickup_street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "pickup_postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "pickup_city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "pickup_window_start": DateInput(),
            "pickup_window_end": DateInput(),
            "contact_name": forms.TextInput(attrs={"autocomplete": "name"}),
        }

    def __init__(self, *args, minimum: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.minimum = minimum
        self.fields["contact_phone"].widget.attrs["autocomplete"] = "tel"

    @classmethod
    def initial_for(cls, organisation: Organisation, user) -> dict:
        """The pickup address and contact default to the organisation's and the user's."""
        return {
            "pickup_street": organisation.street,
            "pickup_postcode": organisation.postcode,
            "pickup_city": organisation.city,
            "contact_name": user.get_full_name(),
            "contact_phone": organisation.phone,
        }

    def clean_pickup_postcode(self):
        return normalise_postcode(self.cleaned_data.get("pickup_postcode", ""))

    def _clean_year(self, name):
        year = self.cleaned_data.get(name)
        last = timezone.now().year + 1
        if year is not None and not MIN_YEAR <= year <= last:
            raise forms.ValidationError(
                _("Vul een bouwjaar in tussen %(low)d en %(high)d.")
                % {"low": MIN_YEAR, "high": last}
            )
        return year

    def clean_year_from(self):
        return self._clean_year("year_from")

    def clean_year_to(self):
        return self._clean_year("year_to")

    def clean_pickup_window_start(self):
        start = self.cleaned_data.get("pickup_window_start")
        if start and start < timezone.localdate():
            raise forms.ValidationError(_("Deze datum ligt in het verleden."))
        return start

    def clean(self):
        cleaned = super().clean()
        total = sum(cleaned.get(k) or 0 for k in ("laptops", "chromebooks", "tablets"))
        if total < self.minimum:
            self.add_error(None, below_minimum_message(self.minimum))
        year_from, year_to = cleaned.get("year_from"), cleaned.get("year_to")
        if year_from and year_to and year_from > year_to:
            self.add_error("year_to", _("Dit jaar ligt vóór het bouwjaar van het oudste apparaat."))
        start, end = cleaned.get("pickup_window_start"), cleaned.get("pickup_window_end")
        if start and end and end < start:
            self.add_error("pickup_window_end", _("Deze datum ligt vóór de eerste ophaaldag."))
        return cleaned

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ManifestForm(forms.Form):
    file = forms.FileField(
        label=_("Apparatenlijst (CSV of Excel)"),
        help_text=_("Een .csv- of .xlsx-bestand van hooguit %(mb)d MB en 20.000 apparaten.")
        % {"mb": MAX_BYTES // 2**20},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        error_messages={"required": _("Kies een bestand.")},
    )


class ColumnMappingForm(forms.Form):
    """Which field each column of the donor's list becomes; columns naming people are not
    offered. The fields are named "kolom_<index>" after the column's place in the file."""

    skip_unaccepted = forms.BooleanField(
        label=_("Sla over wat wij niet kunnen aannemen (zoals desktops en telefoons)"),
        required=False,
    )

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— niet gebruiken —"))] + [
            (key, label) for key, label in FIELD_LABELS.items()
        ]
        self.columns = [c for c in plan.columns if c.key != PERSONAL]
        for column in self.columns:
            self.fields[f"kolom_{column.index}"] = forms.ChoiceField(
                label=column.header, choices=choices, required=False, initial=column.key
            )

    def mapping_fields(self):
        return [(c, self[f"kolom_{c.index}"]) for c in self.columns]

    def mapping(self) -> dict[str, str]:
        return {str(c.index): self.cleaned_data[f"kolom_{c.index}"] for c in self.columns}


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Waarom annuleert u? (mag leeg blijven)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReceivedForm(forms.Form):
    """The refurbisher's count of what actually arrived; defaults to the pledged numbers."""

    laptops = forms.IntegerField(label=_("Laptops ontvangen"), min_value=0)
    chromebooks = forms.IntegerField(label=_("Chromebooks ontvangen"), min_value=0)
    tablets = forms.IntegerField(label=_("Tablets ontvangen"), min_value=0)
    chargers = forms.IntegerField(label=_("Opladers ontvangen"), min_value=0)

    @classmethod
    def initial_for(cls, donation: Donation) -> dict:
        return {
            "laptops": donation.laptops,
            "chromebooks": donation.chromebooks,
            "tablets": donation.tablets,
            "chargers": donation.chargers,
        }


class SchedulePickupForm(forms.Form):
    """The coordinator's intermediate page in the admin: which day, and who collects."""

    pickup_date = forms.DateField(label=_("Ophaaldatum"), widget=DateInput())
    refurbisher = forms.ModelChoiceField(
        label=_("Opknappartner"),
        queryset=Organisation.objects.verified().filter(kind=Organisation.Kind.REFURBISHER),
    )

    def clean_pickup_date(self):
        pickup_date = self.cleaned_data["pickup_date"]
        if pickup_date < timezone.localdate():
            raise forms.ValidationError(_("De ophaaldatum ligt in het verleden."))
        return pickup_date
