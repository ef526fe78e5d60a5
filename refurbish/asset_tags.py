"""Asset tags ("apparaatcodes"): short, random, unambiguous codes with a check character.

A tag is 9 random symbols from Crockford's base-32 alphabet (no I, L, O or U, so nothing reads
as 1 or 0 by mistake) followed by one Luhn mod 32 check symbol: 10 characters, shown as two
groups of five (``7KQ3M-9TXR4``). 9 random symbols give 32**9 ≈ 3.5e13 codes; at ten million
devices a fresh tag collides with an existing one with probability ≈ 3e-7, and the service
retries on the unique constraint when it does. The check symbol catches every single mistyped
symbol and nearly every swap of two neighbours, so a typo is refused, never matched.

Tags are drawn with :mod:`secrets`; they are never derived from a serial number or a hash.
How a typed or scanned tag is read (`normalise_asset_tag`) is part of the device vocabulary in
`donations.vocabulary`; this module makes, checks and prints tags.
"""

import secrets

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from donations.vocabulary import normalise_asset_tag

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 9
TAG_LENGTH = RANDOM_LENGTH + 1
_N = len(ALPHABET)
_INDEX = {symbol: index for index, symbol in enumerate(ALPHABET)}


def _luhn_sum(symbols: str, *, factor: int) -> int:
    total = 0
    for symbol in reversed(symbols):
        addend = factor * _INDEX[symbol]
        factor = 1 if factor == 2 else 2
        total += addend // _N + addend % _N
    return total


def check_symbol(payload: str) -> str:
    """The Luhn mod 32 check symbol for `payload` (Crockford symbols only)."""
    return ALPHABET[(_N - _luhn_sum(payload, factor=2) % _N) % _N]


def generate_asset_tag() -> str:
    """A new random tag in its canonical form (10 symbols, no separator)."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return payload + check_symbol(payload)


def is_valid_asset_tag(value: str) -> bool:
    tag = normalise_asset_tag(value)
    return (
        len(tag) == TAG_LENGTH
        and all(symbol in _INDEX for symbol in tag)
        and _luhn_sum(tag, factor=1) % _N == 0
    )


def validate_asset_tag(value: str) -> str:
    """Return the canonical tag, or raise a ValidationError with a Dutch message.

    Used wherever a tag is typed or scanned: a mistyped tag fails the check symbol.
    """
    tag = normalise_asset_tag(value)
    if len(tag) != TAG_LENGTH or any(symbol not in _INDEX for symbol in tag):
        raise ValidationError(
            _("Een apparaatcode bestaat uit 10 tekens, zoals 7KQ3M-9TXR4."), code="asset_tag_format"
        )
    if _luhn_sum(tag, factor=1) % _N:
        raise ValidationError(
            _("Deze apparaatcode klopt niet. Controleer of u hem goed hebt overgenomen."),
            code="asset_tag_check",
        )
    return tag


def format_asset_tag(tag: str | None) -> str:
    """The tag as people read it: two groups of five (``7KQ3M-9TXR4``)."""
    if not tag:
        return ""
    if len(tag) != TAG_LENGTH:
        return tag
    return f"{tag[:5]}-{tag[5:]}"
