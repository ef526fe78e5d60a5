"""Writes with business meaning for help requests; views, admin and tasks call these.

Every status change goes through `_transition` (history row, allowed moves) from a service that
has locked the row. E-mails go through the outbox, in the same transaction as the change.
The internet connections of a request (telecom providers) live in `services.connectivity`.
"""

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.postcodes import normalise_postcode, province_for_postcode
from allemaal.services import DomainError, notify_group, notify_organisation

from .. import selectors
from ..models import (
    PUPIL_GROUPS,
    CoordinatorDigest,
    DeviceType,
    HelpRequest,
    HelpRequestEvent,
    TargetGroup,
)
from . import connectivity

S = HelpRequest.Status
# Every allowed move; rejected, cancelled and closed are terminal.
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.CANCELLED},
    S.SUBMITTED: {S.APPROVED, S.REJECTED, S.CANCELLED},
    S.APPROVED: {S.FULFILLED, S.CANCELLED, S.CLOSED},
    S.FULFILLED: {S.CLOSED, S.APPROVED},
    S.REJECTED: set(),
    S.CANCELLED: set(),
    S.CLOSED: set(),
}
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


# --- Create and edit -----------------------------------------------------------------------


def _apply(request: HelpRequest, data: dict) -> list[str]:
    """Copy the organisation's answers onto the request and derive what follows from them."""
    changed = []
    for field in REQUEST_FIELDS:
        if field in data:
            setattr(request, field, data[field])
            changed.append(field)
    if request.target_group != TargetGroup.OTHER:
        request.target_group_other = ""
    if request.target_group not in PUPIL_GROUPS:
        request.no_home_schooling = False
    if request.delivery_postcode:
        request.delivery_postcode = normalise_postcode(request.delivery_postcode)
        request.delivery_province = province_for_postcode(request.delivery_postcode)
    else:
        request.delivery_province = ""
    return [*changed, "target_group_other", "no_home_schooling", "delivery_province"]


@transaction.atomic
def helprequest_create(*, organisation: Organisation, by: User, data: dict) -> HelpRequest:
    """An organisation starts a request; it stays a draft until the organisation submits it."""
    check_can_request(organisation)
    request = HelpRequest(organisation=organisation, created_by=by)
    _apply(request, data)
    if message := device_limit_error(request.requested_devices):
        raise ValidationError({"laptops": message})
    request.full_clean(exclude=["organisation", "created_by"])
    request.save()
    HelpRequestEvent.objects.create(help_request=request, to_status=S.DRAFT, by=by)
    return request


def helprequest_lock(pk: int) -> HelpRequest:
    """Lock one request row for a change (call inside `transaction.atomic`); its organisation
    comes along for the e-mails but is not locked."""
    return (
        HelpRequest.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=pk)
    )


@transaction.atomic
def helprequest_update(request: HelpRequest, *, by: User, data: dict) -> HelpRequest:
    """The organisation changes its request while it is a draft or until a coordinator decides."""
    request = helprequest_lock(request.pk)
    if not request.is_editable:
        raise DomainError(
            _("Over hulpaanvraag %(ref)s is al besloten; wijzigen kan niet meer.")
            % {"ref": request.reference}
        )
    fields = _apply(request, data)
    if request.status == S.SUBMITTED:
        check_complete(request, require_declaration=False)
        request.duplicate_of, request.duplicate_reason = selectors.find_twin(request)
        fields += ["duplicate_of", "duplicate_reason"]
    elif message := device_limit_error(request.requested_devices):
        raise ValidationError({"laptops": message})
    request.full_clean(exclude=["organisation", "created_by"])
    request.save(update_fields=fields)
    if request.status == S.SUBMITTED:
        HelpRequestEvent.objects.create(
            help_request=request,
            from_status=request.status,
            to_status=request.status,
            by=by,
            note=_("Gewijzigd door de organisatie."),
        )
    return request


# --- Transitions ---------------------------------------------------------------------------


def _check_move(request: HelpRequest, to_status: str, *, only_from=None) -> None:
    """Refuse a move the table does not allow, or one this service does not make (`only_from`:
    approving is for submitted requests; reopening a fulfilled one is `helprequest_reopen`)."""
    if to_status not in TRANSITIONS[request.status] or (
        only_from is not None and request.status not in only_from
    ):
        raise DomainError(
            _("Hulpaanvraag %(ref)s kan niet van '%(from)s' naar '%(to)s'.")
            % {
                "ref": request.reference,
                "from": request.get_status_display(),
                "to": HelpRequest.Status(to_status).label,
            }
        )


