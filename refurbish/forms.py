from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from donations.models import DeviceKind, Grade, OperatingSystem
from donations.vocabulary import normalise_asset_tag, os_values_for

from .asset_tags import ALPHABET, TAG_LENGTH, validate_asset_tag
from .erasure_logs import MAX_LOG_BYTES
from .models import (
    DeviceInspection,
    ErasureResult,
    ErasureStandard,
    ErasureTechnique,
    PartCondition,
    RecycleReason,
)
from .services import ErasureInput, InspectionInput, RecycleInput

YES_NO = [("yes", _("Ja")), ("no", _("Nee"))]


def _yes_no(label, **kwargs):
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        **kwargs,
    )


class ScanForm(forms.Form):
    serial = forms.CharField(
        label=_("Serienummer"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "spellcheck": "false"}
        ),
        error_messages={"required": _("Scan of typ een serienummer.")},
    )
    kind = forms.ChoiceField(
        label=_("Soort, voor apparaten die niet op de lijst staan"),
        choices=DeviceKind.choices,
        initial=DeviceKind.LAPTOP,
    )


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ErasureForm(forms.Form):
    standard = forms.ChoiceField(
        label=_("Standaard (NIST SP 800-88)"), choices=ErasureStandard.choices
    )
    technique = forms.ChoiceField(label=_("Techniek"), choices=ErasureTechnique.choices)
    tool = forms.CharField(label=_("Hulpmiddel"), max_length=100, required=False)
    tool_version = forms.CharField(label=_("Versie"), max_length=50, required=False)
    method = forms.CharField(label=_("Methode"), max_length=100, required=False)
    verification = forms.CharField(
        label=_("Controle"),
        max_length=100,
        required=False,
        help_text=_("Hoe is gecontroleerd dat de gegevens weg zijn?"),
    )
    started_at = forms.DateTimeField(label=_("Begonnen op"), required=False, widget=DateTimeInput)
    ended_at = forms.DateTimeField(label=_("Klaar op"), required=False, widget=DateTimeInput)
    result = forms.ChoiceField(
        label=_("Resultaat"), choices=ErasureResult.choices, widget=forms.RadioSelect
    )
    failure_reason = forms.CharField(
        label=_("Waarom mislukt?"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence = forms.FileField(
        label=_("Bewijsbestand (rapport of log)"),
        required=False,
        help_text=_("Alleen coördinatoren en uw eigen organisatie kunnen dit bestand openen."),
    )

    def clean_evidence(self):
        evidence = self.cleaned_data.get("evidence")
        if evidence and evidence.size > MAX_LOG_BYTES:
            raise ValidationError(_("Het bestand is te groot (maximaal 20 MB)."))
        return evidence

    def clean(self):
        cleaned = super().clean()
        destroy = cleaned.get("standard") == ErasureStandard.DESTROY
        physical = cleaned.get("technique") == ErasureTechnique.PHYSICAL_DESTRUCTION
        if "standard" in cleaned and "technique" in cleaned and destroy != physical:
            self.add_error(
                "technique", _("Destroy hoort bij fysiek vernietigen, en alleen daarbij.")
            )
        if cleaned.get("result") == ErasureResult.FAILED and not cleaned.get("failure_reason"):
            self.add_error("failure_reason", _("Geef aan waarom het wissen mislukt is."))
        start, end = cleaned.get("started_at"), cleaned.get("ended_at")
        if start and end and end < start:
            self.add_error("ended_at", _("Het einde ligt voor het begin."))
        return cleaned

    def to_input(self) -> ErasureInput:
        data = self.cleaned_data
        evidence = data.get("evidence")
        return ErasureInput(
            standard=data["standard"],
            technique=data["technique"],
            result=data["result"],
            tool=data["tool"],
            tool_version=data["tool_version"],
            method=data["method"],
            verification=data["verification"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            failure_reason=data["failure_reason"],
            evidence_name=evidence.name if evidence else "",
            evidence_content=evidence.read() if evidence else None,
        )


def _part(label):
    return forms.ChoiceField(
        label=label,
        choices=PartCondition.choices,
        initial=PartCondition.WORKS,
        widget=forms.RadioSelect,
    )


class InspectionForm(forms.Form):
    def __init__(self, *args, kind: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if kind:  # only the operating systems this kind of device can run
            self.fields["os_installed"].choices = [("", "---------"), *os_choices(kind)]

    boots = _yes_no(_("Start het apparaat op?"), initial="yes")
    battery_health_pct = forms.IntegerField(
        label=_("Conditie accu (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=format_lazy(
            _("Leeg laten als het apparaat geen accu heeft. Onder {pct}% telt de accu als defect."),
            pct=DeviceInspection.BATTERY_MIN_HEALTH,
        ),
    )
    screen = _part(_("Scherm"))
    keyboard = _part(_("Toetsenbord"))
    touchpad = _part(_("Touchpad"))
    wifi = _part(_("Wifi"))
    webcam = _part(_("Webcam"))
    ports = _part(_("Aansluitingen (USB, laden, audio)"))
    cpu = forms.CharField(label=_("Processor"), max_length=150, required=False)
    ram_gb = forms.IntegerField(
        label=_("Werkgeheugen (GB)"), min_value=1, max_value=1024, required=False
    )
    storage_gb = forms.IntegerField(
        label=_("Opslag (GB)"), min_value=1, max_value=100_000, required=False
    )
    grade = forms.ChoiceField(
        label=_("Kwaliteit"), choices=[("", "---------"), *Grade.choices], required=False
    )
    os_installed = forms.ChoiceField(
        label=_("Geïnstalleerd besturingssysteem"),
        choices=[("", "---------"), *OperatingSystem.choices],
        required=False,
    )
    charger_included = _yes_no(_("Oplader meegeleverd?"))
    notes = forms.CharField(
        label=_("Opmerkingen"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = self.to_input()
        if data.passes():
            if not cleaned.get("grade"):
                self.add_error("grade", _("Kies de kwaliteit (A, B of C)."))
            if not cleaned.get("os_installed"):
                self.add_error("os_installed", _("Kies het geïnstalleerde besturingssysteem."))
        return cleaned

    def to_input(self) -> InspectionInput:
        data = self.cleaned_data
        return InspectionInput(
            boots=data["boots"],
            battery_health_pct=data.get("battery_health_pct"),
            screen=data["screen"],
            keyboard=data["keyboard"],
            touchpad=data["touchpad"],
            wifi=data["wifi"],
            webcam=data["webcam"],
            ports=data["ports"],
            cpu=data.get("cpu", ""),
            ram_gb=data.get("ram_gb"),
            storage_gb=data.get("storage_gb"),
            grade=data.get("grade", ""),
            os_installed=data.get("os_installed", ""),
            charger_included=data.get("charger_included"),
            notes=data.get("notes", ""),
        )


def os_choices(kind: str | None = None) -> list[tuple[str, str]]:
    """The operating systems a device of this kind can run (all of them without a kind)."""
    values = os_values_for(kind) if kind else OperatingSystem.values
    return [(value, label) for value, label in OperatingSystem.choices if value in values]


class BulkGradeForm(forms.Form):
    """The bulk grade step: every checklist item works; grade and charger for all, the
    operating system per kind of device (Windows on laptops, iPadOS or Android on tablets)."""

    grade = forms.ChoiceField(label=_("Kwaliteit"), choices=Grade.choices)
    os_laptop = forms.ChoiceField(
        label=_("Besturingssysteem op de laptops"),
        choices=[("", _("(geen laptops gekozen)")), *os_choices(DeviceKind.LAPTOP)],
        required=False,
    )
    os_chromebook = forms.ChoiceField(
        label=_("Besturingssysteem op de Chromebooks"),
        choices=[("", _("(geen Chromebooks gekozen)")), *os_choices(DeviceKind.CHROMEBOOK)],
        required=False,
    )
    os_tablet = forms.ChoiceField(
        label=_("Besturingssysteem op de tablets"),
        choices=[("", _("(geen tablets gekozen)")), *os_choices(DeviceKind.TABLET)],
        required=False,
    )
    charger_included = _yes_no(_("Oplader meegeleverd?"))
    all_working = forms.BooleanField(
        label=_("Alle onderdelen van de checklist werken bij deze apparaten"),
        error_messages={
            "required": _("Bevestig dat alles werkt, of test de apparaten één voor één.")
        },
    )

    def to_input(self) -> InspectionInput:
        data = self.cleaned_data
        return InspectionInput.all_working(
            grade=data["grade"],
            os_by_kind={kind: data[f"os_{kind}"] for kind in DeviceKind.values},
            charger_included=data["charger_included"],
        )


class RecycleForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reden"), choices=RecycleReason.choices, widget=forms.RadioSelect
    )
    storage_destroyed = forms.BooleanField(
        label=_("De opslag (schijf) is vernietigd"),
        required=False,
        help_text=_("Verplicht als het apparaat nog niet gewist is of het wissen mislukte."),
    )
    note = forms.CharField(label=_("Toelichting"), max_length=500, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == RecycleReason.ERASURE_FAILED and not cleaned.get(
            "storage_destroyed"
        ):
            self.add_error(
                "storage_destroyed", _("Als wissen mislukt is, moet de opslag vernietigd worden.")
            )
        return cleaned

    def to_input(self) -> RecycleInput:
        data = self.cleaned_data
        return RecycleInput(
            reason=data["reason"],
            storage_destroyed=data["storage_destroyed"],
            note=data["note"],
        )


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple) and data:
            return [single(item, initial) for item in data]
        return [single(data or None, initial)]


class LogUploadForm(forms.Form):
    logs = MultipleFileField(
        label=_("Wislogs (nwipe of ShredOS)"),
        help_text=_("Kies één of meer logbestanden, of een zip-bestand met logs."),
        error_messages={"required": _("Kies minstens één logbestand.")},
    )


class StationTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Naam van het wisstation"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Bijvoorbeeld: Wisstation 1")}),
    )


class VerifyForm(forms.Form):
    code = forms.CharField(label=_("Certificaatcode"), max_length=64)

    def clean_code(self):
        return normalise_asset_tag(self.cleaned_data["code"])


class DeviceFindForm(forms.Form):
    """An asset tag (checked with its check symbol) or a serial number."""

    q = forms.CharField(
        label=_("Apparaatcode of serienummer"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self):
        cleaned = super().clean()
        value = " ".join(cleaned.get("q", "").split())
        cleaned.update(serial=value, asset_tag="", tag_error="")
        tag = normalise_asset_tag(value)
        if len(tag) == TAG_LENGTH and set(tag) <= set(ALPHABET):
            try:
                cleaned["asset_tag"] = validate_asset_tag(tag)
            except ValidationError as error:
                # Said only when no serial number matches either (10 symbols may be a serial).
                cleaned["tag_error"] = error.messages[0]
        return cleaned
