"""Tests for sim.model.metrics: known answers, hand-computed examples and properties."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.model.metrics import (
    attainment,
    attainment_gap,
    deadlock_rate,
    decision_rate,
    gini,
    group_totals,
    participation_rate,
    policy_coverage,
    representation_ratio,
    resource_elasticity,
    theil,
    theil_decomposition,
    time_to_first_agreement,
    voice_shares,
)

# Non-negative amounts on a sensible scale (speaking minutes, delegates, budgets).
amounts = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def grouped_amounts(draw, max_size: int = 40):
    """Non-negative values with group codes (some groups possibly empty)."""
    n = draw(st.integers(min_value=0, max_value=max_size))
    n_groups = draw(st.integers(min_value=1, max_value=6))
    x = draw(hnp.arrays(float, n, elements=amounts))
    groups = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_groups - 1)))
    return x, groups, n_groups


def brute_force_gini(x: np.ndarray) -> float:
    """Mean absolute difference over all ordered pairs / (2 * mean), i.e.
    sum_ij |x_i - x_j| / (2 n sum_i x_i)."""
    n = x.size
    if n == 0 or x.sum() == 0:
        return 0.0
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * n * x.sum()))


# ----------------------------------------------------------------------------
# participation and voice
# ----------------------------------------------------------------------------


def test_participation_rate_scalar_and_array():
    assert participation_rate(3, 4) == 0.75
    assert isinstance(participation_rate(3, 4), float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warning for eligible == 0
        rate = participation_rate(np.array([1, 0, 2, 0]), np.array([2, 0, 2, 5]))
        assert math.isnan(participation_rate(0, 0))
    np.testing.assert_array_equal(rate, [0.5, np.nan, 1.0, 0.0])


def test_group_totals_counts_every_group():
    totals = group_totals([1.0, 2.0, 3.0, 4.0], [0, 2, 0, 2], 4)
    np.testing.assert_array_equal(totals, [4.0, 0.0, 6.0, 0.0])


def test_group_totals_rejects_codes_out_of_range():
    with pytest.raises(ValueError, match="0..1"):
        group_totals([1.0, 2.0], [0, 2], 2)
    with pytest.raises(ValueError, match="one code per actor"):
        group_totals([1.0, 2.0], [0], 2)


def test_voice_shares_example_and_zero_voice():
    np.testing.assert_allclose(
        voice_shares([3, 1, 0, 4], [0, 1, 1, 2], 4), [3 / 8, 1 / 8, 4 / 8, 0]
    )
    assert np.all(np.isnan(voice_shares([0, 0], [0, 1], 3)))
    assert voice_shares([0, 0], [0, 1], 3).shape == (3,)


@settings(max_examples=50, deadline=None)
@given(grouped_amounts())
def test_voice_shares_sum_to_one(data):
    voice, groups, n_groups = data
    shares = voice_shares(voice, groups, n_groups)
    if voice.sum() > 0:
        assert shares.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(shares >= 0)
    else:
        assert np.all(np.isnan(shares))


def test_representation_ratio_parity_and_missing_population():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ratio = representation_ratio([0.5, 0.3, 0.2, 0.0], [0.25, 0.3, 0.0, 0.45])
    np.testing.assert_allclose(ratio, [2.0, 1.0, np.nan, 0.0])


# ----------------------------------------------------------------------------
# inequality
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([1, 1, 1, 1], 0.0),
        ([0, 0, 0, 1], 0.75),  # one holder of everything: (n - 1) / n
        ([1, 2, 3, 4, 5], 4 / 15),  # textbook value 0.2667
        ([], 0.0),
        ([0, 0, 0], 0.0),
        ([7], 0.0),
    ],
)
def test_gini_known_values(x, expected):
    x = np.asarray(x, dtype=float)
    assert gini(x) == pytest.approx(expected, abs=1e-15)
    assert brute_force_gini(x) == pytest.approx(expected, abs=1e-15)  # the check is independent


def test_gini_rejects_negative_values():
    with pytest.raises(ValueError, match="negative"):
        gini([1.0, -0.5, 2.0])


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(float, st.integers(0, 40), elements=amounts))
def test_gini_bounds_and_pairwise_formula(x):
    g = gini(x)
    assert 0.0 <= g < 1.0
    if x.size:
        assert g <= (x.size - 1) / x.size + 1e-12
    assert g == pytest.approx(brute_force_gini(x), abs=1e-9)


@pytest.mark.parametrize("n", [1, 2, 5, 193])
def test_theil_equal_and_concentrated(n):
    assert theil(np.full(n, 3.7)) == pytest.approx(0.0, abs=1e-15)
    concentrated = np.zeros(n)
    concentrated[-1] = 12.0
    assert theil(concentrated) == pytest.approx(math.log(n), rel=1e-14)


def test_theil_empty_zero_and_negative():
    assert theil([]) == 0.0
    assert theil([0.0, 0.0]) == 0.0
    with pytest.raises(ValueError, match="negative"):
        theil([1.0, -1.0])


def test_theil_hand_example():
    # x = (1, 3): mu = 2, T = (1/2) [0.5 ln 0.5 + 1.5 ln 1.5]
    expected = 0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5))
    assert theil([1.0, 3.0]) == pytest.approx(expected, rel=1e-15)


def test_theil_decomposition_hand_example():
    # group 0 = (1, 1), group 1 = (2, 4), group 2 empty: mu = 2, mu_0 = 1, mu_1 = 3
    x = np.array([1.0, 1.0, 2.0, 4.0])
    total, between, within = theil_decomposition(x, [0, 0, 1, 1], 3)
    s0, s1 = 2 / 8, 6 / 8
    expected_between = s0 * math.log(1 / 2) + s1 * math.log(3 / 2)
    t1 = 0.5 * ((2 / 3) * math.log(2 / 3) + (4 / 3) * math.log(4 / 3))
    assert between == pytest.approx(expected_between, rel=1e-14)
    assert within == pytest.approx(s1 * t1, rel=1e-14)
    assert total == pytest.approx(theil(x), rel=1e-15)


def test_theil_decomposition_degenerate_cases():
    assert theil_decomposition([], [], 2) == (0.0, 0.0, 0.0)
    assert theil_decomposition([0.0, 0.0], [0, 1], 2) == (0.0, 0.0, 0.0)
    # one group only: nothing between groups
    total, between, within = theil_decomposition([1.0, 5.0], [1, 1], 2)
    assert between == pytest.approx(0.0, abs=1e-15)
    assert within == pytest.approx(total, abs=1e-15)
    # each value its own group: nothing within groups
    total, between, within = theil_decomposition([1.0, 5.0, 0.0], [0, 1, 2], 3)
    assert within == 0.0
    assert between == pytest.approx(total, abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(grouped_amounts())
def test_theil_nonnegative_and_decomposes(data):
    x, groups, n_groups = data
    t = theil(x)
    assert t >= 0.0
    if x.size:
        assert t <= math.log(x.size) + 1e-12
    total, between, within = theil_decomposition(x, groups, n_groups)
    assert total == t
    assert within >= -1e-12
    assert abs(total - (between + within)) <= 1e-12


# ----------------------------------------------------------------------------
# outcomes
# ----------------------------------------------------------------------------


def test_attainment_hand_example_with_undecided_issue():
    outcome = np.array([0.5, np.nan, 1.0])
    position = np.array(
        [
            [0.5, 0.0, 1.0],  # got exactly what it wanted on both decided issues
            [0.0, 1.0, 0.0],  # distances 0.5 and 1.0, saliences 1 and 3
            [0.2, 0.9, 0.5],  # cares only about the undecided issue
        ]
    )
    salience = np.array([[1.0, 5.0, 1.0], [1.0, 2.0, 3.0], [0.0, 4.0, 0.0]])
    result = attainment(outcome, position, salience)
    expected_1 = 1 - (1 * 0.5 + 3 * 1.0) / (1 + 3)
    np.testing.assert_allclose(result, [1.0, expected_1, np.nan])


def test_attainment_nothing_decided_is_nan():
    result = attainment(np.full(2, np.nan), np.full((3, 2), 0.5), np.ones((3, 2)))
    assert np.all(np.isnan(result))


def test_attainment_validates_inputs():
    with pytest.raises(ValueError, match="salience"):
        attainment([0.5], [[0.5]], [[-1.0]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        attainment([0.5], [[1.5]], [[1.0]])
    with pytest.raises(ValueError, match="shape"):
        attainment([0.5, 0.5], [[0.5]], [[1.0]])


def test_attainment_tolerates_rounding_drift():
    drifted = 1.0 + 2e-16
    result = attainment([0.0], [[drifted]], [[1.0]])
    assert result[0] == 0.0
    assert attainment([drifted], [[1.0]], [[1.0]])[0] == pytest.approx(1.0)


unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def attainment_inputs(draw):
    n = draw(st.integers(1, 8))
    k = draw(st.integers(1, 6))
    outcome = draw(hnp.arrays(float, k, elements=unit | st.just(np.nan)))
    position = draw(hnp.arrays(float, (n, k), elements=unit))
    salience = draw(hnp.arrays(float, (n, k), elements=st.floats(0.0, 10.0)))
    return outcome, position, salience


@settings(max_examples=50, deadline=None)
@given(attainment_inputs())
def test_attainment_in_unit_interval(data):
    outcome, position, salience = data
    result = attainment(outcome, position, salience)
    finite = np.isfinite(result)
    assert np.all((result[finite] >= 0.0) & (result[finite] <= 1.0))
    weight_on_decided = np.where(np.isfinite(outcome), salience, 0.0).sum(axis=1)
    np.testing.assert_array_equal(~finite, weight_on_decided == 0)


def test_attainment_gap():
    values = np.array([0.9, 0.7, np.nan, 0.4, 0.6, 0.1])
    groups = np.array([0, 0, 0, 1, 1, 2])
    assert attainment_gap(values, groups, 0, 1) == pytest.approx(0.8 - 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(attainment_gap(values, groups, 0, 3))  # empty group


def test_resource_elasticity_recovers_log_slope():
    resources = np.array([1.0, math.e, math.e**2, math.e**3, 0.0, 5.0])
    values = 0.2 + 0.1 * np.log(np.where(resources > 0, resources, 1.0))
    values[-1] = np.nan  # dropped, like the zero-resource actor
    assert resource_elasticity(values, resources) == pytest.approx(0.1, rel=1e-12)


def test_resource_elasticity_needs_two_resource_levels():
    assert math.isnan(resource_elasticity([0.1, 0.9], [2.0, 2.0]))
    assert math.isnan(resource_elasticity([0.1, np.nan], [1.0, 3.0]))
    assert math.isnan(resource_elasticity([], []))


# ----------------------------------------------------------------------------
# forum performance
# ----------------------------------------------------------------------------


def test_decision_and_deadlock_rates():
    decided = np.array([True, False, False, True, False])
    decisional = np.array([True, True, False, True, True])
    deadlocked = decisional & ~decided
    assert decision_rate(decided) == pytest.approx(2 / 5)
    assert deadlock_rate(deadlocked, decisional) == pytest.approx(2 / 4)
    assert math.isnan(decision_rate(np.array([], dtype=bool)))
    assert math.isnan(deadlock_rate([False, False], [False, False]))


def test_time_to_first_agreement():
    steps = np.array([3, 1, 7, 4])
    assert time_to_first_agreement(steps, [False, False, True, True]) == 4.0
    assert time_to_first_agreement(np.arange(4), [False, True, False, True]) == 1.0
    assert math.isnan(time_to_first_agreement(steps, [False] * 4))


def test_policy_coverage():
    adopted = np.array([True, False, True, False])
    salience = np.array([0.5, 0.25, 0.75, 1.0])
    public_policy = np.array([True, True, False, False])
    assert policy_coverage(adopted, salience, public_policy) == pytest.approx(0.5 / 0.75)
    assert math.isnan(policy_coverage(adopted, salience, np.zeros(4, dtype=bool)))
    assert policy_coverage(adopted, salience, np.array([True, False, True, False])) == 1.0
