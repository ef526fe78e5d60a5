from django import forms
from django.utils.translation import gettext_lazy as _

from allemaal.postcodes import Province
from helprequests.models import TargetGroup

from .dashboard import Filters

PERIOD_CHOICES = [
    ("all", _("Alles")),
    ("4w", _("Laatste 4 weken")),
    ("12w", _("Laatste 12 weken")),
    ("26w", _("Laatste 26 weken")),
    ("52w", _("Laatste 52 weken")),
]


class DashboardFilterForm(forms.Form):
    """The dashboard's filters (GET); an unknown value is said beside its field and ignored."""

    periode = forms.ChoiceField(label=_("Periode"), choices=PERIOD_CHOICES, required=False)
    provincie = forms.ChoiceField(
        label=_("Provincie"),
        choices=[("", _("Alle provincies")), *Province.CHOICES],
        required=False,
    )
    doelgroep = forms.ChoiceField(
        label=_("Doelgroep"),
        choices=[("", _("Alle doelgroepen")), *TargetGroup.choices],
        required=False,
    )
    opknappartner = forms.TypedChoiceField(
        label=_("Opknappartner"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, refurbishers: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opknappartner"].choices = [
            ("", _("Alle opknappartners")),
            *sorted(refurbishers.items(), key=lambda item: item[1]),
        ]

    def filters(self) -> Filters:
        """The valid filters (an invalid field is reported beside it and left out)."""
        if not self.is_bound:
            return Filters()
        self.is_valid()
        data = self.cleaned_data
        return Filters(
            period=data.get("periode") or "all",
            province=data.get("provincie") or "",
            target_group=data.get("doelgroep") or "",
            refurbisher_id=data.get("opknappartner"),
        )
