"""Demo help requests for `manage.py seed_demo`: several sectors, every status, one duplicate,
and internet assignments for the demo telecom provider (one provided, its bundle ending within
30 days; one still to provide).

Rows are written directly (not through the services) so that loading the demo sends no e-mail;
the duplicate flag is set with the same `find_twin` the submit service uses. Idempotent: each
demo request is found again by its organisation, target group and motivation.
"""

from datetime import timedelta

from django.utils import timezone

from allemaal.models import Membership, Organisation
from allemaal.postcodes import province_for_postcode

from .models import (
    ConnectivityAssignment,
    ConnectivityEvent,
    HelpRequest,
    HelpRequestEvent,
    IntakeSwitch,
)
from .selectors import find_twin

S = HelpRequest.Status
A = ConnectivityAssignment.Status

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
        S.APPROVED,
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
        S.SUBMITTED,
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
        S.DRAFT,
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
        S.APPROVED,
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
        S.APPROVED,
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
        S.FULFILLED,
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
        S.REJECTED,
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
        S.SUBMITTED,
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
        S.CLOSED,
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
        S.CANCELLED,
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
        S.SUBMITTED,
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
    organisations = {**personas["organisations"], **_extra_organisations(command, personas)}
    created = 0
    for key, status, days_ago, fields in REQUESTS:
        if _demo_request(organisations[key], status, days_ago, dict(fields), personas):
            created += 1
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
    extra = {}
    for key, data in EXTRA_ORGANISATIONS.items():
        org, _ = Organisation.objects.get_or_create(
            kind=data["kind"],
            kvk_number=data["kvk_number"],
            brin_code=data.get("brin_code", ""),
            defaults={
                **data,
                "status": Organisation.Status.VERIFIED,
                "province": province_for_postcode(data["postcode"]),
            },
        )
        user = command.user(f"{key}@demo.allemaal-digitaal.nl")
        Membership.objects.get_or_create(
            user=user, defaults={"organisation": org, "role": Membership.Role.ADMIN}
        )
        personas["users"][key] = user
        personas["organisations"][key] = org
        extra[key] = org
    return extra


def _demo_request(organisation, status, days_ago, fields, personas) -> bool:
    if HelpRequest.objects.filter(
        organisation=organisation,
        target_group=fields["target_group"],
        motivation=fields["motivation"],
    ).exists():
        return False
    now = timezone.now()
    approved = fields.pop("approved", (0, 0, 0))
    reason = fields.pop("reason", "")
    need_by_days = fields.pop("need_by_days", None)
    submitted_at = None if days_ago is None else now - timedelta(days=days_ago)
    requester = organisation.memberships.select_related("user").first()
    coordinator = personas["users"]["coordinator"]
    request = HelpRequest(
        organisation=organisation,
        delivery_street=organisation.street,
        delivery_postcode=organisation.postcode,
        delivery_city=organisation.city,
        delivery_province=province_for_postcode(organisation.postcode),
        contact_name="Contactpersoon " + organisation.name,
        contact_phone=organisation.phone,
        declaration=submitted_at is not None,
        need_by=None if need_by_days is None else (now + timedelta(days=need_by_days)).date(),
        created_by=requester.user if requester else None,
        created_at=(submitted_at or now) - timedelta(hours=1),
        submitted_at=submitted_at if status != S.DRAFT else None,
        **fields,
    )
    history = [(S.DRAFT, request.created_at, request.created_by)]
    if submitted_at and status != S.DRAFT:
        history.append((S.SUBMITTED, submitted_at, request.created_by))
    if status == S.SUBMITTED:
        request.duplicate_of, request.duplicate_reason = find_twin(request)
    decided_at = submitted_at and submitted_at + timedelta(days=1)
    if status in (S.APPROVED, S.FULFILLED, S.CLOSED):
        request.approved_laptops, request.approved_tablets, request.approved_either = approved
        request.approved_at = request.decided_at = decided_at
        request.decided_by = coordinator
        history.append((S.APPROVED, decided_at, coordinator))
    if status in (S.FULFILLED, S.CLOSED):
        history.append((S.FULFILLED, decided_at + timedelta(days=14), coordinator))
    if status == S.CLOSED:
        history.append((S.CLOSED, decided_at + timedelta(days=15), coordinator))
    if status == S.REJECTED:
        request.decision_reason = reason
        request.decided_at, request.decided_by = decided_at, coordinator
        history.append((S.REJECTED, decided_at, coordinator))
    if status == S.CANCELLED:
        history.append((S.CANCELLED, submitted_at + timedelta(days=2), request.created_by))
    request.status = status
    request.save()
    HelpRequestEvent.objects.bulk_create(
        HelpRequestEvent(help_request=request, from_status=prev, to_status=to, at=at, by=by)
        for prev, (to, at, by) in zip(["", *[h[0] for h in history]], history, strict=False)
    )
    return True


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
        assignment = ConnectivityAssignment(
            help_request=request,
            provider=provider,
            households=households,
            assigned_at=now - timedelta(days=days_ago),
            assigned_by=coordinator,
        )
        history = [("", A.ASSIGNED, assignment.assigned_at, coordinator)]
        if provided:
            sim_cards, hotspots, ends_in, provided_ago = provided
            assignment.status = A.FULFILLED
            assignment.sim_cards, assignment.hotspots = sim_cards, hotspots
            assignment.bundle_ends_on = timezone.localdate() + timedelta(days=ends_in)
            assignment.fulfilled_at = now - timedelta(days=provided_ago)
            assignment.fulfilled_by = provider_user
            history.append((A.ASSIGNED, A.FULFILLED, assignment.fulfilled_at, provider_user))
        assignment.save()
        ConnectivityEvent.objects.bulk_create(
            ConnectivityEvent(assignment=assignment, from_status=old, to_status=new, at=at, by=by)
            for old, new, at, by in history
        )
        created += 1
    return created
