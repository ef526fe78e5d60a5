"""The rules a help request must meet: who may ask, how many open requests and devices, what
a complete request holds, and whether intake is open for what it asks. Forms call these to show
the errors early; the services in `requests` call them again before they change anything."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation
from allemaal.services import DomainError

from .. import selectors
from ..models import DeviceType, HelpRequest, TargetGroup

# What the organisation fills in; everything else is set by the services.
REQUEST_FIELDS = [
    "target_group",
    "target_group_other",
    "no_home_schooling",
    "laptops",
    "tablets",
    "either",
    "connectivity_households",
    "people_reached",
    "urgency",
    "need_by",
    "motivation",
    "delivery_street",
    "delivery_postcode",
    "delivery_city",
    "contact_name",
    "contact_phone",
    "declaration",
]
REQUIRED_TO_SUBMIT = [
    "need_by",
    "motivation",
    "delivery_street",
    "delivery_postcode",
    "delivery_city",
    "contact_name",
    "contact_phone",
]


def max_open_requests() -> int:
    return getattr(settings, "HELPREQUEST_MAX_OPEN_PER_ORGANISATION", 3)


def max_devices() -> int:
    return getattr(settings, "HELPREQUEST_MAX_DEVICES", 500)


# --- Rules ---------------------------------------------------------------------------------


def check_can_request(organisation: Organisation) -> None:
    """Only verified requesting organisations ask for devices."""
    if organisation.kind != Organisation.Kind.REQUESTER:
        raise DomainError(_("Alleen aanvragende organisaties kunnen een hulpaanvraag doen."))
    if not organisation.is_verified:
        raise DomainError(
            _("Uw organisatie is nog niet gecontroleerd. Daarna kunt u een hulpaanvraag indienen.")
        )


def device_limit_error(total: int) -> str | None:
    if total <= max_devices():
        return None
    return _(
        "Per hulpaanvraag kunt u maximaal %(max)d apparaten aanvragen; u vraagt er nu %(n)d aan. "
        "Zo blijft er genoeg over voor andere organisaties."
    ) % {"max": max_devices(), "n": total}


def check_open_limit(organisation: Organisation, *, exclude_pk: int | None = None) -> None:
    """One organisation may have only a few open requests, so it cannot crowd out others."""
    limit = max_open_requests()
    if selectors.open_request_count(organisation.pk, exclude_pk=exclude_pk) >= limit:
        raise DomainError(
            _(
                "Uw organisatie heeft al %(max)d hulpaanvragen die nog lopen. Meer tegelijk kan "
                "niet, zodat er ook apparaten overblijven voor andere organisaties. Zodra een "
                "aanvraag is vervuld, afgewezen of geannuleerd, kunt u een nieuwe indienen."
            )
            % {"max": limit}
        )


def intake_errors(request: HelpRequest) -> dict[str, str]:
    """Per count field, why intake is closed for what the request asks (empty when all open)."""
    closed = selectors.closed_intake()
    group = request.target_group
    laptop = closed.get((DeviceType.LAPTOP, group))
    tablet = closed.get((DeviceType.TABLET, group))
    errors = {}
    for field, switch in [("laptops", laptop), ("tablets", tablet)]:
        if switch and getattr(request, field):
            errors[field] = _closed_message(switch)
    # "Either" can still be filled while one of the two kinds is open.
    if laptop and tablet and request.either:
        errors["either"] = _closed_message(laptop)
    return errors


def _closed_message(switch) -> str:
    return _(
        "Op dit moment nemen we geen aanvragen aan voor %(devices)s voor de doelgroep "
        "'%(group)s'. Reden: %(reason)s"
    ) % {
        "devices": switch.get_device_type_display().lower(),
        "group": switch.get_target_group_display().lower(),
        "reason": switch.reason,
    }


def check_complete(request: HelpRequest, *, require_declaration: bool = True) -> None:
    """Everything a coordinator needs to decide is there and consistent; raises a
    ValidationError with a plain Dutch message per field."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    for field in REQUIRED_TO_SUBMIT:
        if not getattr(request, field):
            add(field, _("Vul dit veld in."))
    if request.target_group == TargetGroup.OTHER and not request.target_group_other.strip():
        add("target_group_other", _("Beschrijf voor welke doelgroep u apparaten aanvraagt."))
    total = request.requested_devices
    if total < 1:
        add("laptops", _("Vraag ten minste één laptop of tablet aan."))
    elif message := device_limit_error(total):
        add("laptops", message)
    if request.people_reached < 1:
        add("people_reached", _("Vul in hoeveel mensen u met deze apparaten helpt."))
    elif total > request.people_reached:
        add(
            "people_reached",
            _("U vraagt meer apparaten aan (%(n)d) dan het aantal mensen dat u ermee helpt.")
            % {"n": total},
        )
    if request.people_reached and request.connectivity_households > request.people_reached:
        add(
            "connectivity_households",
            _("Dit kunnen niet meer huishoudens zijn dan het aantal mensen dat u helpt."),
        )
    if request.need_by and request.need_by < timezone.localdate():
        add("need_by", _("Deze datum ligt in het verleden."))
    for field, message in intake_errors(request).items():
        add(field, message)
    if require_declaration and not request.declaration:
        add(
            "declaration",
            _(
                "Bevestig dat u de behoefte hebt gecontroleerd en de apparaten gratis uitgeeft. "
                "Zonder deze verklaring kunnen we de aanvraag niet in behandeling nemen."
            ),
        )
    if errors:
        raise ValidationError(errors)
