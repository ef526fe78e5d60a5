"""The run's queue places computed with numpy (solver_queue) against the reference row by row
(selectors.queue_records, one priority_parts call per request). No database."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from distribution.selectors.progress import queue_records
from distribution.solver_classes import TARGET_GROUPS, URGENCIES, RequestIn
from distribution.solver_queue import queue_places
from distribution.tests.test_solver import TODAY, policies

requests_strategy = st.lists(
    st.tuples(
        st.sampled_from(TARGET_GROUPS),
        st.booleans(),
        st.sampled_from(URGENCIES),
        st.one_of(st.none(), st.integers(-30, 120)),  # need-by, days from today
        st.integers(-3, 400),  # days since approval (a few in the future)
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 6),  # proposed units
        st.integers(1, 4),  # organisation
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(policies(), requests_strategy, st.randoms(use_true_random=False))
def test_queue_places_match_the_reference_row_for_row(policy, rows, rnd):
    requests, proposed = [], {}
    ids = rnd.sample(range(1, 10_000), len(rows))
    for rid, (group, no_home, urgency, need_by, waited, lap, tab, either, got, org) in zip(
        ids, rows, strict=True
    ):
        requests.append(
            RequestIn(
                id=rid,
                organisation_id=org,
                target_group=group,
                no_home_schooling=no_home,
                province="Utrecht",
                urgency=urgency,
                need_by=None if need_by is None else TODAY + timedelta(days=need_by),
                approved_on=TODAY - timedelta(days=waited),
                open_laptops=lap,
                open_tablets=tab,
                open_either=either,
            )
        )
        if got and lap + tab + either:
            proposed[rid] = min(got, lap + tab + either)
    expected_rows, expected_totals = queue_records(requests, proposed, policy, TODAY)
    proposed_ids = np.repeat(
        np.array(list(proposed), np.int64), np.array(list(proposed.values()), np.int64)
    )
    places = queue_places(requests, proposed_ids, policy, TODAY)
    assert places.rows() == expected_rows
    assert places.totals == expected_totals
    assert list(places.totals["lengths"]) == list(expected_totals["lengths"])
