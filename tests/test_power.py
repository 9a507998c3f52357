"""Tests for sim.model.power: published values, brute-force enumeration and properties."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.power import PowerIndex, banzhaf, shapley_shubik

# ----------------------------------------------------------------------------
# brute-force references (independent of the generating-function code)
# ----------------------------------------------------------------------------


def all_coalitions(n: int) -> np.ndarray:
    """Membership matrix of the 2^n coalitions, shape (2^n, n)."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)


def brute_force_banzhaf(weights, quota) -> np.ndarray:
    """Normalized Banzhaf index by enumerating every coalition."""
    w = np.asarray(weights, dtype=float)
    members = all_coalitions(w.size)
    weight = members @ w
    wins = weight >= quota
    # i swings for S + {i} (winning) when S = S + {i} - {i} loses
    loses_without = (weight[:, None] - w) < quota
    swings = (members & wins[:, None] & loses_without).sum(axis=0)
    return swings / swings.sum()


def brute_force_shapley_shubik(weights, quota) -> list[Fraction]:
    """Shapley-Shubik index by enumerating coalitions, in exact rational arithmetic:
    phi_i = sum_{S not containing i, i swings} |S|! (n-1-|S|)! / n!."""
    w = np.asarray(weights, dtype=float)
    n = w.size
    members = all_coalitions(n)
    weight = members @ w
    sizes = members.sum(axis=1)
    phi = []
    for i in range(n):
        swing = ~members[:, i] & (weight < quota) & (weight + w[i] >= quota)
        counts = np.bincount(sizes[swing], minlength=n)
        phi.append(
            sum(
                Fraction(int(c) * math.factorial(s) * math.factorial(n - 1 - s), math.factorial(n))
                for s, c in enumerate(counts)
            )
        )
    return phi


def pivot_frequencies(weights, quota) -> list[Fraction]:
    """Shapley-Shubik index from its definition: pivots over all n! voting orders."""
    n = len(weights)
    pivots = [0] * n
    for order in itertools.permutations(range(n)):
        running = 0
        for player in order:
            running += weights[player]
            if running >= quota:
                pivots[player] += 1
                break
    return [Fraction(p, math.factorial(n)) for p in pivots]


def as_floats(fractions) -> np.ndarray:
    return np.array([float(f) for f in fractions])


@st.composite
def integer_games(draw, max_players: int = 8, max_weight: int = 10):
    n = draw(st.integers(1, max_players))
    weights = draw(st.lists(st.integers(0, max_weight), min_size=n, max_size=n))
    if sum(weights) == 0:
        weights[draw(st.integers(0, n - 1))] = draw(st.integers(1, max_weight))
    quota = draw(st.integers(1, sum(weights)))
    return weights, quota


# ----------------------------------------------------------------------------
# published values
# ----------------------------------------------------------------------------

# Council of Ministers of the EEC, 1958-1972 (France, Germany, Italy, Belgium,
# Netherlands, Luxembourg): qualified majority 12 of 17 votes. Luxembourg is
# the textbook null player; see Felsenthal & Machover, The Measurement of
# Voting Power (1998), and Games 9(2):29 (2018).
EEC_1958 = ([4, 4, 4, 2, 2, 1], 12)

# UN Security Council since 1965: 9 of 15 votes including all 5 permanent
# members, modelled as [39; 7,7,7,7,7, 1 x 10]. Shapley-Shubik: permanent
# 421/2145 = 0.1963, non-permanent 4/2145 = 0.001865 (e.g. Straffin, Game
# Theory and Strategy, 1993).
UNSC = ([7] * 5 + [1] * 10, 39)


def test_eec_1958_shapley_shubik():
    expected = np.array([14, 14, 14, 9, 9, 0]) / 60
    result = shapley_shubik(*EEC_1958)
    np.testing.assert_allclose(result.values, expected, atol=1e-12)
    np.testing.assert_allclose(as_floats(brute_force_shapley_shubik(*EEC_1958)), expected)
    np.testing.assert_allclose(as_floats(pivot_frequencies(*EEC_1958)), expected)
    assert result.values[5] == 0.0  # Luxembourg
    assert result.exact and result.method == "generating-function"
    np.testing.assert_array_equal(result.stderr, 0.0)


def test_eec_1958_banzhaf():
    expected = np.array([10, 10, 10, 6, 6, 0]) / 42
    result = banzhaf(*EEC_1958)
    np.testing.assert_allclose(result.values, expected, atol=1e-12)
    np.testing.assert_allclose(brute_force_banzhaf(*EEC_1958), expected)
    assert result.values[5] == 0.0  # Luxembourg
    assert result.exact


def test_three_party_parliament():
    # [51; 50, 49, 1]: the big party needs either partner, the others need it.
    weights, quota = [50, 49, 1], 51
    np.testing.assert_allclose(
        shapley_shubik(weights, quota).values, [2 / 3, 1 / 6, 1 / 6], atol=1e-12
    )
    np.testing.assert_allclose(banzhaf(weights, quota).values, [3 / 5, 1 / 5, 1 / 5], atol=1e-12)
    np.testing.assert_allclose(as_floats(pivot_frequencies(weights, quota)), [2 / 3, 1 / 6, 1 / 6])
    np.testing.assert_allclose(brute_force_banzhaf(weights, quota), [3 / 5, 1 / 5, 1 / 5])


