"""Writes for internet connections: coordinators assign a help request's connectivity need to
a telecom provider, the provider reports what it provided, and hears weekly which of its data
bundles end soon.

Each transition locks the assignment (a new assignment: its help request), checks the state,
saves with `update_fields`, writes a `ConnectivityEvent` and queues its e-mails through the
outbox in the same transaction.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError, notify_organisation
from allemaal.transitions import transition

from .. import selectors
from ..models import ConnectivityAssignment, ConnectivityEvent, ConnectivityReminder, HelpRequest

# A connectivity need can be assigned while the request waits for devices (approved) and after
# they arrived (fulfilled): the connection may well follow the devices.
ASSIGNABLE_REQUEST_STATUSES = (HelpRequest.Status.APPROVED, HelpRequest.Status.FULFILLED)
REMINDER_DAYS = ConnectivityAssignment.REMINDER_DAYS
# Far above any real delivery, low enough for every database's integer column.
MAX_COUNT = 10_000


@dataclass(frozen=True)
class Provision:
    """What a telecom provider provided for one assignment."""

    sim_cards: int
    hotspots: int
    bundle_ends_on: date
    note: str = ""

    def same_as(self, assignment: ConnectivityAssignment) -> bool:
        return (self.sim_cards, self.hotspots, self.bundle_ends_on) == (
            assignment.sim_cards,
            assignment.hotspots,
            assignment.bundle_ends_on,
        )


@dataclass(frozen=True)
class ProvisionRow:
    """One line of an uploaded file: which assignment, what was provided (None when the line's
    values were refused already; its assignment is still checked)."""

    row: int
    assignment_id: int
    provision: Provision | None


@dataclass(frozen=True)
class FulfilResult:
    fulfilled: list[ConnectivityAssignment]
    unchanged: int  # lines of assignments already reported with the same values


class ConnectivityRowsInvalid(Exception):
    """Nothing was recorded; `problems` holds (row, message) for every refused line."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        super().__init__(f"{len(problems)} refused rows")


# --- Rules ---------------------------------------------------------------------------------


def provision_errors(
    sim_cards: int, hotspots: int, bundle_ends_on: date | None, *, today: date
) -> dict[str, str]:
    """Why a report of what was provided cannot be recorded, per field (empty when it can)."""
    errors = {}
    for field, value in (("sim_cards", sim_cards), ("hotspots", hotspots)):
        if value < 0:
            errors[field] = _("Vul 0 of meer in.")
        elif value > MAX_COUNT:
            errors[field] = _("Dit aantal is te groot.")
    if not errors and sim_cards + hotspots < 1:
        errors["sim_cards"] = _("Vul in hoeveel simkaarten of mobiele hotspots u heeft geleverd.")
    if bundle_ends_on is None:
        errors["bundle_ends_on"] = _("Vul in tot wanneer de databundel loopt.")
    elif bundle_ends_on < today:
        errors["bundle_ends_on"] = _("Deze datum ligt in het verleden.")
    return errors


def check_provider(provider: Organisation) -> None:
    if provider.kind != Organisation.Kind.TELECOM:
        raise DomainError(_("%(name)s is geen telecomaanbieder.") % {"name": provider.name})
    if not provider.is_verified:
        raise DomainError(
            _("Telecomaanbieder %(name)s is nog niet gecontroleerd.") % {"name": provider.name}
        )


