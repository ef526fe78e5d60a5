"""Demo help requests for `manage.py seed_demo`: several sectors, every status, one duplicate,
and internet assignments for the demo telecom provider (one provided, its bundle ending within
30 days; one still to provide).

Everything goes through the services, with the demo personas as the people who act: the
organisations register and are verified, requests are created, submitted (which flags the
duplicate), approved, rejected, fulfilled, closed or cancelled, connections assigned and
provided. The e-mails the services queue are dropped before the demo transaction commits, so
loading sends none. The services stamp the current time; the demo then moves each request's past
back by its days (see `_backdate`). Idempotent: each demo request is found again by its
organisation, target group and motivation.
"""

from datetime import timedelta

from django.utils import timezone

from allemaal import services as core
from allemaal.models import Notification, Organisation, User

from . import services
from .models import ConnectivityAssignment, HelpRequest, IntakeSwitch
from .services.connectivity import Provision

EXTRA_ORGANISATIONS = {
    "school": dict(
        kind="requester",
        sector="school",
        name="OBS De Regenboog",
        kvk_number="91234567",
        brin_code="04AB",
        street="Regenbooglaan 7",
        postcode="4003 AK",
        city="Tiel",
        phone="+31344765432",
    ),
    "welfare": dict(
        kind="requester",
        sector="welfare",
        name="Stichting Welzijn Delft",
        kvk_number="92345678",
        street="Raadhuisplein 1",
        postcode="2611 AA",
        city="Delft",
        phone="+31157654321",
    ),
}

# (organisation key, status, days ago submitted, fields); counts only, never names.
REQUESTS = [
    (
        "school_board",
        HelpRequest.Status.APPROVED,
        12,
        dict(
            target_group="primary_pupils",
            no_home_schooling=True,
            laptops=40,
            either=10,
            people_reached=55,
            connectivity_households=8,
            urgency="high",
            need_by_days=14,
            motivation="Veel leerlingen van onze scholen hebben thuis geen laptop voor de les.",
            approved=(30, 0, 10),
        ),
    ),
    (
        "school_board",
        HelpRequest.Status.SUBMITTED,
        2,
        dict(
            target_group="secondary_pupils",
            no_home_schooling=True,
            laptops=25,
            people_reached=25,
            connectivity_households=5,
            urgency="normal",
            need_by_days=30,
            motivation="Brugklassers zonder eigen laptop; de school kan er te weinig uitlenen.",
        ),
    ),
    (
        "school_board",
        HelpRequest.Status.DRAFT,
        None,
        dict(
            target_group="mbo_students",
            laptops=10,
            people_reached=10,
            motivation="Nog in overleg met de mbo-locatie over het aantal.",
        ),
    ),
    (
        "school",
        HelpRequest.Status.APPROVED,
        20,
        dict(
            target_group="primary_pupils",
            laptops=12,
            people_reached=12,
            urgency="normal",
            need_by_days=21,
            motivation="Groep 7 en 8 hebben thuis vaak alleen een telefoon.",
            approved=(12, 0, 0),
        ),
    ),
    (
        "seniors",
        HelpRequest.Status.APPROVED,
        9,
        dict(
            target_group="isolated_elderly",
            tablets=60,
            people_reached=60,
            connectivity_households=20,
            urgency="normal",
            need_by_days=45,
            motivation="Ouderen die alleen wonen willen beeldbellen met familie en de huisarts.",
            approved=(0, 60, 0),
        ),
    ),
    (
        "seniors",
        HelpRequest.Status.FULFILLED,
        60,
        dict(
            target_group="isolated_elderly",
            tablets=20,
            people_reached=20,
            urgency="high",
            need_by_days=-30,
            motivation="Eerste groep deelnemers aan onze cursus 'Digitaal contact'.",
            approved=(0, 20, 0),
        ),
    ),
    (
        "seniors",
        HelpRequest.Status.REJECTED,
        40,
        dict(
            target_group="other",
            target_group_other="Vrijwilligers van onze afdeling",
            laptops=8,
            people_reached=8,
            urgency="low",
            need_by_days=20,
            motivation="Laptops voor onze vrijwilligers die les geven.",
            reason="Apparaten zijn bedoeld voor de mensen die u helpt, niet voor vrijwilligers.",
        ),
    ),
    (
        "municipality",
        HelpRequest.Status.SUBMITTED,
        3,
        dict(
            target_group="low_income_families",
            laptops=30,
            tablets=10,
            people_reached=80,
            connectivity_households=25,
            urgency="high",
            need_by_days=21,
            motivation="Gezinnen in de schuldhulpverlening zonder computer voor school en werk.",
        ),
    ),
    (
        "municipality",
        HelpRequest.Status.CLOSED,
        90,
        dict(
            target_group="newcomers",
            laptops=15,
            people_reached=15,
            urgency="normal",
            need_by_days=-45,
            motivation="Statushouders die de inburgeringscursus online volgen.",
            approved=(15, 0, 0),
        ),
    ),
    (
        "municipality",
        HelpRequest.Status.CANCELLED,
        15,
        dict(
            target_group="disability",
            tablets=5,
            people_reached=5,
            urgency="low",
            need_by_days=40,
            motivation="Aangepaste tablets voor dagbesteding; geregeld via een ander fonds.",
        ),
    ),
    (
        "welfare",
        HelpRequest.Status.SUBMITTED,
        1,
        dict(
            target_group="low_income_families",
            laptops=20,
            people_reached=20,
            connectivity_households=10,
            urgency="normal",
            need_by_days=30,
            motivation="Gezinnen die via ons buurtteam hulp krijgen bij geldzaken.",
        ),
    ),
]


