"""Load demo data, idempotently: one log-in per actor, and each app's demo content.

Each app may provide `<app>/demo.py` with `load(command, personas)`; it is called in the order
of DEMO_APPS and must be idempotent too.
"""

import importlib
import logging

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from allemaal.models import Membership, Notification, Organisation, User
from allemaal.postcodes import province_for_postcode
from allemaal.services import organisation_verify

DEMO_APPS = ["donations", "helprequests", "refurbish", "distribution", "coordination"]
DEMO_PASSWORD = "demo-allemaal-2026"  # noqa: S105 - demo data, printed on purpose
# A fixed, documented secret so that a newcomer can add the demo coordinator to an authenticator
# app; it is demo data only and never used outside `make run`.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - demo data only

ORGANISATIONS = {
    "donor": dict(
        kind="donor",
        name="Voorbeeld Verzekeringen BV",
        kvk_number="12345678",
        street="Stationsplein 1",
        postcode="3511 ED",
        city="Utrecht",
        phone="+31301234567",
        website="https://voorbeeld-verzekeringen.example",
    ),
    "donor2": dict(
        kind="donor",
        name="Bakkerij Groot Zakelijk BV",
        kvk_number="23456789",
        street="Markt 12",
        postcode="5611 EB",
        city="Eindhoven",
        phone="+31401234567",
    ),
    "school_board": dict(
        kind="requester",
        sector="school_board",
        name="Stichting Openbaar Onderwijs Rivierenland",
        kvk_number="34567890",
        brin_code="",
        street="Schoolstraat 5",
        postcode="4001 AB",
        city="Tiel",
        phone="+31344123456",
    ),
    "seniors": dict(
        kind="requester",
        sector="elderly_care",
        name="SeniorWeb Afdeling Zwolle",
        kvk_number="45678901",
        street="Grote Kerkplein 3",
        postcode="8011 PK",
        city="Zwolle",
        phone="+31381234567",
    ),
    "municipality": dict(
        kind="requester",
        sector="municipality",
        name="Gemeente Voorbeeldstad",
        kvk_number="56789012",
        street="Raadhuisplein 1",
        postcode="2611 AA",
        city="Delft",
        phone="+31151234567",
    ),
    "refurbisher": dict(
        kind="refurbisher",
        name="Opknap ICT Partners BV",
        kvk_number="67890123",
        street="Industrieweg 20",
        postcode="3542 AD",
        city="Utrecht",
        phone="+31307654321",
    ),
    "telecom": dict(
        kind="telecom",
        name="Verbinding Telecom NV",
        kvk_number="78901234",
        street="Telecomlaan 8",
        postcode="2595 AA",
        city="Den Haag",
        phone="+31701234567",
    ),
    "pending": dict(
        kind="requester",
        sector="welfare",
        name="Welzijn Nieuw Aangemeld",
        kvk_number="89012345",
        street="Dorpsstraat 2",
        postcode="9711 AA",
        city="Groningen",
        phone="+31501234567",
        status="pending",
    ),
}


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo log-ins."

    def handle(self, *args, **options):
        # The demo's own verifications and decisions are not security events of real people:
        # the security log stays quiet, so the demo log-ins are what `make run` shows last.
        security = logging.getLogger("allemaal.security")
        level = security.level
        security.setLevel(logging.WARNING)
        try:
            self.load_all()
        finally:
            security.setLevel(level)

    def load_all(self):
        with transaction.atomic():
            personas = self.load_core()
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            with transaction.atomic():
                module.load(self, personas)
        self.print_logins(personas)

    def user(self, email, **extra):
        user, created = User.objects.get_or_create(email=email, defaults=extra)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def staff(self, email, group):
        user = self.user(email, is_staff=True, first_name=group.capitalize())
        user.groups.add(Group.objects.get(name=group))
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
        rc = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
        codes = RecoveryCodes(rc) if rc else RecoveryCodes.activate(user)
        return user, codes.get_unused_codes()

    def load_core(self) -> dict:
        personas = {"organisations": {}, "users": {}, "recovery_codes": {}}
        for role, group in [("coordinator", "coordinators"), ("helpdesk", "helpdesk")]:
            user, codes = self.staff(f"{role}@demo.allemaal-digitaal.nl", group)
            personas["users"][role] = user
            personas["recovery_codes"][role] = codes
        for key, data in ORGANISATIONS.items():
            data = dict(data)
            status = data.pop("status", Organisation.Status.VERIFIED)
            org, _ = Organisation.objects.get_or_create(
                kind=data["kind"],
                kvk_number=data["kvk_number"],
                brin_code=data.get("brin_code", ""),
                defaults={**data, "province": province_for_postcode(data["postcode"])},
            )
            if status == Organisation.Status.VERIFIED and not org.is_verified:
                # Verified by the demo coordinator through the service (history row and all);
                # its welcome mail is not sent for demo data.
                mails = set(Notification.objects.values_list("pk", flat=True))
                organisation_verify(org, by=personas["users"]["coordinator"])
                org.refresh_from_db()
                Notification.objects.exclude(pk__in=mails).delete()  # before commit: never sent
            user = self.user(f"{key.replace('_', '-')}@demo.allemaal-digitaal.nl")
            Membership.objects.get_or_create(
                user=user, defaults={"organisation": org, "role": Membership.Role.ADMIN}
            )
            personas["organisations"][key] = org
            personas["users"][key] = user
        return personas

    def print_logins(self, personas):
        out = self.stdout
        out.write("")
        out.write("=" * 78)
        out.write(f"Demo log-ins (password for all: {DEMO_PASSWORD})")
        out.write("=" * 78)
        for key, user in personas["users"].items():
            org = personas["organisations"].get(key)
            what = f"{org.get_kind_display()}: {org.name}" if org else "staff"
            if org and not org.is_verified:
                what += " (wacht op controle / awaiting verification)"
            out.write(f"  {user.email:<48} {what}")
        out.write("")
        out.write("Coordinator and helpdesk use two-step verification (TOTP).")
        out.write(f"  Authenticator secret (demo only): {DEMO_TOTP_SECRET}")
        for role, codes in personas["recovery_codes"].items():
            out.write(f"  Recovery codes for {role}: {' '.join(codes)}")
        for line in personas.get("extra_lines", []):
            out.write(line)
        if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            out.write(f"E-mails (also the demo data's) are written to {settings.EMAIL_FILE_PATH}/")
        out.write(f"Open {settings.SITE_URL}/ ; the admin is at {settings.SITE_URL}/admin/")
        out.write("=" * 78)
