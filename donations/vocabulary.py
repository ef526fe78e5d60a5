"""The words every app uses about a device: its kind and category, how a serial number and an
asset tag are spelled. Defined once here, beside `Device`, so that the manifest import, intake,
erasure logs, the helpdesk, the admin, the solver and the reports cannot disagree.

No models are imported: the solver (pure Python) reads the categories from here too.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    LAPTOP = "laptop", _("Laptop")
    CHROMEBOOK = "chromebook", _("Chromebook")
    TABLET = "tablet", _("Tablet")


class DeviceCategory(models.TextChoices):
    """What a help request asks for: a laptop need is met by a laptop or a Chromebook, a tablet
    need only by a tablet."""

    LAPTOP = "laptop", _("Laptop")
    TABLET = "tablet", _("Tablet")


# Plain strings (not enum members): the solver looks them up a million times per run.
KINDS: tuple[str, ...] = tuple(kind.value for kind in DeviceKind)
CATEGORIES: tuple[str, ...] = tuple(category.value for category in DeviceCategory)
KINDS_OF_CATEGORY: dict[str, tuple[str, ...]] = {
    DeviceCategory.LAPTOP.value: (DeviceKind.LAPTOP.value, DeviceKind.CHROMEBOOK.value),
    DeviceCategory.TABLET.value: (DeviceKind.TABLET.value,),
}
CATEGORY_OF_KIND: dict[str, str] = {
    kind: category for category, kinds in KINDS_OF_CATEGORY.items() for kind in kinds
}


# Which operating systems each kind of device can run, as the workshops install them: Windows
# and Linux on laptops (ChromeOS Flex too), ChromeOS on Chromebooks, iPadOS or Android on tablets.
KINDS_OF_OS: dict[str, tuple[str, ...]] = {
    "windows11": (DeviceKind.LAPTOP.value,),
    "windows10": (DeviceKind.LAPTOP.value,),
    "chromeos_flex": (DeviceKind.LAPTOP.value,),
    "ubuntu": (DeviceKind.LAPTOP.value,),
    "linux": (DeviceKind.LAPTOP.value,),
    "chromeos": (DeviceKind.CHROMEBOOK.value,),
    "ipados": (DeviceKind.TABLET.value,),
    "android": (DeviceKind.TABLET.value,),
}


def os_fits_kind(os_installed: str, kind: str) -> bool:
    """Whether a device of this kind can run this operating system."""
    return kind in KINDS_OF_OS.get(os_installed, ())


def os_values_for(kind: str) -> tuple[str, ...]:
    """The operating systems a device of this kind can run, in the table's order."""
    return tuple(os for os, kinds in KINDS_OF_OS.items() if kind in kinds)


def category_of(kind: str) -> str:
    """The category of a device kind ("laptop" for a laptop or a Chromebook)."""
    return CATEGORY_OF_KIND[kind]


def in_category(category: str, prefix: str = "") -> Q:
    """A filter for the devices of one category, on the device itself or through a relation
    (`prefix="device__"`)."""
    return Q(**{f"{prefix}kind__in": KINDS_OF_CATEGORY[category]})


# --- Serial numbers --------------------------------------------------------------------------


def normalise_serial(value) -> str:
    """A serial number as it is stored and matched: without any whitespace, in capitals.
    "5cd 1234" (typed at intake) and "5CD1234" (on the donor's list) are one device."""
    return "".join(str(value).split()).upper()


def serial_key(value) -> str:
    """A serial number as it is compared at intake: `normalise_serial` without dashes, so a
    "5CD-1234" typed for the "5CD1234" on the donor's list (or the other way round) is one
    device."""
    return normalise_serial(value).replace("-", "")


# --- Asset tags ------------------------------------------------------------------------------

# Crockford's decoding rules: letters that look like digits are read as those digits.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalise_asset_tag(value) -> str:
    """An asset tag as stored: upper case, without spaces or hyphens, with O/I/L read as 0/1
    (``7kq3m-9txr4`` is ``7KQ3M9TXR4``)."""
    return normalise_serial(value).replace("-", "").translate(_READ_AS)