def load(command, personas):
    latest_mail = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    organisations = {**personas["organisations"], **_extra_organisations(command, personas)}
    created = _demo_requests(organisations, personas)
    IntakeSwitch.objects.get_or_create(
        device_type="tablet",
        target_group="newcomers",
        defaults={
            "is_open": False,
            "reason": "De voorraad tablets voor deze doelgroep is op.",
            "changed_by": personas["users"]["coordinator"],
        },
    )
    assignments = _demo_connectivity(organisations, personas)
    # The services queued e-mails (and asked for an allocation run on commit, which is how the
    # platform behaves); the demo sends none of the e-mails.
    Notification.objects.filter(id__gt=latest_mail).filter(kind__startswith="helprequest_").delete()
    Notification.objects.filter(
        id__gt=latest_mail, kind__in=["organisation_registered", "organisation_verified"]
    ).delete()
    flagged = HelpRequest.objects.filter(duplicate_of__isnull=False).select_related("duplicate_of")
    lines = personas.setdefault("extra_lines", [])
    lines.append("Help requests: requesters see theirs at /hulpaanvragen/; coordinators in the")
    lines.append(
        "  admin (Hulpaanvragen). Flagged duplicates: "
        + ", ".join(f"{r.reference} ~ {r.duplicate_of.reference}" for r in flagged)
    )
    lines.append(
        "Internet connections: the telecom provider sees its assignments at "
        "/hulpaanvragen/internet/; coordinators assign from the help requests in the admin."
    )
    command.stdout.write(
        f"helprequests: {created} demo help requests, {assignments} internet assignments created"
    )


def _extra_organisations(command, personas) -> dict:
    """Two more requesting organisations, registered by their demo user and verified by the
    demo coordinator."""
    extra = {}
    # Every demo log-in has the same printed password. Hashing it takes a third of a second by
    # design (PBKDF2), so these users take the stored hash of another demo requester instead
    # of hashing the same password again; `command.user` then finds them and adds the rest.
    same_password = personas["users"]["school_board"].password
    for key, data in EXTRA_ORGANISATIONS.items():
        email = f"{key}@demo.allemaal-digitaal.nl"
        User.objects.get_or_create(email=email, defaults={"password": same_password})
        user = command.user(email)
        org = Organisation.objects.filter(
            kind=data["kind"], kvk_number=data["kvk_number"], brin_code=data.get("brin_code", "")
        ).first()
        if org is None:
            org = core.organisation_create(user=user, data=dict(data))
        org = core.organisation_verify(org, by=personas["users"]["coordinator"])
        personas["users"][key] = user
        personas["organisations"][key] = org
        extra[key] = org
    return extra


def _demo_requests(organisations, personas) -> int:
    """Create the missing demo requests (in the order of REQUESTS, so their numbers are
    stable), then take each along its road in the order they were submitted: a duplicate is
    only flagged against a request that was open when it came in."""
    new = []
    for key, status, days_ago, fields in REQUESTS:
        organisation = organisations[key]
        if HelpRequest.objects.filter(
            organisation=organisation,
            target_group=fields["target_group"],
            motivation=fields["motivation"],
        ).exists():
            continue
        new.append((_draft(organisation, days_ago, dict(fields)), status, days_ago, fields))
    by_submission = sorted(new, key=lambda row: -1 if row[2] is None else row[2], reverse=True)
    coordinator = personas["users"]["coordinator"]
    for request, status, days_ago, fields in by_submission:
        times = _road(request, status, fields, coordinator)
        if days_ago is not None:
            _backdate(request, days_ago, fields.get("need_by_days"), times)
    return len(new)


def _requester(organisation):
    return organisation.memberships.select_related("user").order_by("pk").first().user


def _draft(organisation, days_ago, fields) -> HelpRequest:
    """The organisation starts its request. A need-by date that lies in the past today was in
    the future when the request came in: it is entered as it was then (`_backdate` moves it)."""
    fields.pop("approved", None)
    fields.pop("reason", None)
    need_by_days = fields.pop("need_by_days", None)
    data = {
        **fields,
        "delivery_street": organisation.street,
        "delivery_postcode": organisation.postcode,
        "delivery_city": organisation.city,
        "contact_name": "Contactpersoon " + organisation.name,
        "contact_phone": organisation.phone,
        "declaration": days_ago is not None,
    }
    if need_by_days is not None:
        data["need_by"] = timezone.localdate() + timedelta(days=need_by_days + (days_ago or 0))
    return services.helprequest_create(
        organisation=organisation, by=_requester(organisation), data=data
    )


