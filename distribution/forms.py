"""Forms of the coordinators' allocation pages (the policy, one field per weight, and
allocating a device by hand), of shipping and delivery, hand-out reports and the helpdesk."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from allemaal.forms import FreeTextCheck
from donations.admin_search import devices_with_code
from donations.models import Device
from donations.vocabulary import CATEGORIES
from helprequests.models import HelpRequest, TargetGroup
from refurbish.asset_tags import format_asset_tag

from .models import CARRIERS_WITHOUT_TRACKING, Carrier, ShipmentItem, SupportContact
from .solver_classes import GRADES, REGION_RELATIONS, URGENCIES, WEIGHT_KEYS, Policy

WEIGHT_LABELS = {
    "pupils_no_home_schooling": _("Leerlingen zonder toegang tot thuisonderwijs"),
    "pupils": _("Andere leerlingen en studenten"),
    "low_income_families": _("Gezinnen met een laag inkomen"),
    "isolated_elderly": _("Ouderen in een isolement"),
    "disability": _("Mensen met een beperking"),
    "newcomers": _("Nieuwkomers"),
    "other": _("Andere doelgroepen"),
}
URGENCY_LABELS = {
    "high": _("Urgentie hoog"),
    "normal": _("Urgentie normaal"),
    "low": _("Urgentie laag"),
}
REGION_LABELS = {
    "same": _("Apparaat in dezelfde provincie"),
    "neighbour": _("Apparaat in een buurprovincie"),
    "elsewhere": _("Apparaat in een andere provincie"),
}
CATEGORY_LABELS = {"laptop": _("laptop"), "tablet": _("tablet")}
SPEC_LABELS = {"ram_gb": _("werkgeheugen (GB)"), "storage_gb": _("opslag (GB)")}
SCORE = {"min_value": -1000, "max_value": 1000}
MAX_TIERS = len(WEIGHT_KEYS)


def _points(label, **extra) -> forms.IntegerField:
    return forms.IntegerField(label=label, **{**SCORE, **extra})


def _spec_name(group: str, category: str, spec: str) -> str:
    return f"min_{group}_{category}_{spec}"


def _policy_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for key in WEIGHT_KEYS:
        fields[f"weight_{key}"] = _points(WEIGHT_LABELS[key])
    for urgency in URGENCIES:
        fields[f"urgency_{urgency}"] = _points(URGENCY_LABELS[urgency])
    fields["need_by_max_bonus"] = _points(
        _("Punten als de gewenste datum vandaag is of voorbij"), min_value=0
    )
    fields["need_by_horizon_days"] = forms.IntegerField(
        label=_("Vanaf hoeveel dagen vooruit de gewenste datum niet meer telt"),
        min_value=1,
        max_value=3650,
    )
    fields["aging_points_per_day"] = _points(_("Punten per dag wachten"), min_value=0)
    fields["aging_max"] = forms.IntegerField(
        label=_("Hoogstens zoveel punten voor wachten"), min_value=0, max_value=100_000
    )
    for relation in REGION_RELATIONS:
        fields[f"region_{relation}"] = _points(REGION_LABELS[relation])
    for grade in GRADES:
        fields[f"grade_{grade}"] = _points(_("Klasse %(g)s") % {"g": grade})
    fields["org_cap_percent"] = forms.DecimalField(
        label=_("Eerlijk deel per organisatie (%)"),
        min_value=Decimal("0.1"),
        max_value=Decimal("100"),
        decimal_places=1,
        help_text=_(
            "Van de klaarstaande apparaten plus wat alle organisaties al goedgekeurd hebben en "
            "nog niet ontvingen. Wat een organisatie al heeft, telt mee. Binnen hun deel gaan "
            "organisaties eerst; wat niemand anders kan gebruiken, gaat toch de deur uit."
        ),
    )
    for key in WEIGHT_KEYS:
        fields[f"tier_{key}"] = forms.IntegerField(
            label=_("Prioriteitsgroep van: %(group)s") % {"group": WEIGHT_LABELS[key]},
            min_value=1,
            max_value=MAX_TIERS,
            help_text=_(
                "1 gaat voor alles; een lagere groep krijgt alleen wat een hogere niet kan "
                "gebruiken."
            ),
        )
    for number in range(1, MAX_TIERS + 1):
        fields[f"tier_reserve_{number}"] = forms.DecimalField(
            label=_("Gereserveerd voor prioriteitsgroep %(n)d (%% van een ronde)") % {"n": number},
            min_value=Decimal("0"),
            max_value=Decimal("100"),
            decimal_places=1,
            required=False,
        )
    fields["tier_aging_days"] = forms.IntegerField(
        label=_("Na zoveel dagen wachten een prioriteitsgroep hoger (0 = uit)"),
        min_value=0,
        max_value=3650,
        help_text=_(
            "Uit tenzij u het aanzet: dan gaat een aanvraag per zoveel dagen een groep omhoog."
        ),
    )
    for group, group_label in TargetGroup.choices:
        for category in CATEGORIES:
            for spec, spec_label in SPEC_LABELS.items():
                fields[_spec_name(group, category, spec)] = forms.IntegerField(
                    label=_("%(group)s: %(category)s, minimaal %(spec)s")
                    % {
                        "group": group_label,
                        "category": CATEGORY_LABELS[category],
                        "spec": spec_label,
                    },
                    min_value=0,
                    max_value=100_000,
                    required=False,
                )
        fields[f"grades_{group}"] = forms.MultipleChoiceField(
            label=_("%(group)s: toegestane klassen") % {"group": group_label},
            choices=[(g, g) for g in GRADES],
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("Kies ten minste één klasse.")},
        )
    return fields


class PolicyForm(forms.Form):
    """Every number and rule of the priority policy as its own field (never raw JSON)."""

    def __init__(self, *args, policy: Policy | None = None, **kwargs):
        kwargs.setdefault("initial", policy_initial(policy or Policy()))
        super().__init__(*args, **kwargs)
        self.fields.update(_policy_fields())

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                self.policy = self._policy(cleaned)
            except ValueError as exc:
                raise forms.ValidationError(
                    _("Deze combinatie van waarden kan niet: %(error)s") % {"error": exc}
                ) from exc
        return cleaned

    def _policy(self, data) -> Policy:
        min_specs: dict = {}
        for group in TargetGroup.values:
            for category in CATEGORIES:
                spec = {
                    key: data[_spec_name(group, category, key)]
                    for key in SPEC_LABELS
                    if data.get(_spec_name(group, category, key))
                }
                if spec:
                    min_specs.setdefault(group, {})[category] = spec
        numbers = sorted({data[f"tier_{key}"] for key in WEIGHT_KEYS})
        tiers = [[key for key in WEIGHT_KEYS if data[f"tier_{key}"] == n] for n in numbers]
        unused = [
            n for n in range(1, MAX_TIERS + 1) if n not in numbers and data.get(f"tier_reserve_{n}")
        ]
        if unused:
            raise ValueError(
                _("er is een reservering voor een prioriteitsgroep zonder doelgroepen")
            )
        reserve = [float(data.get(f"tier_reserve_{n}") or 0) / 100 for n in numbers]
        return Policy(
            tiers=tiers,
            tier_reserve=reserve,
            tier_aging_days=data["tier_aging_days"],
            group_weights={key: data[f"weight_{key}"] for key in WEIGHT_KEYS},
            urgency_bonus={u: data[f"urgency_{u}"] for u in URGENCIES},
            need_by_max_bonus=data["need_by_max_bonus"],
            need_by_horizon_days=data["need_by_horizon_days"],
            aging_points_per_day=data["aging_points_per_day"],
            aging_max=data["aging_max"],
            region_bonus={r: data[f"region_{r}"] for r in REGION_RELATIONS},
            grade_bonus={g: data[f"grade_{g}"] for g in GRADES},
            org_cap_share=float(data["org_cap_percent"]) / 100,
            min_specs=min_specs,
            allowed_grades={group: sorted(data[f"grades_{group}"]) for group in TargetGroup.values},
        )

    def sections(self) -> list[tuple[str, list]]:
        """The fields in the groups the page shows them in."""
        names = {
            _("Voorrang: prioriteitsgroepen, reserveringen en doorschuiven"): [
                f"tier_{k}" for k in WEIGHT_KEYS
            ]
            + [f"tier_reserve_{n}" for n in range(1, MAX_TIERS + 1)]
            + ["tier_aging_days"],
            _("Doelgroepen (punten binnen een prioriteitsgroep)"): [
                f"weight_{k}" for k in WEIGHT_KEYS
            ],
            _("Urgentie en gewenste datum"): [f"urgency_{u}" for u in URGENCIES]
            + ["need_by_max_bonus", "need_by_horizon_days"],
            _("Wachttijd"): ["aging_points_per_day", "aging_max"],
            _("Regio en klasse"): [f"region_{r}" for r in REGION_RELATIONS]
            + [f"grade_{g}" for g in GRADES],
            _("Eerlijke verdeling"): ["org_cap_percent"],
        }
        return [(title, [self[name] for name in fields]) for title, fields in names.items()]

    def spec_rows(self) -> list[tuple[str, list]]:
        """Per target group: its minimum specs per type and its allowed grades."""
        rows = []
        for group, label in TargetGroup.choices:
            cells = [
                self[_spec_name(group, category, spec)]
                for category in CATEGORIES
                for spec in SPEC_LABELS
            ]
            rows.append((label, [*cells, self[f"grades_{group}"]]))
        return rows


def policy_initial(policy: Policy) -> dict:
    initial = {f"weight_{key}": policy.group_weights[key] for key in WEIGHT_KEYS}
    initial |= {f"urgency_{u}": policy.urgency_bonus[u] for u in URGENCIES}
    initial |= {f"region_{r}": policy.region_bonus[r] for r in REGION_RELATIONS}
    initial |= {f"grade_{g}": policy.grade_bonus[g] for g in GRADES}
    initial |= {
        "need_by_max_bonus": policy.need_by_max_bonus,
        "need_by_horizon_days": policy.need_by_horizon_days,
        "aging_points_per_day": policy.aging_points_per_day,
        "aging_max": policy.aging_max,
        "org_cap_percent": Decimal(str(round(policy.org_cap_share * 100, 1))),
        "tier_aging_days": policy.tier_aging_days,
    }
    for number, (tier, share) in enumerate(zip(policy.tiers, policy.tier_reserve, strict=True), 1):
        initial |= {f"tier_{key}": number for key in tier}
        initial[f"tier_reserve_{number}"] = Decimal(str(round(share * 100, 1)))
    for group in TargetGroup.values:
        for category in CATEGORIES:
            spec = policy.minimum(group, category) or {}
            for key in SPEC_LABELS:
                initial[_spec_name(group, category, key)] = spec.get(key)
        grades = policy.allowed_grades.get(group)
        initial[f"grades_{group}"] = list(GRADES if grades is None else grades)
    return initial


class PolicyVersionForm(PolicyForm):
    note = forms.CharField(
        label=_("Wat verandert er, en waarom?"),
        max_length=250,
        help_text=_("Komt bij de versie te staan, zodat collega's later zien waarom."),
    )


REQUEST_REFERENCE_RE = re.compile(r"^\s*(?:AAN-\d{4}-)?0*(\d{1,9})\s*$", re.IGNORECASE)


class AllocateByHandForm(forms.Form):
    device = forms.CharField(
        label=_("Apparaatcodes of serienummers"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=_(
            "Eén per regel (of gescheiden door komma's). Elk apparaat moet klaar voor gebruik zijn."
        ),
    )
    help_request = forms.CharField(
        label=_("Hulpaanvraag"),
        max_length=20,
        help_text=_("Het nummer, zoals AAN-2026-00042 of 42. De aanvraag moet goedgekeurd zijn."),
    )
    reason = forms.CharField(
        label=_("Reden"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Waarom dit apparaat met de hand naar deze aanvraag gaat."),
    )

    def clean_device(self) -> list[Device]:
        typed = [c.strip() for c in re.split(r"[\n,;]+", self.cleaned_data["device"]) if c.strip()]
        devices, unknown = [], []
        for code in typed:
            device = Device.objects.filter(pk__in=devices_with_code(code)).first()
            if device is None:
                unknown.append(code)
            elif device not in devices:
                devices.append(device)
        if unknown:
            raise forms.ValidationError(
                _("Er is geen apparaat met deze apparaatcode of dit serienummer: %(codes)s.")
                % {"codes": ", ".join(unknown)}
            )
        return devices

    def clean_help_request(self) -> HelpRequest:
        match = REQUEST_REFERENCE_RE.match(self.cleaned_data["help_request"])
        request = HelpRequest.objects.filter(pk=int(match.group(1))).first() if match else None
        if request is None:
            raise forms.ValidationError(_("Er is geen hulpaanvraag met dit nummer."))
        return request


# --- Shipping, delivery, hand-out (refurbishers and requesting organisations) ---------------------


class ScanForm(forms.Form):
    """One asset tag, typed or scanned from the label (checked by the service)."""

    tag = forms.CharField(
        label=_("Apparaatcode"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
        error_messages={"required": _("Scan of typ een apparaatcode.")},
    )


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(label=_("Vervoerder"), choices=[("", "---")] + Carrier.choices)
    tracking_code = forms.CharField(
        label=_("Track-and-tracecode"),
        max_length=100,
        required=False,
        help_text=_("Niet nodig als u de apparaten zelf brengt."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self):
        cleaned = super().clean()
        carrier = cleaned.get("carrier")
        if (
            carrier
            and carrier not in CARRIERS_WITHOUT_TRACKING
            and not cleaned.get("tracking_code", "").strip()
        ):
            self.add_error("tracking_code", _("Vul de track-and-tracecode van de vervoerder in."))
        return cleaned


class DeliveryForm(FreeTextCheck, forms.Form):
    """Per device of a shipment: received, damaged (say what) or missing."""

    free_text_fields = ("note",)

    OUTCOMES = [
        (ShipmentItem.Outcome.RECEIVED, _("Ontvangen")),
        (ShipmentItem.Outcome.DAMAGED, _("Beschadigd")),
        (ShipmentItem.Outcome.MISSING, _("Ontbreekt")),
    ]

    note = forms.CharField(
        label=_("Opmerking (niet verplicht)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=format_asset_tag(item.device.asset_tag),
                choices=self.OUTCOMES,
                initial=ShipmentItem.Outcome.RECEIVED,
                widget=forms.RadioSelect,
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Wat is er beschadigd?"), required=False, max_length=500
            )

    def clean(self):
        cleaned = super().clean()
        for item in self.items:
            damaged = cleaned.get(f"item_{item.pk}") == ShipmentItem.Outcome.DAMAGED
            if damaged and not cleaned.get(f"note_{item.pk}", "").strip():
                self.add_error(f"note_{item.pk}", _("Schrijf kort wat er beschadigd is."))
        return cleaned

    def rows(self):
        """(item, outcome field, note field) per device, for the template."""
        return [(item, self[f"item_{item.pk}"], self[f"note_{item.pk}"]) for item in self.items]

    def outcomes(self) -> dict[int, str]:
        return {item.pk: self.cleaned_data[f"item_{item.pk}"] for item in self.items}

    def notes(self) -> dict[int, str]:
        return {item.pk: self.cleaned_data.get(f"note_{item.pk}", "") for item in self.items}


class HandoutForm(FreeTextCheck, forms.Form):
    free_text_fields = ("note",)

    devices_handed_out = forms.IntegerField(
        label=_("Hoeveel apparaten heeft u uitgegeven?"), min_value=0
    )
    people_reached = forms.IntegerField(
        label=_("Hoeveel mensen hebben er baat bij?"),
        min_value=0,
        help_text=_(
            "Bijvoorbeeld: een laptop voor een gezin met drie schoolgaande kinderen telt als drie."
        ),
    )
    note = forms.CharField(
        label=_("Toelichting (niet verplicht)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Noem geen namen of andere persoonsgegevens van de mensen die u helpt, zeker niet "
            "van kinderen."
        ),
    )


# --- Helpdesk -------------------------------------------------------------------------------------


class SupportContactForm(FreeTextCheck, forms.Form):
    free_text_fields = ("summary",)

    channel = forms.ChoiceField(
        label=_("Kanaal"),
        choices=SupportContact.Channel.choices,
        initial=SupportContact.Channel.PHONE,
        widget=forms.RadioSelect,
    )
    category = forms.ChoiceField(
        label=_("Onderwerp"), choices=[("", "---")] + SupportContact.Category.choices
    )
    summary = forms.CharField(
        label=_("Vraag en wat u heeft gedaan"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Geen namen, adressen of andere persoonsgegevens van de beller."),
    )
    outcome = forms.ChoiceField(
        label=_("Uitkomst"),
        choices=SupportContact.Outcome.choices,
        initial=SupportContact.Outcome.RESOLVED,
        widget=forms.RadioSelect,
    )


class ReturnForm(FreeTextCheck, forms.Form):
    free_text_fields = ("reason",)

    reason = forms.CharField(
        label=_("Reden van de retour"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    replacement = forms.TypedChoiceField(
        label=_("Heeft de organisatie een ander apparaat nodig?"),
        choices=[("1", _("Ja, stuur een vervangend apparaat")), ("0", _("Nee"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ResolveForm(FreeTextCheck, forms.Form):
    free_text_fields = ("note",)

    note = forms.CharField(
        label=_("Hoe is het opgelost?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
