"""Covering arrays: every plan built covers every t-way combination, is deterministic, small, and
falls back to the full product when that is cheap."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartgate.plan.covering import coverage_gaps, covering_array, exhaustive_size

# Levels mix types on purpose: the planner feeds booleans, API names and version strings.
LEVEL_POOL = ("a", "b", "c", "d", 0, 7, "1.30", "1.33")


@st.composite
def factor_spaces(draw, max_factors: int = 8, max_levels: int = 4):
    count = draw(st.integers(min_value=0, max_value=max_factors))
    factors = {}
    for i in range(count):
        kind = draw(st.sampled_from(["bool", "mixed"]))
        if kind == "bool":
            levels = [False, True]
        else:
            levels = draw(st.lists(st.sampled_from(LEVEL_POOL), min_size=1, max_size=max_levels, unique=True))
        factors[f"f{i}"] = levels
    return factors


@settings(max_examples=150, deadline=None, derandomize=True)
@given(factors=factor_spaces(), strength=st.integers(min_value=1, max_value=3),
       threshold=st.sampled_from([0, 1, 16, 64]))
def test_every_plan_covers_every_t_way_combination(factors, strength, threshold):
    rows = covering_array(factors, strength, exhaustive_threshold=threshold)
    assert coverage_gaps(rows, factors, strength) == []
    # Every row assigns every factor one of its own levels.
    for row in rows:
        assert list(row) == list(factors)  # in the caller's factor order
        assert all(row[name] in levels for name, levels in factors.items())
    assert 1 <= len(rows) <= max(exhaustive_size(factors), 1)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(factors=factor_spaces(), strength=st.integers(min_value=1, max_value=3))
def test_same_input_same_rows(factors, strength):
    first = covering_array(factors, strength, exhaustive_threshold=0)
    assert covering_array(dict(factors), strength, exhaustive_threshold=0) == first


def test_small_spaces_are_enumerated_exhaustively():
    factors = {"a": [False, True], "b": ["x", "y", "z"], "c": [1, 2]}
    rows = covering_array(factors, 2, exhaustive_threshold=12)
    assert [tuple(r.values()) for r in rows] == list(itertools.product(*factors.values()))


def test_no_more_factors_than_the_strength_means_every_combination():
    factors = {"a": [0, 1, 2], "b": ["x", "y"]}
    assert len(covering_array(factors, 3, exhaustive_threshold=0)) == 6


@pytest.mark.parametrize(("count", "strength", "at_most"), [(10, 2, 12), (20, 2, 16), (10, 3, 24), (20, 3, 32)])
def test_boolean_plans_stay_far_below_the_full_product(count, strength, at_most):
    factors = {f"t{i}": [False, True] for i in range(count)}
    rows = covering_array(factors, strength, exhaustive_threshold=0)
    assert coverage_gaps(rows, factors, strength) == []
    assert len(rows) <= at_most < 2 ** count


def test_no_factors_is_one_empty_row():
    assert covering_array({}, 2) == [{}]
    assert coverage_gaps([{}], {}, 2) == []


def test_gaps_name_the_missing_combination():
    factors = {"a": [False, True], "b": [False, True]}
    rows = [{"a": False, "b": False}, {"a": True, "b": True}, {"a": False, "b": True}]
    assert coverage_gaps(rows, factors, 2) == [(("a", True), ("b", False))]
    assert coverage_gaps(rows, factors, 1) == []


def test_a_row_without_the_factor_covers_nothing_for_it():
    assert coverage_gaps([{"a": 1}], {"a": [1], "b": [1]}, 1) == [(("b", 1),)]


@pytest.mark.parametrize(("factors", "strength", "message"), [
    ({"a": []}, 2, "factor 'a' has no levels"),
    ({"a": [1, 1]}, 2, "factor 'a' lists a level twice"),
    ({"a": [1]}, 0, "strength must be >= 1"),
])
def test_bad_input_says_what_is_wrong(factors, strength, message):
    with pytest.raises(ValueError, match=message):
        covering_array(factors, strength)