def _state_problem(
    assignment: ConnectivityAssignment | None, provider: Organisation, provision: Provision | None
) -> str | None:
    """Why `provider` cannot report `provision` for `assignment` (None when it can, also when
    the same values were reported before: that changes nothing)."""
    if assignment is None or assignment.provider_id != provider.pk:
        return _("Deze opdracht bestaat niet of is niet aan uw organisatie gegeven.")
    if assignment.status == ConnectivityAssignment.Status.WITHDRAWN:
        return _(
            "Opdracht %(ref)s is ingetrokken door een coördinator; hiervoor hoeft u niets te "
            "leveren."
        ) % {"ref": assignment.reference}
    if (
        assignment.status == ConnectivityAssignment.Status.FULFILLED
        and provision
        and not provision.same_as(assignment)
    ):
        return _(
            "Opdracht %(ref)s is al gemeld als geleverd, met %(provided)s en een databundel tot "
            "%(date)s. Klopt dat niet? Neem contact op met de coördinatoren."
        ) % {
            "ref": assignment.reference,
            "provided": assignment.provided_label,
            "date": formats.date_format(assignment.bundle_ends_on, "DATE_FORMAT"),
        }
    return None


# --- Assign and withdraw (coordinators) ----------------------------------------------------


def _lock(pk: int) -> ConnectivityAssignment:
    return (
        ConnectivityAssignment.objects.select_for_update(of=("self",))
        .select_related("help_request__organisation", "provider")
        .get(pk=pk)
    )


def _event(assignment, from_status: str, *, by: User | None, note: str = "") -> None:
    ConnectivityEvent.objects.create(
        assignment=assignment,
        from_status=from_status,
        to_status=assignment.status,
        by=by,
        note=note,
    )


def connectivity_assign(
    help_request: HelpRequest,
    *,
    provider: Organisation,
    households: int,
    by: User,
    note: str = "",
) -> ConnectivityAssignment:
    """A coordinator gives households of an approved request's connectivity need to a telecom
    provider: never more than the request still needs, one open assignment per provider."""
    check_provider(provider)
    if households < 1:
        raise DomainError(_("Wijs ten minste één huishouden toe."))
    with transaction.atomic():
        # The request row is the lock: two coordinators assigning the same need at once are
        # serialised, and the second one sees what the first one assigned.
        request = (
            HelpRequest.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=help_request.pk)
        )
        if request.status not in ASSIGNABLE_REQUEST_STATUSES:
            raise DomainError(
                _(
                    "Hulpaanvraag %(ref)s is %(status)s; alleen bij een goedgekeurde of vervulde "
                    "aanvraag wijst u internet toe."
                )
                % {"ref": request.reference, "status": request.get_status_display().lower()}
            )
        left = (
            request.connectivity_households
            - selectors.connectivity_assigned([request.pk])[request.pk]
        )
        if households > left:
            raise DomainError(
                _(
                    "Hulpaanvraag %(ref)s heeft nog %(left)d van %(total)d huishoudens zonder "
                    "telecomaanbieder; u kunt er geen %(n)d toewijzen."
                )
                % {
                    "ref": request.reference,
                    "left": left,
                    "total": request.connectivity_households,
                    "n": households,
                }
            )
        if request.connectivity_assignments.open().filter(provider=provider).exists():
            raise DomainError(
                _(
                    "%(name)s heeft voor hulpaanvraag %(ref)s al een open opdracht. Trek die in "
                    "en wijs opnieuw toe met het juiste aantal huishoudens."
                )
                % {"name": provider.name, "ref": request.reference}
            )
        assignment = ConnectivityAssignment.objects.create(
            help_request=request,
            provider=provider,
            households=households,
            note=note.strip(),
            assigned_by=by,
        )
        _event(assignment, "", by=by, note=assignment.note)
        notify_organisation(
            provider, kind="helprequest_connectivity_assigned", context=_provider_mail(assignment)
        )
    return assignment


