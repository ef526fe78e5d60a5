"""The priority policy: versioned, exactly one active, every field round-trips."""

import pytest
from django.db import IntegrityError

from distribution import services
from distribution.forms import PolicyForm, policy_initial
from distribution.models import PriorityPolicy
from distribution.solver_classes import Policy

pytestmark = pytest.mark.django_db


def test_the_default_policy_of_the_issue_becomes_version_1_once():
    first = services.policy_current()
    assert (first.version, first.is_active) == (1, True)
    assert first.policy == Policy()
    assert first.policy.group_weights == {
        "pupils_no_home_schooling": 100,
        "pupils": 70,
        "low_income_families": 60,
        "isolated_elderly": 60,
        "disability": 60,
        "newcomers": 60,
        "other": 40,
    }
    assert services.policy_current() == first
    assert PriorityPolicy.objects.count() == 1


def test_saving_a_change_makes_a_new_active_version_and_keeps_the_old(coordinator):
    services.policy_current()
    second = services.policy_save_version(Policy(aging_max=200), by=coordinator, note=" Wacht ")
    assert (second.version, second.is_active, second.note, second.created_by) == (
        2,
        True,
        "Wacht",
        coordinator,
    )
    assert list(PriorityPolicy.objects.values_list("version", "is_active")) == [
        (2, True),
        (1, False),
    ]
    # saving the same weights again changes nothing
    assert services.policy_save_version(Policy(aging_max=200), by=coordinator) == second
    assert PriorityPolicy.objects.count() == 2


def test_the_database_allows_only_one_active_version():
    services.policy_current()
    with pytest.raises(IntegrityError):
        PriorityPolicy.objects.create(version=2, weights=Policy().to_dict(), is_active=True)


def test_the_form_round_trips_every_field_of_the_policy():
    policy = Policy(
        group_weights={**Policy().group_weights, "newcomers": 75},
        urgency_bonus={"high": 30, "normal": 0, "low": -20},
        need_by_max_bonus=12,
        need_by_horizon_days=30,
        aging_points_per_day=2,
        aging_max=300,
        region_bonus={"same": 15, "neighbour": 6, "elsewhere": -1},
        grade_bonus={"A": 4, "B": 1, "C": 0},
        org_cap_share=0.125,
        min_specs={
            "secondary_pupils": {"laptop": {"ram_gb": 8, "storage_gb": 128}},
            "isolated_elderly": {"tablet": {"storage_gb": 16}},
        },
        allowed_grades={
            **{g: ["A", "B", "C"] for g in Policy().allowed_grades},
            "mbo_students": ["A", "B"],
        },
    )
    data = {k: v for k, v in policy_initial(policy).items() if v is not None}
    form = PolicyForm(data)
    assert form.is_valid(), form.errors
    assert form.policy == Policy.from_dict(policy.to_dict())


def test_a_group_without_any_allowed_grade_is_refused():
    data = {k: v for k, v in policy_initial(Policy()).items() if v is not None}
    data["grades_newcomers"] = []
    form = PolicyForm(data)
    assert not form.is_valid()
    assert form.errors["grades_newcomers"] == ["Kies ten minste één klasse."]
