"""The solver's array helpers against numpy's reference functions. No database."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from distribution.solver_arrays import sort_rows


@st.composite
def integer_columns(draw):
    rows = draw(st.integers(0, 60))
    count = draw(st.integers(1, 9))
    columns = []
    for _ in range(count):
        # Narrow ranges (packed into one key) and wide ones (lexsort's fallback), negatives too.
        bound = draw(st.sampled_from([1, 3, 1000, 2**20, 2**40, 2**62]))
        columns.append(
            np.array(draw(st.lists(st.integers(-bound, bound), min_size=rows, max_size=rows)))
        )
    return columns


@settings(max_examples=400, deadline=None)
@given(integer_columns())
def test_sort_rows_orders_as_lexsort_with_equal_rows_in_their_order(columns):
    expected = np.lexsort(columns[::-1])
    assert sort_rows(columns).tolist() == expected.tolist()