def _transition(
    request: HelpRequest,
    to_status: str,
    *,
    by: User | None,
    note: str = "",
    update_fields: Iterable[str] = (),
) -> HelpRequest:
    """Move a locked request and write its history row; invalid moves are refused."""
    _check_move(request, to_status)
    from_status = request.status
    request.status = to_status
    request.save(update_fields=["status", *update_fields])
    HelpRequestEvent.objects.create(
        help_request=request, from_status=from_status, to_status=to_status, by=by, note=note
    )
    return request


def helprequest_submit(request: HelpRequest, *, by: User) -> HelpRequest:
    """A complete request with the declaration goes to the coordinators; a possible twin is
    flagged for them, never blocking the submission."""
    with transaction.atomic():
        # Lock the organisation first: two submissions at once would each see room under the
        # limit of open requests.
        organisation = Organisation.objects.select_for_update().get(pk=request.organisation_id)
        request = helprequest_lock(request.pk)
        if request.status == S.SUBMITTED:
            return request
        _check_move(request, S.SUBMITTED)
        check_can_request(organisation)
        check_complete(request)
        check_open_limit(organisation, exclude_pk=request.pk)
        request.duplicate_of, request.duplicate_reason = selectors.find_twin(request)
        request.submitted_at = timezone.now()
        _transition(
            request,
            S.SUBMITTED,
            by=by,
            update_fields=["submitted_at", "duplicate_of", "duplicate_reason"],
        )
        notify_organisation(organisation, kind="helprequest_received", context=_mail(request))
    return request


def helprequest_approve(
    request: HelpRequest,
    *,
    by: User,
    laptops: int | None = None,
    tablets: int | None = None,
    either: int | None = None,
    note: str = "",
) -> HelpRequest:
    """A coordinator approves a submitted request, for at most the requested quantities
    (the requested ones when left out); it then waits in the queue of its target group."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == S.APPROVED:
            return request
        _check_move(request, S.APPROVED, only_from=(S.SUBMITTED,))
        quantities = {
            "approved_laptops": request.laptops if laptops is None else laptops,
            "approved_tablets": request.tablets if tablets is None else tablets,
            "approved_either": request.either if either is None else either,
        }
        _check_quantities(request, quantities)
        for field, value in quantities.items():
            setattr(request, field, value)
        now = timezone.now()
        request.approved_at = request.decided_at = now
        request.decided_by = by
        request.decision_reason = note.strip()
        _transition(
            request,
            S.APPROVED,
            by=by,
            note=request.decision_reason,
            update_fields=[
                *quantities,
                "approved_at",
                "decided_at",
                "decided_by",
                "decision_reason",
            ],
        )
        notify_organisation(
            request.organisation, kind="helprequest_approved", context=_mail(request)
        )
        # New demand: ask for an allocation run (debounced).
        transaction.on_commit(_request_allocation_run)
    return request


def _check_quantities(request: HelpRequest, quantities: dict[str, int]) -> None:
    requested = {
        "approved_laptops": request.laptops,
        "approved_tablets": request.tablets,
        "approved_either": request.either,
    }
    for field, value in quantities.items():
        if value < 0 or value > requested[field]:
            raise DomainError(
                _("Keur per soort tussen 0 en het aangevraagde aantal goed (%(ref)s).")
                % {"ref": request.reference}
            )
    if sum(quantities.values()) < 1:
        raise DomainError(
            _("Keur ten minste één apparaat goed, of wijs de aanvraag af (%(ref)s).")
            % {"ref": request.reference}
        )


def helprequest_reject(request: HelpRequest, *, by: User, reason: str) -> HelpRequest:
    """A coordinator refuses a submitted request, always with a reason the organisation reads."""
    if not reason.strip():
        raise DomainError(_("Geef een reden op voor de afwijzing."))
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == S.REJECTED:
            return request
        _check_move(request, S.REJECTED)
        request.decision_reason = reason.strip()
        request.decided_at = timezone.now()
        request.decided_by = by
        _transition(
            request,
            S.REJECTED,
            by=by,
            note=request.decision_reason,
            update_fields=["decision_reason", "decided_at", "decided_by"],
        )
        notify_organisation(
            request.organisation, kind="helprequest_rejected", context=_mail(request)
        )
    return request


def helprequest_fulfil(request: HelpRequest, *, by: User | None, note: str = "") -> HelpRequest:
    """An approved request has received its devices. Until allocation exists a coordinator
    marks this by hand; the distribution app will call it when the last device is delivered."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == S.FULFILLED:
            return request
        _transition(request, S.FULFILLED, by=by, note=note)
        notify_organisation(
            request.organisation, kind="helprequest_fulfilled", context=_mail(request)
        )
    return request