def connectivity_withdraw(
    assignment: ConnectivityAssignment, *, by: User | None, reason: str
) -> ConnectivityAssignment:
    """A coordinator takes back an assignment that was not provided yet, always with a reason
    the provider reads; its households can then be assigned again."""
    if not reason.strip():
        raise DomainError(_("Geef een reden op om de opdracht in te trekken."))
    with transaction.atomic():
        assignment = _lock(assignment.pk)
        if assignment.status == ConnectivityAssignment.Status.WITHDRAWN:
            return assignment
        if assignment.status != ConnectivityAssignment.Status.ASSIGNED:
            raise DomainError(
                _("Opdracht %(ref)s is al geleverd; intrekken kan niet meer.")
                % {"ref": assignment.reference}
            )
        assignment.withdrawn_at = timezone.now()
        assignment.withdrawn_by = by
        assignment.withdrawal_reason = reason.strip()
        transition(
            assignment,
            ConnectivityAssignment.Status.WITHDRAWN,
            by=by,
            note=assignment.withdrawal_reason,
            update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"],
            locked=True,
        )
        notify_organisation(
            assignment.provider,
            kind="helprequest_connectivity_withdrawn",
            context=_provider_mail(assignment),
        )
    return assignment


def connectivity_withdraw_open_for_request(
    help_request: HelpRequest, *, by: User | None, reason: str
) -> int:
    """The request's open assignments are withdrawn (it was cancelled); returns how many."""
    ids = help_request.connectivity_assignments.open().order_by("pk").values_list("pk", flat=True)
    count = 0
    for pk in list(ids):
        connectivity_withdraw(ConnectivityAssignment(pk=pk), by=by, reason=reason)
        count += 1
    return count


# --- Fulfil (telecom provider) -------------------------------------------------------------


def _fulfil_locked(
    assignment: ConnectivityAssignment, provision: Provision, *, by: User, now
) -> None:
    assignment.sim_cards = provision.sim_cards
    assignment.hotspots = provision.hotspots
    assignment.bundle_ends_on = provision.bundle_ends_on
    assignment.provider_note = provision.note.strip()
    assignment.fulfilled_at = now
    assignment.fulfilled_by = by
    transition(
        assignment,
        ConnectivityAssignment.Status.FULFILLED,
        by=by,
        note=assignment.provider_note,
        update_fields=[
            "sim_cards",
            "hotspots",
            "bundle_ends_on",
            "provider_note",
            "fulfilled_at",
            "fulfilled_by",
        ],
        at=now,
        locked=True,
    )


def _notify_fulfilled(assignments: Sequence[ConnectivityAssignment], provider) -> None:
    """One mail per requesting organisation, however many of its lines one upload fulfilled."""
    by_organisation: dict[int, list[ConnectivityAssignment]] = {}
    for assignment in assignments:
        assignment.url = settings.SITE_URL + reverse(
            "coordination:request_detail", args=[assignment.help_request_id]
        )
        by_organisation.setdefault(assignment.help_request.organisation_id, []).append(assignment)
    for own in by_organisation.values():
        notify_organisation(
            own[0].help_request.organisation,
            kind="helprequest_connectivity_fulfilled",
            context={"assignments": own, "provider": provider.name},
        )