def _road(request, status, fields, coordinator) -> list[timedelta]:
    """Take a draft along its road to `status`, as its people would; returns, per history row
    written, how long after the submission it happened (for `_backdate`)."""
    times = [timedelta(hours=-1)]
    if status == HelpRequest.Status.DRAFT:
        return times
    requester = request.created_by
    request = services.helprequest_submit(request, by=requester)
    times.append(timedelta(0))
    if status in (
        HelpRequest.Status.APPROVED,
        HelpRequest.Status.FULFILLED,
        HelpRequest.Status.CLOSED,
    ):
        laptops, tablets, either = fields["approved"]
        services.helprequest_approve(
            request, by=coordinator, laptops=laptops, tablets=tablets, either=either
        )
        times.append(timedelta(days=1))
    if status in (HelpRequest.Status.FULFILLED, HelpRequest.Status.CLOSED):
        services.helprequest_fulfil(request, by=coordinator)
        times.append(timedelta(days=15))
    if status == HelpRequest.Status.CLOSED:
        services.helprequest_close(request, by=coordinator)
        times.append(timedelta(days=16))
    if status == HelpRequest.Status.REJECTED:
        services.helprequest_reject(request, by=coordinator, reason=fields["reason"])
        times.append(timedelta(days=1))
    if status == HelpRequest.Status.CANCELLED:
        services.helprequest_cancel(request, by=requester)
        times.append(timedelta(days=2))
    return times


def _backdate(request, days_ago: int, need_by_days: int | None, times: list[timedelta]) -> None:
    """Move a request's past `days_ago` days back, since the services stamp the current time:
    submitted then, decided a day later, and so on (`times`). Only timestamps and the need-by
    date change; every status was set by a service, and the history keeps its order."""
    submitted = timezone.now() - timedelta(days=days_ago)
    events = list(request.events.order_by("pk").values_list("pk", flat=True))
    for pk, after in zip(events, times, strict=True):
        request.events.filter(pk=pk).update(at=submitted + after)
    request = HelpRequest.objects.get(pk=request.pk)
    decided = submitted + timedelta(days=1)
    HelpRequest.objects.filter(pk=request.pk).update(
        created_at=submitted - timedelta(hours=1),
        submitted_at=submitted if request.submitted_at else None,
        approved_at=decided if request.approved_at else None,
        decided_at=decided if request.decided_at else None,
        need_by=None if need_by_days is None else timezone.localdate() + timedelta(need_by_days),
    )


# (organisation key, motivation of its request, households, days ago assigned, provided):
# provided is (SIM cards, hotspots, days until the bundle ends, days ago provided) or None.
CONNECTIVITY = [
    (
        "school_board",
        "Veel leerlingen van onze scholen hebben thuis geen laptop voor de les.",
        5,
        10,
        (4, 1, 20, 7),
    ),
    (
        "seniors",
        "Ouderen die alleen wonen willen beeldbellen met familie en de huisarts.",
        12,
        2,
        None,
    ),
]


def _demo_connectivity(organisations, personas) -> int:
    """A coordinator assigns households to the demo telecom provider, which provides one of the
    two; then their past moves back by their days, like the requests'."""
    provider = personas["organisations"]["telecom"]
    provider_user = personas["users"]["telecom"]
    coordinator = personas["users"]["coordinator"]
    now = timezone.now()
    created = 0
    for key, motivation, households, days_ago, provided in CONNECTIVITY:
        request = HelpRequest.objects.filter(
            organisation=organisations[key], motivation=motivation
        ).first()
        if request is None or request.connectivity_assignments.filter(provider=provider).exists():
            continue
        assignment = services.connectivity.connectivity_assign(
            request, provider=provider, households=households, by=coordinator
        )
        times = {"assigned_at": now - timedelta(days=days_ago)}
        if provided:
            sim_cards, hotspots, ends_in, provided_ago = provided
            services.connectivity.connectivity_fulfil(
                assignment,
                provider=provider,
                by=provider_user,
                provision=Provision(
                    sim_cards=sim_cards,
                    hotspots=hotspots,
                    bundle_ends_on=timezone.localdate() + timedelta(days=ends_in),
                ),
            )
            times["fulfilled_at"] = now - timedelta(days=provided_ago)
        # Back-dating only: the history rows get the times of the steps, in the same order.
        ConnectivityAssignment.objects.filter(pk=assignment.pk).update(**times)
        for pk, at in zip(
            assignment.events.order_by("pk").values_list("pk", flat=True),
            times.values(),
            strict=True,
        ):
            assignment.events.filter(pk=pk).update(at=at)
        created += 1
    return created