def helprequest_reopen(request: HelpRequest, *, by: User | None, note: str = "") -> HelpRequest:
    """A fulfilled request waits again: a delivered device came back and needs a replacement."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == S.APPROVED:
            return request
        _check_move(request, S.APPROVED, only_from=(S.FULFILLED,))
        _transition(request, S.APPROVED, by=by, note=note)
    return request


def helprequest_close(request: HelpRequest, *, by: User, note: str = "") -> HelpRequest:
    """A coordinator closes a fulfilled request, or an approved one that will not be filled
    (then with a reason, which the organisation is told)."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == S.CLOSED:
            return request
        _check_move(request, S.CLOSED)
        notify = request.status == S.APPROVED
        if notify and not note.strip():
            raise DomainError(
                _("Geef een reden op om een goedgekeurde, nog niet vervulde aanvraag te sluiten.")
            )
        request.decision_reason = note.strip() or request.decision_reason
        _transition(request, S.CLOSED, by=by, note=note.strip(), update_fields=["decision_reason"])
        _withdraw_allocations(request, by=by, reason=note.strip() or _("Aanvraag gesloten."))
        if notify:
            notify_organisation(
                request.organisation, kind="helprequest_closed", context=_mail(request)
            )
    return request


def _request_allocation_run() -> None:
    from distribution.services import allocation_request_run_soon

    allocation_request_run_soon()


def _has_shipped_devices(request: HelpRequest) -> bool:
    """Devices left the refurbisher for this request (shipped, delivered, or came back)."""
    from distribution.models import Allocation

    A = Allocation.Status
    shipped = [A.SHIPPED, A.DELIVERED, A.RETURNED, A.REPLACED]
    return Allocation.objects.filter(request_id=request.pk, status__in=shipped).exists()


def _withdraw_allocations(request: HelpRequest, *, by: User, reason: str) -> None:
    """Proposals are rejected and unshipped devices go back to the pool (same transaction)."""
    from distribution.services import allocations_withdraw_for_request

    allocations_withdraw_for_request(request.pk, by=by, reason=reason)


def helprequest_cancel(request: HelpRequest, *, by: User) -> HelpRequest:
    """The organisation withdraws its request, any time before devices are shipped."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == S.CANCELLED:
            return request
        if _has_shipped_devices(request):
            raise DomainError(
                _(
                    "Voor aanvraag %(ref)s zijn al apparaten verzonden; annuleren kan niet meer. "
                    "Neem contact op met de coördinatie."
                )
                % {"ref": request.reference}
            )
        _transition(request, S.CANCELLED, by=by, note=_("Geannuleerd door de organisatie."))
        _withdraw_allocations(request, by=by, reason=_("Geannuleerd door de organisatie."))
        # Nobody should bring SIM cards for a request that was withdrawn.
        connectivity.connectivity_withdraw_open_for_request(
            request,
            by=by,
            reason=_("De organisatie heeft hulpaanvraag %(ref)s geannuleerd.")
            % {"ref": request.reference},
        )
    return request


def _mail(request: HelpRequest) -> dict:
    return {
        "help_request": request,
        "url": settings.SITE_URL + reverse("coordination:request_detail", args=[request.pk]),
    }


# --- Coordinators' digest ------------------------------------------------------------------


def helprequest_send_coordinator_digest(day=None) -> CoordinatorDigest:
    """Once per day: tell the coordinators which requests were submitted the day before and
    which of them may be duplicates. Running it again for the same day sends nothing."""
    day = day or timezone.localdate()
    with transaction.atomic():
        digest, created = CoordinatorDigest.objects.get_or_create(day=day)
        if not created:
            return digest
        tz = timezone.get_current_timezone()
        start = timezone.make_aware(datetime.combine(day - timedelta(days=1), time.min), tz)
        end = timezone.make_aware(datetime.combine(day, time.min), tz)
        new = list(
            HelpRequest.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
            .select_related("organisation", "duplicate_of__organisation")
            .order_by("submitted_at", "id")
        )
        flagged = [r for r in new if r.duplicate_of_id]
        waiting = HelpRequest.objects.filter(status=S.SUBMITTED).count()
        mails = []
        if new:
            mails = notify_group(
                "coordinators",
                kind="helprequest_digest",
                context={
                    "day": day - timedelta(days=1),
                    "new_requests": new,
                    "flagged": flagged,
                    "waiting": waiting,
                    "admin_url": settings.SITE_URL
                    + reverse("admin:helprequests_helprequest_changelist"),
                },
            )
        digest.new_requests = len(new)
        digest.flagged_duplicates = len(flagged)
        digest.recipients = len(mails)
        digest.save(update_fields=["new_requests", "flagged_duplicates", "recipients"])
    return digest
