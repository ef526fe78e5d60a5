"""A decision's mails are written once: an approval part carried out again (its task retried
after a worker was lost) queues no second mail to the organisation or the refurbisher."""

from django.core import mail
from django.db import transaction

from allemaal.models import Notification
from distribution.services.notify import notify_allocations_approved, notify_allocations_cancelled
from tests.factories import member_of


def test_an_approval_notified_twice_mails_each_member_once(
    allocations, school_board_org, refurbisher, django_capture_on_commit_callbacks
):
    member_of(school_board_org)
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify_allocations_approved(allocations)
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["allocation_approved", "allocation_prepare"]
    assert len(mail.outbox) == 2


def test_a_named_part_repeated_with_the_same_allocations_is_mailed_once(
    allocations, school_board_org, refurbisher
):
    member_of(school_board_org)
    notify_allocations_approved(allocations, part="run-7:part-3")
    notify_allocations_approved(allocations, part="run-7:part-3")
    assert Notification.objects.count() == 2


def test_a_different_decision_about_other_devices_is_mailed_again(
    allocations, school_board_org, refurbisher
):
    member_of(school_board_org)
    notify_allocations_approved(allocations[:2])
    notify_allocations_approved(allocations[2:])
    notify_allocations_cancelled(allocations[:2], "Het apparaat is kapot.")
    notify_allocations_cancelled(allocations[:2], "Het apparaat is kapot.")
    assert Notification.objects.filter(kind="allocation_approved").count() == 2
    assert Notification.objects.filter(kind="allocation_cancelled").count() == 1
    assert Notification.objects.filter(kind="allocation_prepare_cancelled").count() == 1
