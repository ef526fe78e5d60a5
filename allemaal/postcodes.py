"""Dutch postcodes: normalising `1234ab` to `1234 AB` and deriving the province.

The province table maps ranges of the four-digit postcode area to the province that holds most of
each range. Postcode areas do not follow provincial borders exactly, so a handful of border
villages map to a neighbour; coordinators can correct an organisation's province in the admin.
"""

import re
from bisect import bisect_right

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

POSTCODE_RE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")
# Letter pairs PostNL never hands out.
_UNUSED_LETTERS = {"SA", "SD", "SS"}


class Province:
    GRONINGEN = "Groningen"
    FRIESLAND = "Friesland"
    DRENTHE = "Drenthe"
    OVERIJSSEL = "Overijssel"
    FLEVOLAND = "Flevoland"
    GELDERLAND = "Gelderland"
    UTRECHT = "Utrecht"
    NOORD_HOLLAND = "Noord-Holland"
    ZUID_HOLLAND = "Zuid-Holland"
    ZEELAND = "Zeeland"
    NOORD_BRABANT = "Noord-Brabant"
    LIMBURG = "Limburg"

    CHOICES = [
        (GRONINGEN, "Groningen"),
        (FRIESLAND, "Friesland (Fryslân)"),
        (DRENTHE, "Drenthe"),
        (OVERIJSSEL, "Overijssel"),
        (FLEVOLAND, "Flevoland"),
        (GELDERLAND, "Gelderland"),
        (UTRECHT, "Utrecht"),
        (NOORD_HOLLAND, "Noord-Holland"),
        (ZUID_HOLLAND, "Zuid-Holland"),
        (ZEELAND, "Zeeland"),
        (NOORD_BRABANT, "Noord-Brabant"),
        (LIMBURG, "Limburg"),
    ]


P = Province
# (first postcode area of the range, province); a range runs until the next entry.
_RANGES = [
    (1000, P.NOORD_HOLLAND),
    (1300, P.FLEVOLAND),
    (1380, P.NOORD_HOLLAND),
    (1390, P.UTRECHT),
    (1394, P.NOORD_HOLLAND),
    (2160, P.ZUID_HOLLAND),
    (3400, P.UTRECHT),
    (3465, P.ZUID_HOLLAND),
    (3470, P.UTRECHT),
    (3770, P.GELDERLAND),
    (3795, P.UTRECHT),
    (3850, P.GELDERLAND),
    (3890, P.FLEVOLAND),
    (3900, P.UTRECHT),
    (3925, P.GELDERLAND),
    (3930, P.UTRECHT),
    (4000, P.GELDERLAND),
    (4120, P.UTRECHT),
    (4140, P.GELDERLAND),
    (4200, P.ZUID_HOLLAND),
    (4300, P.ZEELAND),
    (4600, P.NOORD_BRABANT),
    (4700, P.NOORD_BRABANT),
    (5300, P.GELDERLAND),
    (5340, P.NOORD_BRABANT),
    (5800, P.LIMBURG),
    (6500, P.GELDERLAND),
    (7400, P.OVERIJSSEL),
    (7800, P.DRENTHE),
    (8000, P.OVERIJSSEL),
    (8050, P.GELDERLAND),
    (8100, P.OVERIJSSEL),
    (8200, P.FLEVOLAND),
    (8250, P.OVERIJSSEL),
    (8300, P.FLEVOLAND),
    (8330, P.OVERIJSSEL),
    (8350, P.DRENTHE),
    (8380, P.FRIESLAND),
    (9300, P.DRENTHE),
    (9350, P.GRONINGEN),
    (9400, P.DRENTHE),
    (9500, P.GRONINGEN),
    (9540, P.DRENTHE),
    (9545, P.GRONINGEN),
    (9570, P.DRENTHE),
    (9580, P.GRONINGEN),
]
_STARTS = [start for start, _province in _RANGES]


def normalise_postcode(value: str) -> str:
    """Return the postcode as `1234 AB`, or raise a Dutch ValidationError."""
    match = POSTCODE_RE.match(value or "")
    if not match or match.group(2).upper() in _UNUSED_LETTERS:
        raise ValidationError(
            _("Vul een geldige Nederlandse postcode in, zoals 1234 AB."), code="postcode"
        )
    return f"{match.group(1)} {match.group(2).upper()}"


def province_for_postcode(postcode: str) -> str:
    """The province of a (normalised or raw) Dutch postcode."""
    area = int(normalise_postcode(postcode)[:4])
    return _RANGES[bisect_right(_STARTS, area) - 1][1]


# Land (and bridge/dam) neighbours, used to prefer devices held nearby.
NEIGHBOURS = {
    P.GRONINGEN: {P.FRIESLAND, P.DRENTHE},
    P.FRIESLAND: {P.GRONINGEN, P.DRENTHE, P.OVERIJSSEL, P.FLEVOLAND, P.NOORD_HOLLAND},
    P.DRENTHE: {P.GRONINGEN, P.FRIESLAND, P.OVERIJSSEL},
    P.OVERIJSSEL: {P.FRIESLAND, P.DRENTHE, P.GELDERLAND, P.FLEVOLAND},
    P.FLEVOLAND: {P.FRIESLAND, P.OVERIJSSEL, P.GELDERLAND, P.UTRECHT, P.NOORD_HOLLAND},
    P.GELDERLAND: {
        P.OVERIJSSEL,
        P.FLEVOLAND,
        P.UTRECHT,
        P.ZUID_HOLLAND,
        P.NOORD_BRABANT,
        P.LIMBURG,
    },
    P.UTRECHT: {P.FLEVOLAND, P.GELDERLAND, P.ZUID_HOLLAND, P.NOORD_HOLLAND},
    P.NOORD_HOLLAND: {P.FRIESLAND, P.FLEVOLAND, P.UTRECHT, P.ZUID_HOLLAND},
    P.ZUID_HOLLAND: {P.NOORD_HOLLAND, P.UTRECHT, P.GELDERLAND, P.NOORD_BRABANT, P.ZEELAND},
    P.ZEELAND: {P.ZUID_HOLLAND, P.NOORD_BRABANT},
    P.NOORD_BRABANT: {P.ZEELAND, P.ZUID_HOLLAND, P.GELDERLAND, P.LIMBURG},
    P.LIMBURG: {P.NOORD_BRABANT, P.GELDERLAND},
}
