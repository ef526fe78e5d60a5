"""The certificate of data erasure of a donation, issued once every device has an outcome."""

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse

from allemaal.security_log import security_event
from allemaal.services import notify_organisation
from donations.models import Donation
from donations.services import DEVICE_OUTCOME_STATES

from ..models import ErasureCertificate


def new_certificate_code() -> str:
    """128 random bits in Crockford base 32 (26 symbols): cannot be guessed."""
    from ..asset_tags import ALPHABET

    number = int.from_bytes(secrets.token_bytes(16), "big")
    symbols = []
    for _position in range(26):
        number, index = divmod(number, 32)
        symbols.append(ALPHABET[index])
    return "".join(symbols)


def certificate_verify_path(code: str) -> str:
    """The public page where anyone checks a certificate: `/verify/<code>/` once the project's
    URLs mount it at the root as "certificate_verify", else the refurbish app's own address."""
    try:
        return reverse("certificate_verify", args=[code])
    except NoReverseMatch:
        return reverse("refurbish:certificate_verify", args=[code])


def certificate_verify_url(code: str) -> str:
    return settings.SITE_URL + certificate_verify_path(code)


def certificate_issue_if_complete(donation_id: int) -> ErasureCertificate | None:
    """Issue the donation's erasure certificate once every device has an outcome, and tell the
    donor; a no-op before that and after it was issued."""
    from ..selectors import certificate_summary

    donation = Donation.objects.select_related("donor", "refurbisher").get(pk=donation_id)
    if ErasureCertificate.objects.filter(donation=donation).exists():
        return None
    states = list(donation.devices.values_list("state", flat=True))
    if not states or any(state not in DEVICE_OUTCOME_STATES for state in states):
        return None
    try:
        with transaction.atomic():
            certificate = ErasureCertificate.objects.create(
                donation=donation,
                code=new_certificate_code(),
                summary=certificate_summary(donation),
            )
    except IntegrityError:  # issued by a concurrent step a moment ago
        return None
    security_event("certificate_issued", organisation=donation.donor_id, obj=certificate)
    notify_organisation(
        donation.donor,
        kind="refurbish_certificate_ready",
        context={
            "donation": donation,
            "certificate_code": certificate.display_code,
            "url": settings.SITE_URL + reverse("refurbish:certificate", args=[donation.pk]),
            "verify_url": certificate_verify_url(certificate.code),
        },
    )
    return certificate