def test_un_security_council_shapley_shubik():
    result = shapley_shubik(*UNSC)
    permanent, elected = 421 / 2145, 4 / 2145
    assert result.values[0] == pytest.approx(0.1963, abs=5e-5)  # as published
    assert result.values[5] == pytest.approx(0.001865, abs=5e-7)
    np.testing.assert_allclose(result.values[:5], permanent, atol=1e-12)
    np.testing.assert_allclose(result.values[5:], elected, atol=1e-12)
    reference = brute_force_shapley_shubik(*UNSC)
    assert reference[0] == Fraction(421, 2145) and reference[5] == Fraction(4, 2145)


def test_un_security_council_banzhaf_matches_enumeration():
    result = banzhaf(*UNSC)
    np.testing.assert_allclose(result.values, brute_force_banzhaf(*UNSC), atol=1e-12)
    # swings, counted by hand: a permanent member with the other 4 and at least 4 of the
    # 10 elected, sum_{k>=4} C(10, k) = 848; an elected member with all 5 and exactly 3
    # of the other 9 elected, C(9, 3) = 84
    np.testing.assert_allclose(result.values[0], 848 / (5 * 848 + 10 * 84), atol=1e-12)


@pytest.mark.parametrize("n", [10, 193, 300])
def test_apex_game_closed_form(n):
    # Apex game: one apex of weight n-2 and n-1 minors of weight 1, quota n-1.
    # Shapley-Shubik: apex (n-2)/n, each minor 2/(n(n-1)).
    # Banzhaf swings: apex 2^(n-1) - 2, each minor 2.
    weights = [n - 2] + [1] * (n - 1)
    ss = shapley_shubik(weights, n - 1)
    assert ss.exact
    assert ss.values[0] == pytest.approx((n - 2) / n, rel=1e-12)
    np.testing.assert_allclose(ss.values[1:], 2 / (n * (n - 1)), rtol=1e-12)
    bz = banzhaf(weights, n - 1)
    apex_swings = 2.0 ** (n - 1) - 2
    normalizer = apex_swings + 2 * (n - 1)
    assert bz.values[0] == pytest.approx(apex_swings / normalizer, rel=1e-12)
    np.testing.assert_allclose(bz.values[1:], 2 / normalizer, rtol=1e-9)


@pytest.mark.parametrize("index", [banzhaf, shapley_shubik])
def test_equal_weights_many_players(index):
    result = index(np.ones(200), 134)
    assert result.exact
    np.testing.assert_allclose(result.values, 1 / 200, rtol=1e-12)


# ----------------------------------------------------------------------------
# exact versus enumeration
# ----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(integer_games())
def test_exact_matches_enumeration(game):
    weights, quota = game
    bz = banzhaf(weights, quota)
    ss = shapley_shubik(weights, quota)
    assert bz.exact and ss.exact
    np.testing.assert_allclose(bz.values, brute_force_banzhaf(weights, quota), atol=1e-12)
    np.testing.assert_allclose(
        ss.values, as_floats(brute_force_shapley_shubik(weights, quota)), atol=1e-12
    )


@settings(max_examples=50, deadline=None)
@given(integer_games(max_players=6))
def test_shapley_shubik_is_pivot_frequency(game):
    weights, quota = game
    np.testing.assert_allclose(
        shapley_shubik(weights, quota).values,
        as_floats(pivot_frequencies(weights, quota)),
        atol=1e-12,
    )


def test_near_integer_weights_use_exact_method():
    weights = np.array([4, 4, 4, 2, 2, 1]) * (1 + 1e-13)
    result = shapley_shubik(weights, 12 * (1 - 1e-13))
    assert result.exact
    np.testing.assert_allclose(result.values, np.array([14, 14, 14, 9, 9, 0]) / 60, atol=1e-12)


def test_fractional_quota_means_at_least_quota():
    # [2.5; 1, 1, 1, 1] is the game [3; 1, 1, 1, 1]
    for index in (banzhaf, shapley_shubik):
        np.testing.assert_allclose(index([1, 1, 1, 1], 2.5).values, index([1, 1, 1, 1], 3).values)


# ----------------------------------------------------------------------------
# sampling
# ----------------------------------------------------------------------------

