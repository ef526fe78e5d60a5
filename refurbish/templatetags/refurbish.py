from django import template

from ..asset_tags import format_asset_tag

register = template.Library()


@register.filter
def asset_tag(value):
    """Show a tag as people read it: two groups of five."""
    return format_asset_tag(value)


@register.filter
def state_label(value):
    """The Dutch label of a device state code (custody events store the code)."""
    from donations.models import Device

    try:
        return Device.State(value).label
    except ValueError:
        return value


@register.filter
def technique_label(value):
    from ..models import ErasureTechnique

    try:
        return ErasureTechnique(value).label
    except ValueError:
        return value


@register.filter
def standard_label(value):
    from ..models import ErasureStandard

    try:
        return ErasureStandard(value).label
    except ValueError:
        return value


@register.filter
def run_details(entry):
    """What the log said about a certified run (rounds, PRNG, blanking, start, SHA-256)."""
    from ..pdf import run_details as details

    return details(entry) if isinstance(entry, dict) else []
