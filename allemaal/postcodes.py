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


# (first postcode area of the range, province); a range runs until the next entry.
_RANGES = [
    (1000, Province.NOORD_HOLLAND),
    (1300, Province.FLEVOLAND),
    (1380, Province.NOORD_HOLLAND),
    (1390, Province.UTRECHT),
    (1394, Province.NOORD_HOLLAND),
    (2160, Province.ZUID_HOLLAND),
    (3400, Province.UTRECHT),
    (3465, Province.ZUID_HOLLAND),
    (3470, Province.UTRECHT),
    (3770, Province.GELDERLAND),
    (3795, Province.UTRECHT),
    (3850, Province.GELDERLAND),
    (3890, Province.FLEVOLAND),
    (3900, Province.UTRECHT),
    (3925, Province.GELDERLAND),
    (3930, Province.UTRECHT),
    (4000, Province.GELDERLAND),
    (4120, Province.UTRECHT),
    (4140, Province.GELDERLAND),
    (4200, Province.ZUID_HOLLAND),
    (4300, Province.ZEELAND),
    (4600, Province.NOORD_BRABANT),
    (4700, Province.NOORD_BRABANT),
    (5300, Province.GELDERLAND),
    (5340, Province.NOORD_BRABANT),
    (5800, Province.LIMBURG),
    (6500, Province.GELDERLAND),
    (7400, Province.OVERIJSSEL),
    (7800, Province.DRENTHE),
    (8000, Province.OVERIJSSEL),
    (8050, Province.GELDERLAND),
    (8100, Province.OVERIJSSEL),
    (8200, Province.FLEVOLAND),
    (8250, Province.OVERIJSSEL),
    (8300, Province.FLEVOLAND),
    (8330, Province.OVERIJSSEL),
    (8350, Province.DRENTHE),
    (8380, Province.FRIESLAND),
    (9300, Province.DRENTHE),
    (9350, Province.GRONINGEN),
    (9400, Province.DRENTHE),
    (9500, Province.GRONINGEN),
    (9540, Province.DRENTHE),
    (9545, Province.GRONINGEN),
    (9570, Province.DRENTHE),
    (9580, Province.GRONINGEN),
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
    Province.GRONINGEN: {Province.FRIESLAND, Province.DRENTHE},
    Province.FRIESLAND: {
        Province.GRONINGEN,
        Province.DRENTHE,
        Province.OVERIJSSEL,
        Province.FLEVOLAND,
        Province.NOORD_HOLLAND,
    },
    Province.DRENTHE: {Province.GRONINGEN, Province.FRIESLAND, Province.OVERIJSSEL},
    Province.OVERIJSSEL: {
        Province.FRIESLAND,
        Province.DRENTHE,
        Province.GELDERLAND,
        Province.FLEVOLAND,
    },
    Province.FLEVOLAND: {
        Province.FRIESLAND,
        Province.OVERIJSSEL,
        Province.GELDERLAND,
        Province.UTRECHT,
        Province.NOORD_HOLLAND,
    },
    Province.GELDERLAND: {
        Province.OVERIJSSEL,
        Province.FLEVOLAND,
        Province.UTRECHT,
        Province.ZUID_HOLLAND,
        Province.NOORD_BRABANT,
        Province.LIMBURG,
    },
    Province.UTRECHT: {
        Province.FLEVOLAND,
        Province.GELDERLAND,
        Province.ZUID_HOLLAND,
        Province.NOORD_HOLLAND,
    },
    Province.NOORD_HOLLAND: {
        Province.FRIESLAND,
        Province.FLEVOLAND,
        Province.UTRECHT,
        Province.ZUID_HOLLAND,
    },
    Province.ZUID_HOLLAND: {
        Province.NOORD_HOLLAND,
        Province.UTRECHT,
        Province.GELDERLAND,
        Province.NOORD_BRABANT,
        Province.ZEELAND,
    },
    Province.ZEELAND: {Province.ZUID_HOLLAND, Province.NOORD_BRABANT},
    Province.NOORD_BRABANT: {
        Province.ZEELAND,
        Province.ZUID_HOLLAND,
        Province.GELDERLAND,
        Province.LIMBURG,
    },
    Province.LIMBURG: {Province.NOORD_BRABANT, Province.GELDERLAND},
}
