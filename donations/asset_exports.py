"""The asset lists IT departments already have: which tool wrote a file (by its header), which
of its columns name people (never stored), and how a device's kind, year and sizes follow from
what such an export does hold.

Header sets are written from each tool's public documentation; header names are compared
normalised (lower case, punctuation as spaces), as `manifest._normalise_header` makes them.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from .vocabulary import DeviceKind

# --- Personal data ---------------------------------------------------------------------------

# A header with one of these words names people or their phones and network cards.
PERSONAL_WORDS = frozenset(
    [
        "user",
        "users",
        "upn",
        "username",
        "usernames",
        "userdomain",
        "gebruiker",
        "gebruikers",
        "gebruikersnaam",
        "owner",
        "eigenaar",
        "medewerker",
        "werknemer",
        "employee",
        "persoon",
        "person",
        "contact",
        "contactpersoon",
        "phone",
        "telefoon",
        "telefoonnummer",
        "mobiel",
        "imei",
        "iccid",
        "meid",
        "imsi",
        "msisdn",
        "mac",
        "ip",
        "ipaddress",
        "ipv4",
        "ipv6",
        "macaddress",
        "udid",
    ]
)
PERSONAL_PHRASES = (
    "full name",
    "real name",
    "first name",
    "last name",
    "voornaam",
    "achternaam",
    "volledige naam",
    "checked out to",
    "assigned to",
    "toegewezen aan",
    "uitgeleend aan",
)


def is_personal(name: str) -> bool:
    """Whether a (normalised) header names a column of personal data."""
    if not name:
        return False
    words = name.split()
    for word in words:
        if word in PERSONAL_WORDS or word.startswith("user") or "mail" in word:
            return True
    return any(phrase in name for phrase in PERSONAL_PHRASES)


# --- The tools -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    key: str
    label: str  # the tool's own name, not translated
    # Headers only this tool writes; the file is this tool's when `hits` of them are there.
    marks: frozenset
    hits: int
    # Header -> (field, unit) beyond the general aliases, e.g. Intune's "Total storage" in MB.
    aliases: dict = field(default_factory=dict)
    default_kind: str = ""


EXPORTS = [
    Export(
        "intune",
        "Microsoft Intune",
        frozenset(
            {
                "device name",
                "managed by",
                "ownership",
                "compliance",
                "primary user upn",
                "primary user email address",
                "primary user display name",
                "total storage",
                "free storage",
                "last check in",
                "enrollment date",
                "jailbroken",
                "supervised",
                "encrypted",
                "wi fi mac",
            }
        ),
        4,
        {"total storage": ("storage_gb", "mb"), "os": ("os", "")},
    ),
    Export(
        "snipeit",
        "Snipe-IT",
        frozenset(
            {
                "asset tag",
                "asset name",
                "checked out to",
                "purchase cost",
                "purchase date",
                "model no",
                "order number",
                "supplier",
                "warranty",
                "eol",
                "status",
                "location",
                "company",
            }
        ),
        4,
        {"purchase date": ("date", "")},
    ),
    Export(
        "jamf",
        "Jamf Pro",
        frozenset(
            {
                "computer name",
                "jamf pro computer id",
                "model identifier",
                "total ram mb",
                "processor type",
                "operating system",
                "operating system version",
                "drive capacity mb",
                "boot drive capacity mb",
                "capacity mb",
                "available mb",
                "last inventory update",
                "last check in",
                "po date",
                "warranty expiration",
                "udid",
                "building",
                "department",
            }
        ),
        3,
        {
            "total ram mb": ("ram_gb", "mb"),
            "processor type": ("cpu", ""),
            "drive capacity mb": ("storage_gb", "mb"),
            "boot drive capacity mb": ("storage_gb", "mb"),
            "capacity mb": ("storage_gb", "mb"),
            "operating system": ("os", ""),
            "po date": ("date", ""),
        },
    ),
    Export(
        "google",
        "Google Admin (ChromeOS)",
        frozenset(
            {
                "annotated user",
                "annotated location",
                "annotated asset id",
                "org unit path",
                "last sync",
                "platform version",
                "firmware version",
                "boot mode",
                "auto update expiration",
                "most recent user",
                "recent users",
                "enrollment time",
            }
        ),
        3,
        {"annotated asset id": ("donor_asset_tag", ""), "manufacture date": ("date", "")},
        default_kind=DeviceKind.CHROMEBOOK.value,
    ),
    Export(
        "lansweeper",
        "Lansweeper",
        frozenset(
            {
                "assetname",
                "assettype",
                "assetid",
                "domain",
                "ipaddress",
                "ip address",
                "mac",
                "lastseen",
                "firstseen",
                "userdomain",
                "purchasedate",
                "warrantydate",
            }
        ),
        3,
        {
            "assettype": ("kind", ""),
            "memory": ("ram_gb", "mb"),
            "purchasedate": ("date", ""),
            "os": ("os", ""),
        },
    ),
]
OWN_TEMPLATE = Export(
    "template",
    "",  # named in Dutch in `export_label`
    frozenset(
        {"serienummer", "type", "merk", "model", "bouwjaar", "processor", "werkgeheugen gb"}
        | {"opslag gb", "eigen code"}
    ),
    7,
)


def recognise(names: list[str]) -> Export | None:
    """The tool that wrote a file with these (normalised) headers, or None."""
    present = set(names)
    best, best_hits = None, 0
    for export in [OWN_TEMPLATE, *EXPORTS]:
        hits = len(export.marks & present)
        if hits >= export.hits and hits > best_hits:
            best, best_hits = export, hits
    return best


def export_label(export: Export | None) -> str:
    if export is None:
        return ""
    if export is OWN_TEMPLATE:
        return str(_("ons voorbeeldbestand"))
    return export.label


# --- Units -----------------------------------------------------------------------------------

UNITS = {"mb": 1 / 1024, "gb": 1, "tb": 1000}


def unit_of_header(name: str) -> str:
    """ "mb", "gb" or "tb" when the header says so ("Total RAM MB", "opslag (GB)"), else ""."""
    for word in name.split():
        if word in UNITS:
            return word
    return ""


# --- The kind of device ----------------------------------------------------------------------

# Words a category column may hold, Dutch and English, singular and plural.
KIND_WORDS = {
    "laptop": DeviceKind.LAPTOP,
    "laptops": DeviceKind.LAPTOP,
    "notebook": DeviceKind.LAPTOP,
    "notebooks": DeviceKind.LAPTOP,
    "chromebook": DeviceKind.CHROMEBOOK,
    "chromebooks": DeviceKind.CHROMEBOOK,
    "tablet": DeviceKind.TABLET,
    "tablets": DeviceKind.TABLET,
    "ipad": DeviceKind.TABLET,
    "ipads": DeviceKind.TABLET,
}
# Kinds we do not take, with the words that name them; the value is shown to the donor.
NOT_TAKEN = {
    "desktop": _("een desktop"),
    "phone": _("een telefoon"),
    "printer": _("een printer"),
    "server": _("een server"),
    "monitor": _("een beeldscherm"),
}
NOT_TAKEN_WORDS = {
    **dict.fromkeys(
        [
            "desktop",
            "desktops",
            "pc",
            "pcs",
            "werkstation",
            "werkstations",
            "workstation",
            "workstations",
            "all-in-one",
        ],
        "desktop",
    ),
    **dict.fromkeys(
        [
            "phone",
            "phones",
            "telefoon",
            "telefoons",
            "smartphone",
            "smartphones",
            "iphone",
            "iphones",
        ],
        "phone",
    ),
    **dict.fromkeys(["printer", "printers"], "printer"),
    **dict.fromkeys(["server", "servers"], "server"),
    **dict.fromkeys(["monitor", "monitors", "beeldscherm", "beeldschermen", "scherm"], "monitor"),
}
# Model names, most specific first.
MODEL_RULES = [
    (re.compile(r"chromebook", re.I), DeviceKind.CHROMEBOOK.value),
    (
        re.compile(
            r"\bipad|galaxy tab|\btab [as]\d|surface go|surface pro|mediapad|lenovo tab", re.I
        ),
        DeviceKind.TABLET.value,
    ),  # fmt: skip
    (re.compile(r"\biphone|\bpixel \d|galaxy [asz]\d", re.I), "phone"),
    (
        re.compile(
            r"\bimac|mac mini|mac pro|mac studio|optiplex|prodesk|elitedesk|thinkcentre"
            r"|veriton|vostro \d+ desktop|\btower\b|\bsff\b",
            re.I,
        ),
        "desktop",
    ),  # fmt: skip
    (
        re.compile(
            r"macbook|thinkpad|latitude|elitebook|probook|zbook|surface laptop|xps"
            r"|inspiron|ideapad|yoga|travelmate|aspire|vivobook|zenbook|notebook|laptop",
            re.I,
        ),
        DeviceKind.LAPTOP.value,
    ),  # fmt: skip
]
OS_RULES = [
    (re.compile(r"chrome ?os|chromium ?os", re.I), DeviceKind.CHROMEBOOK.value),
    (re.compile(r"ipados|android", re.I), DeviceKind.TABLET.value),
    (
        re.compile(r"windows|mac ?os|os x|\bmac\b|linux|ubuntu|debian|fedora", re.I),
        DeviceKind.LAPTOP.value,
    ),  # fmt: skip
]


def kind_from_word(text: str) -> str | None:
    """A kind (or a kind we do not take) from a category word, or None."""
    word = " ".join(text.lower().split())
    kind = KIND_WORDS.get(word)
    if kind is not None:
        return kind.value
    return NOT_TAKEN_WORDS.get(word)


def kind_from_texts(category: str, model: str, os: str) -> tuple[str | None, str]:
    """The kind from the model name, else the operating system (also as a category holds it:
    Lansweeper's asset type is "Windows"), with the text it came from; (None, "") if none."""
    for text in (category, model):
        if text:
            for pattern, kind in MODEL_RULES:
                if pattern.search(text):
                    return kind, text
    for text in (category, os, model):
        if text:
            for pattern, kind in OS_RULES:
                if pattern.search(text):
                    return kind, text
    return None, ""


YEAR_RE = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")


def year_from_date(text: str) -> int | None:
    """The year of a date as tools write it: 2021-03-15, 15-03-2021, 3/15/2021 10:00."""
    match = YEAR_RE.search(text)
    return int(match.group(1)) if match else None