def connectivity_fulfil(
    assignment: ConnectivityAssignment,
    *,
    provider: Organisation,
    by: User,
    provision: Provision,
) -> ConnectivityAssignment:
    """The telecom provider reports what it provided for one of its open assignments; the same
    report again changes nothing, a different one for a provided assignment is refused."""
    errors = provision_errors(
        provision.sim_cards,
        provision.hotspots,
        provision.bundle_ends_on,
        today=timezone.localdate(),
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        assignment = _lock(assignment.pk)
        if problem := _state_problem(assignment, provider, provision):
            raise DomainError(problem)
        if assignment.status == ConnectivityAssignment.Status.FULFILLED:
            return assignment
        _fulfil_locked(assignment, provision, by=by, now=timezone.now())
        _notify_fulfilled([assignment], provider)
    return assignment


def _row_problems(
    rows: Sequence[ProvisionRow],
    assignments: dict[int, ConnectivityAssignment],
    provider: Organisation,
) -> list[tuple[int, str]]:
    problems = []
    first_row: dict[int, int] = {}
    for row in rows:
        if row.assignment_id in first_row:
            problems.append(
                (
                    row.row,
                    _("Deze opdracht staat ook al in rij %(row)d.")
                    % {"row": first_row[row.assignment_id]},
                )
            )
            continue
        first_row[row.assignment_id] = row.row
        assignment = assignments.get(row.assignment_id)
        if problem := _state_problem(assignment, provider, row.provision):
            problems.append((row.row, problem))
    return problems


def connectivity_check_rows(
    provider: Organisation, rows: Sequence[ProvisionRow]
) -> list[tuple[int, str]]:
    """Every (row, message) that would refuse an upload, without changing anything."""
    ids = {row.assignment_id for row in rows}
    assignments = ConnectivityAssignment.objects.filter(provider=provider, pk__in=ids).in_bulk()
    return _row_problems(rows, assignments, provider)


def connectivity_fulfil_many(
    *, provider: Organisation, by: User, rows: Sequence[ProvisionRow]
) -> FulfilResult:
    """A telecom provider reports many assignments at once (an uploaded file): all lines are
    recorded, or, when any line is refused, none; `ConnectivityRowsInvalid` lists every one."""
    if any(row.provision is None for row in rows):
        raise ValueError("every row needs a provision; refuse bad values before calling")
    with transaction.atomic():
        ids = sorted({row.assignment_id for row in rows})
        # Locked in id order, so that two uploads with overlapping lines cannot deadlock.
        assignments = {
            a.pk: a
            for a in ConnectivityAssignment.objects.select_for_update(of=("self",))
            .select_related("help_request__organisation")
            .filter(provider=provider, pk__in=ids)
            .order_by("pk")
        }
        if problems := _row_problems(rows, assignments, provider):
            raise ConnectivityRowsInvalid(problems)
        now = timezone.now()
        fulfilled = []
        for row in rows:
            assignment = assignments[row.assignment_id]
            if assignment.status == ConnectivityAssignment.Status.ASSIGNED:
                _fulfil_locked(assignment, row.provision, by=by, now=now)
                fulfilled.append(assignment)
        _notify_fulfilled(fulfilled, provider)
    return FulfilResult(fulfilled=fulfilled, unchanged=len(rows) - len(fulfilled))


# --- Weekly reminder of ending bundles -----------------------------------------------------


def connectivity_send_bundle_reminders(today: date | None = None) -> int:
    """Once a week each telecom provider hears which of its data bundles end within 30 days, so
    that it can extend them in time. Running it again in the same week sends nothing; returns
    how many providers were reminded."""
    today = today or timezone.localdate()
    week = today - timedelta(days=today.weekday())
    ending: dict[int, list[ConnectivityAssignment]] = defaultdict(list)
    for assignment in (
        ConnectivityAssignment.objects.bundles_ending(today, days=REMINDER_DAYS)
        .select_related("help_request__organisation", "provider")
        .order_by("bundle_ends_on", "id")
    ):
        ending[assignment.provider_id].append(assignment)
    reminded = 0
    for assignments in ending.values():
        provider = assignments[0].provider
        with transaction.atomic():
            reminder, created = ConnectivityReminder.objects.get_or_create(
                provider=provider, week=week
            )
            if not created:
                continue
            mails = notify_organisation(
                provider,
                kind="helprequest_connectivity_bundles_ending",
                context={
                    "assignments": assignments,
                    "days": REMINDER_DAYS,
                    "url": settings.SITE_URL + reverse("helprequests:telecom_dashboard"),
                },
            )
            reminder.bundles = len(assignments)
            reminder.recipients = len(mails)
            reminder.save(update_fields=["bundles", "recipients"])
            reminded += 1
    return reminded


def _provider_mail(assignment: ConnectivityAssignment) -> dict:
    return {
        "assignment": assignment,
        "help_request": assignment.help_request,
        "url": settings.SITE_URL + reverse("helprequests:telecom_detail", args=[assignment.pk]),
    }
