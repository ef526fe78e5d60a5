"""The life of one help request: the organisation creates, edits, submits and may cancel it;
a coordinator approves, rejects, marks fulfilled, reopens or closes it.

Every status change goes through `_transition` (history row, allowed moves) from a service that
has locked the row. E-mails go through the outbox, in the same transaction as the change. What
other layers must do about a change (withdraw allocations, schedule a run) is an event in
`allemaal.events`, published inside the same transaction.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal import events
from allemaal.models import Organisation, User
from allemaal.postcodes import normalise_postcode, province_for_postcode
from allemaal.services import DomainError, notify_organisation
from allemaal.transitions import transition

from .. import selectors
from ..models import PUPIL_GROUPS, HelpRequest, HelpRequestEvent, TargetGroup
from . import connectivity
from .rules import (
    REQUEST_FIELDS,
    check_can_request,
    check_complete,
    check_open_limit,
    device_limit_error,
)

# Every allowed move; rejected, cancelled and closed are terminal.
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
    HelpRequestEvent.objects.create(help_request=request, to_status=HelpRequest.Status.DRAFT, by=by)
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
    if request.status == HelpRequest.Status.SUBMITTED:
        check_complete(request, require_declaration=False)
        request.duplicate_of, request.duplicate_reason = selectors.find_twin(request)
        fields += ["duplicate_of", "duplicate_reason"]
    elif message := device_limit_error(request.requested_devices):
        raise ValidationError({"laptops": message})
    request.full_clean(exclude=["organisation", "created_by"])
    request.save(update_fields=fields)
    if request.status == HelpRequest.Status.SUBMITTED:
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
    if only_from is not None and request.status not in only_from:
        raise HelpRequest.transitions.refusal(request, to_status)
    HelpRequest.transitions.check(request, to_status)


def _transition(
    request: HelpRequest,
    to_status: str,
    *,
    by: User | None,
    note: str = "",
    update_fields: Iterable[str] = (),
) -> HelpRequest:
    """Move a locked request through the core's transition helper (table, save, history)."""
    transition(request, to_status, by=by, note=note, update_fields=update_fields, locked=True)
    return request


def helprequest_submit(request: HelpRequest, *, by: User) -> HelpRequest:
    """A complete request with the declaration goes to the coordinators; a possible twin is
    flagged for them, never blocking the submission."""
    with transaction.atomic():
        # Lock the organisation first: two submissions at once would each see room under the
        # limit of open requests.
        organisation = Organisation.objects.select_for_update().get(pk=request.organisation_id)
        request = helprequest_lock(request.pk)
        if request.status == HelpRequest.Status.SUBMITTED:
            return request
        _check_move(request, HelpRequest.Status.SUBMITTED)
        check_can_request(organisation)
        check_complete(request)
        check_open_limit(organisation, exclude_pk=request.pk)
        request.duplicate_of, request.duplicate_reason = selectors.find_twin(request)
        request.submitted_at = timezone.now()
        _transition(
            request,
            HelpRequest.Status.SUBMITTED,
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
        if request.status == HelpRequest.Status.APPROVED:
            return request
        _check_move(request, HelpRequest.Status.APPROVED, only_from=(HelpRequest.Status.SUBMITTED,))
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
            HelpRequest.Status.APPROVED,
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
        # New demand: distribution asks for an allocation run (debounced, after the commit).
        events.publish(events.DEMAND_CHANGED, request_id=request.pk)
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
        if request.status == HelpRequest.Status.REJECTED:
            return request
        _check_move(request, HelpRequest.Status.REJECTED)
        request.decision_reason = reason.strip()
        request.decided_at = timezone.now()
        request.decided_by = by
        _transition(
            request,
            HelpRequest.Status.REJECTED,
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
        if request.status == HelpRequest.Status.FULFILLED:
            return request
        _transition(request, HelpRequest.Status.FULFILLED, by=by, note=note)
        notify_organisation(
            request.organisation, kind="helprequest_fulfilled", context=_mail(request)
        )
    return request


def helprequest_reopen(request: HelpRequest, *, by: User | None, note: str = "") -> HelpRequest:
    """A fulfilled request waits again: a delivered device came back and needs a replacement."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == HelpRequest.Status.APPROVED:
            return request
        _check_move(request, HelpRequest.Status.APPROVED, only_from=(HelpRequest.Status.FULFILLED,))
        _transition(request, HelpRequest.Status.APPROVED, by=by, note=note)
    return request


def helprequest_close(request: HelpRequest, *, by: User, note: str = "") -> HelpRequest:
    """A coordinator closes a fulfilled request, or an approved one that will not be filled
    (then with a reason, which the organisation is told)."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == HelpRequest.Status.CLOSED:
            return request
        _check_move(request, HelpRequest.Status.CLOSED)
        notify = request.status == HelpRequest.Status.APPROVED
        if notify and not note.strip():
            raise DomainError(
                _("Geef een reden op om een goedgekeurde, nog niet vervulde aanvraag te sluiten.")
            )
        request.decision_reason = note.strip() or request.decision_reason
        _transition(
            request,
            HelpRequest.Status.CLOSED,
            by=by,
            note=note.strip(),
            update_fields=["decision_reason"],
        )
        # Proposals are rejected and unshipped devices go back to the pool (same transaction).
        events.publish(
            events.HELPREQUEST_WITHDRAWN,
            request_id=request.pk,
            by=by,
            reason=note.strip() or _("Aanvraag gesloten."),
            status=HelpRequest.Status.CLOSED,
        )
        if notify:
            notify_organisation(
                request.organisation, kind="helprequest_closed", context=_mail(request)
            )
    return request


def helprequest_cancel(request: HelpRequest, *, by: User) -> HelpRequest:
    """The organisation withdraws its request, any time before devices are shipped."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == HelpRequest.Status.CANCELLED:
            return request
        # Distribution refuses once devices were shipped for this request; otherwise it rejects
        # the proposals and puts unshipped devices back in the pool (same transaction).
        events.publish(
            events.HELPREQUEST_WITHDRAWN,
            request_id=request.pk,
            by=by,
            reason=_("Geannuleerd door de organisatie."),
            status=HelpRequest.Status.CANCELLED,
        )
        _transition(
            request, HelpRequest.Status.CANCELLED, by=by, note=_("Geannuleerd door de organisatie.")
        )
        # Nobody should bring SIM cards for a request that was withdrawn.
        connectivity.connectivity_withdraw_open_for_request(
            request,
            by=by,
            reason=_("De organisatie heeft hulpaanvraag %(ref)s geannuleerd.")
            % {"ref": request.reference},
        )
    return request


def helprequest_close_rest(request: HelpRequest, *, by: User) -> HelpRequest:
    """The organisation needs no more devices for an approved request that already received
    some: it is closed; devices not yet shipped go back to the pool, the rest stays delivered."""
    with transaction.atomic():
        request = helprequest_lock(request.pk)
        if request.status == HelpRequest.Status.CLOSED:
            return request
        if request.status != HelpRequest.Status.APPROVED:
            raise DomainError(_("Alleen een goedgekeurde aanvraag kan zo worden afgesloten."))
        note = _("De organisatie heeft de rest niet meer nodig.")
        _transition(request, HelpRequest.Status.CLOSED, by=by, note=note)
        events.publish(
            events.HELPREQUEST_WITHDRAWN,
            request_id=request.pk,
            by=by,
            reason=note,
            status=HelpRequest.Status.CLOSED,
        )
    return request


def _mail(request: HelpRequest) -> dict:
    return {
        "help_request": request,
        "url": settings.SITE_URL + reverse("coordination:request_detail", args=[request.pk]),
    }