THIRTY = (
    np.array(
        [9, 8, 8, 7, 6, 6, 5, 5, 5, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    ),
    70,
)


@pytest.mark.parametrize("index", [banzhaf, shapley_shubik])
def test_sampled_within_four_stderr_of_exact(index):
    weights, quota = THIRTY
    exact = index(weights, quota)
    sampled = index(
        weights, quota, exact_limit=0, samples=20_000, rng=np.random.default_rng(20240601)
    )
    assert exact.exact and not sampled.exact
    assert sampled.method.startswith("monte-carlo")
    assert sampled.values.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(sampled.stderr[:28] > 0)
    np.testing.assert_array_equal(sampled.values[28:], 0.0)  # dummies never swing or pivot
    assert np.all(np.abs(sampled.values - exact.values) <= 4 * sampled.stderr + 1e-12)
    # errors of the right size: stderr should not be wildly conservative either
    z = (sampled.values - exact.values)[:28] / sampled.stderr[:28]
    assert 0.3 < np.sqrt(np.mean(z**2)) < 2.0


@pytest.mark.parametrize("index", [banzhaf, shapley_shubik])
def test_non_integer_weights_are_sampled(index):
    weights, quota = [1.5, 2.5, 3.25, 0.75], 4.0
    reference = (
        brute_force_banzhaf(weights, quota)
        if index is banzhaf
        else as_floats(brute_force_shapley_shubik(weights, quota))
    )
    result = index(weights, quota, samples=40_000, rng=np.random.default_rng(7))
    assert not result.exact
    assert np.all(np.abs(result.values - reference) <= 4 * result.stderr + 1e-12)


@pytest.mark.parametrize("index", [banzhaf, shapley_shubik])
def test_sampling_needs_rng(index):
    with pytest.raises(ValueError, match="rng"):
        index([1.5, 2.5, 3.0], 4.0)
    with pytest.raises(ValueError, match="rng"):
        index([1, 2, 1], 2, exact_limit=2)


@pytest.mark.parametrize("index", [banzhaf, shapley_shubik])
def test_sampling_is_reproducible(index):
    weights, quota = THIRTY
    a = index(weights, quota, exact_limit=0, samples=2_000, rng=np.random.default_rng(3))
    b = index(weights, quota, exact_limit=0, samples=2_000, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.values, b.values)


def test_sampled_quota_equal_to_total_weight():
    # unanimity with float weights whose running sum may round below the quota
    weights = [0.1, 0.2, 0.3, 0.4]
    result = shapley_shubik(weights, math.fsum(weights), samples=1000, rng=np.random.default_rng(0))
    np.testing.assert_allclose(result.values, 0.25, atol=0.05)
    assert result.values.sum() == pytest.approx(1.0)


# ----------------------------------------------------------------------------
# validation and properties
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("index", [banzhaf, shapley_shubik])
@pytest.mark.parametrize(
    ("weights", "quota", "message"),
    [
        ([1, 2, 3], 0, "quota"),
        ([1, 2, 3], -1, "quota"),
        ([1, 2, 3], 7, "quota"),
        ([1, 2, 3], float("nan"), "quota"),
        ([1, -2, 3], 1, "non-negative"),
        ([], 1, "non-empty"),
        ([[1, 2], [3, 4]], 1, "1-D"),
        ([1, np.inf], 1, "finite"),
    ],
)
def test_invalid_games_are_rejected(index, weights, quota, message):
    with pytest.raises(ValueError, match=message):
        index(weights, quota)


def test_power_index_is_frozen():
    result = banzhaf([1, 1], 2)
    assert isinstance(result, PowerIndex)
    with pytest.raises(AttributeError):
        result.exact = False  # type: ignore[misc]


@settings(max_examples=60, deadline=None)
@given(integer_games(max_players=40, max_weight=20), st.sampled_from([banzhaf, shapley_shubik]))
def test_index_properties(game, index):
    weights, quota = game
    result = index(weights, quota)
    values = result.values
    assert values.shape == (len(weights),)
    assert np.all(values >= 0)
    assert values.sum() == pytest.approx(1.0, abs=1e-12)
    w = np.asarray(weights)
    np.testing.assert_array_equal(values[w == 0], 0.0)  # dummies
    for weight in np.unique(w):  # symmetric players: equal weight, equal power
        same = values[w == weight]
        np.testing.assert_allclose(same, same[0], rtol=1e-12)
    # more weight never means less power (weighted games are monotone in weight)
    order = np.argsort(w, kind="stable")
    assert np.all(np.diff(values[order]) >= -1e-12)


@settings(max_examples=50, deadline=None)
@given(integer_games(max_players=8), st.integers(2, 5))
def test_scaling_weights_and_quota_changes_nothing(game, factor):
    weights, quota = game
    for index in (banzhaf, shapley_shubik):
        base = index(weights, quota).values
        scaled = index([factor * x for x in weights], factor * quota).values
        np.testing.assert_allclose(scaled, base, atol=1e-12)


@pytest.mark.parametrize("index", [banzhaf, shapley_shubik])
@pytest.mark.parametrize("n,quota", [(550, 495), (1200, 1200), (401, 1)])
def test_equal_weights_beyond_the_exact_limit_are_exact_by_symmetry(index, n, quota):
    """One vote each: every player is interchangeable, so each index is 1/n (no sampling)."""
    result = index(np.ones(n), quota)
    assert result.exact and result.method == "symmetry"
    np.testing.assert_allclose(result.values, 1.0 / n, rtol=0, atol=0)
    # the generating function agrees where it applies (n within its limits)
    small = index(np.ones(30), 27)
    np.testing.assert_allclose(small.values, 1.0 / 30, rtol=1e-12)
