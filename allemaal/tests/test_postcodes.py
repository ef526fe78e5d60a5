import pytest
from django.core.exceptions import ValidationError

from allemaal.postcodes import normalise_postcode, province_for_postcode


@pytest.mark.parametrize("raw", ["1234ab", "1234 AB", " 1234  ab ", "1234Ab"])
def test_it_normalises_postcodes(raw):
    assert normalise_postcode(raw) == "1234 AB"


@pytest.mark.parametrize(
    "raw", ["", "123 AB", "0123 AB", "12345 AB", "1234 A", "1234 SS", "AB 1234"]
)
def test_it_rejects_invalid_postcodes_in_dutch(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_postcode(raw)
    assert "geldige Nederlandse postcode" in str(exc.value)


@pytest.mark.parametrize(
    ("postcode", "province"),
    [
        ("1012 AB", "Noord-Holland"),  # Amsterdam
        ("1315 AB", "Flevoland"),  # Almere
        ("2511 AB", "Zuid-Holland"),  # Den Haag
        ("3011 AB", "Zuid-Holland"),  # Rotterdam
        ("3511 AB", "Utrecht"),
        ("3811 AB", "Utrecht"),  # Amersfoort
        ("4331 AB", "Zeeland"),  # Middelburg
        ("5611 AB", "Noord-Brabant"),  # Eindhoven
        ("6211 AB", "Limburg"),  # Maastricht
        ("6511 AB", "Gelderland"),  # Nijmegen
        ("7511 AB", "Overijssel"),  # Enschede
        ("7811 AB", "Drenthe"),  # Emmen
        ("8011 AB", "Overijssel"),  # Zwolle
        ("8301 AB", "Flevoland"),  # Emmeloord
        ("8911 AB", "Friesland"),  # Leeuwarden
        ("9711 AB", "Groningen"),
        ("9401 AB", "Drenthe"),  # Assen
    ],
)
def test_it_derives_the_province_from_the_postcode(postcode, province):
    assert province_for_postcode(postcode) == province
