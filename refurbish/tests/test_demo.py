from io import StringIO

from django.core.management import call_command

from donations.models import Device
from refurbish.models import ErasureCertificate, ErasureRecord, StationToken


def test_seed_demo_twice_shows_every_state_and_a_certificate(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = (
        Device.objects.filter(donation__brands__startswith="Demo opknappen").count(),
        ErasureRecord.objects.count(),
        ErasureCertificate.objects.count(),
        StationToken.objects.count(),
    )
    call_command("seed_demo", stdout=out)
    assert (
        Device.objects.filter(donation__brands__startswith="Demo opknappen").count(),
        ErasureRecord.objects.count(),
        ErasureCertificate.objects.count(),
        StationToken.objects.count(),
    ) == counts
    states = set(
        Device.objects.filter(donation__brands__startswith="Demo opknappen").values_list(
            "state", flat=True
        )
    )
    assert states == set(Device.State.values)
    assert counts[1] > 0
    assert (
        ErasureCertificate.objects.filter(donation__brands__startswith="Demo opknappen").count()
        == 1
    )
    text = out.getvalue()
    assert "adw_demo-wisstation" in text and "/opknappen/certificaat/" in text
