"""The plain-language explanation that goes with every device (B1 level, Dutch first), shared by
the instruction sheet in the box and the public help pages.

The steps depend on the operating system the refurbisher installed (`Device.os_installed`);
a device without one gets the steps of its kind's usual system. Texts are translated when
rendered (`?lang=en` on the sheet, the language switch on the help pages).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Help pages per device type: /hulp/<slug>/ (the QR code on the sheet points there).
HELP_KINDS = {
    "laptop": _("Laptop"),
    "chromebook": _("Chromebook"),
    "tablet": _("Tablet"),
}
HELP_TITLES = {
    "laptop": _("Hulp bij uw laptop"),
    "chromebook": _("Hulp bij uw Chromebook"),
    "tablet": _("Hulp bij uw tablet"),
}
# Operating systems by family; the family decides the steps.
FAMILY_OF_OS = {
    "windows11": "windows",
    "windows10": "windows",
    "chromeos": "chromeos",
    "chromeos_flex": "chromeos",
    "ubuntu": "linux",
    "linux": "linux",
    "ipados": "ipados",
    "android": "android",
}
DEFAULT_FAMILY = {"laptop": "windows", "chromebook": "chromeos", "tablet": "android"}
# The families a help page explains, in this order.
FAMILIES_OF_KIND = {
    "laptop": ("windows", "linux"),
    "chromebook": ("chromeos",),
    "tablet": ("ipados", "android"),
}
FAMILY_NAMES = {
    "windows": "Windows",
    "chromeos": "ChromeOS",
    "linux": "Linux (Ubuntu)",
    "ipados": _("iPad (iPadOS)"),
    "android": "Android",
}

SWITCH_ON = {
    "laptop": [
        _("Klap het scherm open."),
        _(
            "Druk kort op de aan/uit-knop. Die zit meestal rechtsboven op het toetsenbord of aan "
            "de zijkant."
        ),
        _(
            "Gebeurt er niets? Dan is de accu misschien leeg. Steek de oplader in het stopcontact "
            "en in de laptop. Wacht vijf minuten en probeer het opnieuw."
        ),
    ],
    "chromebook": [
        _("Klap het scherm open. De Chromebook gaat vaak vanzelf aan."),
        _("Gaat hij niet aan? Druk kort op de aan/uit-knop, rechtsboven op het toetsenbord."),
        _(
            "Gebeurt er niets? Dan is de accu misschien leeg. Steek de oplader in het stopcontact "
            "en in de Chromebook. Wacht vijf minuten en probeer het opnieuw."
        ),
    ],
    "tablet": [
        _(
            "Houd de aan/uit-knop drie seconden ingedrukt. Die zit aan de bovenkant of aan de "
            "zijkant."
        ),
        _("Laat de knop los als het scherm oplicht."),
        _(
            "Blijft het scherm zwart? Dan is de accu misschien leeg. Steek de oplader in het "
            "stopcontact en in de tablet. Wacht tien minuten en probeer het opnieuw."
        ),
    ],
}

FIRST_LOGIN = {
    "windows": [
        _("De eerste keer stelt Windows een paar vragen. Kies Nederland en de taal Nederlands."),
        _(
            "Windows vraagt u een account te maken. Bedenk een wachtwoord of pincode die u goed "
            "onthoudt."
        ),
        _("Schrijf het wachtwoord op en bewaar het op een veilige plek, niet bij de laptop."),
    ],
    "chromeos": [
        _("Kies de taal Nederlands en maak verbinding met wifi (zie hieronder)."),
        _(
            "Log in met een Google-account. Heeft u er nog geen? Dan kunt u er op het scherm "
            "gratis een maken."
        ),
        _("Schrijf uw wachtwoord op en bewaar het op een veilige plek."),
    ],
    "linux": [
        _("De eerste keer vraagt de laptop uw naam en een wachtwoord."),
        _("Kies een wachtwoord dat u goed onthoudt. U heeft het nodig om in te loggen."),
        _("Schrijf het wachtwoord op en bewaar het op een veilige plek, niet bij de laptop."),
    ],
    "ipados": [
        _("Volg de stappen op het scherm. Kies de taal Nederlands."),
        _("U kunt inloggen met een Apple ID. Dat kan ook later; tik dan op 'Later instellen'."),
        _("Kies een toegangscode van zes cijfers die u goed onthoudt."),
    ],
    "android": [
        _("Volg de stappen op het scherm. Kies de taal Nederlands."),
        _("Log in met een Google-account, of sla deze stap over en doe het later."),
        _("Kies een pincode die u goed onthoudt."),
    ],
}

WIFI = {
    "windows": [
        _("Klik rechtsonder op het wifi-teken (een waaiertje)."),
        _("Kies uw netwerk, klik op 'Verbinding maken' en typ het wachtwoord van uw wifi."),
    ],
    "chromeos": [
        _("Klik rechtsonder op de klok en dan op het wifi-teken."),
        _("Kies uw netwerk en typ het wachtwoord van uw wifi."),
    ],
    "linux": [
        _("Klik rechtsboven op het netwerkteken en kies 'Wifi'."),
        _("Kies uw netwerk en typ het wachtwoord van uw wifi."),
    ],
    "ipados": [
        _("Open 'Instellingen' (het grijze tandwiel) en tik op 'Wi-Fi'."),
        _("Tik op uw netwerk en typ het wachtwoord van uw wifi."),
    ],
    "android": [
        _("Veeg van boven naar beneden over het scherm en houd het wifi-teken ingedrukt."),
        _("Tik op uw netwerk en typ het wachtwoord van uw wifi."),
    ],
}
WIFI_COMMON = [
    _("Het wachtwoord van uw wifi staat vaak op een sticker op uw modem of router."),
    _(
        "Heeft u thuis geen internet? Vraag de organisatie die u dit apparaat gaf of zij een "
        "internetverbinding kan regelen (een simkaart of een mobiele hotspot)."
    ),
]

INSTALLED = {
    "windows": _("een internetbrowser en de standaardprogramma's van Windows"),
    "chromeos": _("de Chrome-browser; programma's werken via internet"),
    "linux": _("een internetbrowser (Firefox) en een kantoorpakket (LibreOffice)"),
    "ipados": _("de standaardapps van Apple, zoals Safari"),
    "android": _("de standaardapps, zoals Chrome en de Play Store"),
}

TROUBLE = [
    _("Zet het apparaat uit en weer aan. Dat lost veel problemen op."),
    _("Kijk of de oplader goed vastzit, in het stopcontact en in het apparaat."),
    _("Lukt het nog steeds niet? Bel de gratis hulplijn. Wij helpen u graag."),
]


@dataclass(frozen=True)
class Section:
    title: str
    lines: list


def family_for(kind: str, os_installed: str = "") -> str:
    return FAMILY_OF_OS.get(os_installed) or DEFAULT_FAMILY.get(kind, "windows")


def help_kind(kind: str) -> str:
    """The help page of a device kind ("laptop", "chromebook", "tablet")."""
    return kind if kind in HELP_KINDS else "laptop"


def sections(kind: str, family: str) -> list[Section]:
    """The steps for one device: switch on, first log-in, Wi-Fi, and when it does not work."""
    return [
        Section(_("Aanzetten"), SWITCH_ON[help_kind(kind)]),
        Section(_("De eerste keer"), FIRST_LOGIN[family]),
        Section(_("Verbinden met wifi"), [*WIFI[family], *WIFI_COMMON]),
        Section(_("Werkt het niet?"), TROUBLE),
    ]
