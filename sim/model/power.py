"""A priori voting power in weighted voting games.

A weighted voting game ``[q; w_1, ..., w_n]`` has ``n`` players with
non-negative weights ``w_i`` and a quota ``q``: a coalition ``S`` wins if
``w(S) = sum_{i in S} w_i >= q``. Player ``i`` *swings* for a coalition
``S`` of the other players if ``S`` loses but ``S + {i}`` wins, i.e.
``q - w_i <= w(S) < q``.

Two indices are provided:

* the normalized Banzhaf index (Banzhaf 1965, "Weighted voting doesn't
  work: a mathematical analysis", Rutgers Law Review 19:317-343)::

      beta_i = eta_i / sum_j eta_j,   eta_i = #{S : i swings for S}

* the Shapley-Shubik index (Shapley & Shubik 1954, "A method for evaluating
  the distribution of power in a committee system", American Political
  Science Review 48:787-792), the share of the ``n!`` voting orders in which
  ``i`` is pivotal::

      phi_i = sum_{S : i swings for S} |S|! (n - 1 - |S|)! / n!

Exact values use generating functions (dynamic programming over coalition
weights, by coalition size for Shapley-Shubik) in ``O(n log d * L)`` and
``O(n^2 log d * L)`` operations, where ``d`` is the number of distinct
weights and ``L <= min(q, W - q + 1)`` the width of the weight table; they
never enumerate the ``2^n`` coalitions. Larger games with equal weights are
exact by symmetry (``1/n`` each); other larger or non-integer games are
estimated by Monte Carlo with a reported standard error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "PowerIndex",
    "banzhaf",
    "shapley_shubik",
    "DEFAULT_EXACT_LIMIT",
    "MAX_EXACT_TOTAL_WEIGHT",
    "MAX_EXACT_WORK",
]

#: Largest number of players for which the exact method is attempted.
DEFAULT_EXACT_LIMIT = 400
#: Largest total (integer) weight for which the exact method is attempted.
MAX_EXACT_TOTAL_WEIGHT = 100_000
#: Largest estimated number of table-cell updates for the exact method
#: (about a few seconds of numpy work); beyond it the index is sampled.
MAX_EXACT_WORK = 2_000_000_000

#: Counts reach 2^(n-1) and order weights fall to about 1/(n C(n-1, n/2)):
#: both stay inside the float64 range only up to about 1000 players.
_MAX_EXACT_PLAYERS = 1000

#: Upper bound on the number of array cells (samples x players) per batch.
_BATCH_CELLS = 1 << 22


@dataclass(frozen=True)
class PowerIndex:
    """A power index for every player of a weighted voting game.

    Attributes
    ----------
    values : numpy.ndarray, shape (n,)
        Index of each player, non-negative, summing to 1.
    stderr : numpy.ndarray, shape (n,)
        Monte Carlo standard error of each value; zeros when ``exact``.
    exact : bool
        True if computed exactly, False if estimated by sampling.
    method : str
        How it was computed: ``"generating-function"``, ``"symmetry"``,
        ``"monte-carlo-coalitions"`` or ``"monte-carlo-permutations"``.
    """

    values: np.ndarray
    stderr: np.ndarray
    exact: bool
    method: str


# ----------------------------------------------------------------------------
# validation and method choice
# ----------------------------------------------------------------------------


def _validate_game(weights: ArrayLike, quota: float) -> tuple[np.ndarray, float]:
    """Check a game and return its weights as a float array and the quota as a float."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty 1-D array, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    q = float(quota)
    total = math.fsum(w.tolist())  # correctly rounded, so q == sum(w) is accepted exactly
    if not (math.isfinite(q) and 0 < q <= total):
        raise ValueError(f"quota must lie in (0, sum(weights)] = (0, {total}], got {quota}")
    return w, q


def _is_integral(w: np.ndarray) -> bool:
    """True if every weight is an integer up to float noise (absolute tolerance 1e-9)."""
    return bool(np.allclose(w, np.round(w), rtol=0.0, atol=1e-9))


def _integer_plan(
    w: np.ndarray, q: float, exact_limit: int, by_size: bool
) -> tuple[np.ndarray, int] | None:
    """Integer weights and quota for the exact method, or None if it should not be used."""
    n = w.size
    rounded = np.round(w)
    if n > min(exact_limit, _MAX_EXACT_PLAYERS) or not _is_integral(w):
        return None
    if rounded.sum() > MAX_EXACT_TOTAL_WEIGHT:
        return None
    int_weights = rounded.astype(np.int64)
    total = int(int_weights.sum())
    # For integer weights, w(S) >= q  <=>  w(S) >= ceil(q).
    int_quota = min(max(math.ceil(q), 1), total)
    width = min(int_quota, total - int_quota + 1)
    distinct = np.unique(int_weights).size
    work = (n + 1) * width * (1 + math.ceil(math.log2(distinct + 1)))
    if by_size:
        work *= n
    if work > MAX_EXACT_WORK:
        return None
    return int_weights, int_quota


def _symmetric(w: np.ndarray) -> PowerIndex | None:
    """A game in which every player has the same positive weight: by symmetry each index is
    exactly ``1/n`` whatever the (valid) quota. Used where the generating function would
    not be (too many players), so one vote per member needs no sampling at any size."""
    if w[0] > 0 and np.all(w == w[0]):
        return PowerIndex(np.full(w.size, 1.0 / w.size), np.zeros(w.size), True, "symmetry")
    return None


def _require_rng(rng: np.random.Generator | None, why: str) -> np.random.Generator:
    if rng is None:
        raise ValueError(
            f"this game must be sampled ({why}); pass rng=numpy.random.default_rng(seed)"
        )
    return rng


def _sampling_reason(w: np.ndarray, exact_limit: int) -> str:
    if w.size > min(exact_limit, _MAX_EXACT_PLAYERS):
        return f"{w.size} players > exact_limit={min(exact_limit, _MAX_EXACT_PLAYERS)}"
    if not _is_integral(w):
        return "weights are not integers"
    return "the integer weights are too large for the exact method"


# ----------------------------------------------------------------------------
# exact method: generating functions
# ----------------------------------------------------------------------------
#
# Counts are float64, not int64: the number of coalitions of one weight can
# reach 2^(n-1) (and C(n-1, s) by size), which overflows int64 from n = 64,
# whereas float64 holds it up to n ~ 1000. Every count is built by adding
# non-negative numbers only (no subtraction, so no cancellation), which keeps
# the relative error of each count below about n * 2^-53; the indices are
# positive combinations of counts and inherit that accuracy (~1e-13 for
# n = 400).


def _add_player(table: np.ndarray, weight: int, by_size: bool) -> None:
    """Multiply the generating function in ``table`` by ``(1 + y x^weight)`` in place.

    ``table[t]`` (or ``table[s, t]`` when ``by_size``) counts coalitions of
    weight ``t`` (and size ``s``); weights ``>= table width`` are dropped
    because they never matter for the swing window.
    """
    width = table.shape[-1]
    if weight >= width:
        return
    if by_size:
        table[1:, weight:] = table[1:, weight:] + table[:-1, : width - weight]
    else:
        table[weight:] = table[weight:] + table[: width - weight]


def _leave_one_out_by_weight(
    values: np.ndarray,
    counts: np.ndarray,
    table: np.ndarray,
    by_size: bool,
    reduce: Callable[[np.ndarray, int], float],
    out: np.ndarray,
    lo: int = 0,
    hi: int | None = None,
) -> None:
    """For each distinct weight, count the coalitions of all other players.

    Divide and conquer over the distinct weights ``values[lo:hi]`` (with
    multiplicities ``counts``): ``table`` already holds the generating
    function of every player whose weight is outside ``lo:hi``. At a leaf
    ``j`` it adds ``counts[j] - 1`` players of weight ``values[j]``, giving the
    generating function of all players but one of that weight, and stores
    ``reduce(table, values[j])`` in ``out[j]``. Each level adds each player
    once, so the cost is ``O(n log d)`` player additions.
    """
    if hi is None:
        hi = values.size
    if hi - lo == 1:
        for _ in range(int(counts[lo]) - 1):
            _add_player(table, int(values[lo]), by_size)
        out[lo] = reduce(table, int(values[lo]))
        return
    mid = (lo + hi) // 2
    left = table.copy()
    for j in range(mid, hi):
        for _ in range(int(counts[j])):
            _add_player(left, int(values[j]), by_size)
    _leave_one_out_by_weight(values, counts, left, by_size, reduce, out, lo, mid)
    del left
    right = table
    for j in range(lo, mid):
        for _ in range(int(counts[j])):
            _add_player(right, int(values[j]), by_size)
    _leave_one_out_by_weight(values, counts, right, by_size, reduce, out, mid, hi)


def _exact_swings(int_weights: np.ndarray, int_quota: int, by_size: bool) -> np.ndarray:
    """Per-player swing counts (Banzhaf) or Shapley-Shubik values, exactly.

    Player ``i`` of weight ``v`` swings for the coalitions ``S`` of the other
    players with ``q - v <= w(S) <= q - 1``. Equivalently, their complements
    ``T = N - {i} - S`` have ``W - v - q + 1 <= w(T) <= W - q`` (and
    ``|T| = n - 1 - |S|``, which leaves the Shapley-Shubik weight
    ``|S|! (n-1-|S|)! / n!`` unchanged). Whichever window is lower needs the
    narrower table, of width ``L = min(q, W - q + 1)``.
    """
    n = int_weights.size
    total = int(int_weights.sum())
    if int_quota <= total - int_quota + 1:
        width = int_quota

        def window(v: int) -> slice:
            return slice(max(int_quota - v, 0), int_quota)

    else:
        width = total - int_quota + 1

        def window(v: int) -> slice:
            return slice(max(total - v - int_quota + 1, 0), total - int_quota + 1)

    values, counts = np.unique(int_weights, return_counts=True)
    if by_size:
        # order weight: s! (n-1-s)! / n! = (1/n) prod_{j=1..s} j / (n - j), s = 0..n-1
        ratios = np.arange(1, n) / np.arange(n - 1, 0, -1)
        order_weight = np.concatenate(([1.0], np.cumprod(ratios))) / n
        table = np.zeros((n, width))
        table[0, 0] = 1.0

        def reduce(t: np.ndarray, v: int) -> float:
            return float(order_weight @ t[:, window(v)].sum(axis=1))

    else:
        table = np.zeros(width)
        table[0] = 1.0

        def reduce(t: np.ndarray, v: int) -> float:
            return float(t[window(v)].sum())

    per_weight = np.zeros(values.size)
    _leave_one_out_by_weight(values, counts, table, by_size, reduce, per_weight)
    return per_weight[np.searchsorted(values, int_weights)]


# ----------------------------------------------------------------------------
# Monte Carlo
# ----------------------------------------------------------------------------


def _batches(samples: int, n: int) -> list[int]:
    size = max(1, min(samples, _BATCH_CELLS // max(n, 1)))
    full, rest = divmod(samples, size)
    return [size] * full + ([rest] if rest else [])


def _sample_banzhaf(w: np.ndarray, q: float, samples: int, rng: np.random.Generator) -> PowerIndex:
    """Normalized Banzhaf index from random coalitions, with delta-method standard errors.

    Each sample draws every player in or out with probability 1/2. For player
    ``i`` the others' part ``S`` is a uniform random coalition of ``N - {i}``,
    so ``X_i = [q - w_i <= w(S) < q]`` is Bernoulli with mean
    ``p_i = eta_i / 2^(n-1)``; one draw serves all players. With
    ``Y = sum_j X_j``, ``P = E[Y]`` and ``beta_i = p_i / P``, the delta method
    gives ``Var(beta_hat_i) ~ Var(X_i - beta_i Y) / (N P^2)``, which accounts
    for the correlation between ``X_i`` and the normalizer.
    """
    n = w.size
    sum_x = np.zeros(n)
    sum_xy = np.zeros(n)
    sum_y2 = 0.0
    for size in _batches(samples, n):
        member = rng.random((size, n)) < 0.5
        coalition_weight = member @ w
        others = coalition_weight[:, None] - member * w  # weight of S = coalition without i
        swing = (others < q) & (others + w >= q)
        y = swing.sum(axis=1).astype(float)
        sum_x += swing.sum(axis=0)
        sum_xy += y @ swing
        sum_y2 += float(y @ y)
    p = sum_x / samples
    big_p = p.sum()
    if big_p == 0:
        raise RuntimeError("no swing was sampled; increase samples")
    beta = p / big_p
    second_moment = p - 2 * beta * sum_xy / samples + beta**2 * sum_y2 / samples
    variance = np.maximum(second_moment, 0.0) / (samples * big_p**2)
    return PowerIndex(beta, np.sqrt(variance), exact=False, method="monte-carlo-coalitions")


def _sample_shapley_shubik(
    w: np.ndarray, q: float, samples: int, rng: np.random.Generator
) -> PowerIndex:
    """Shapley-Shubik index from random voting orders, with binomial standard errors.

    Each sample is a uniform random order of the players; the pivot is the
    first player whose arrival brings the running weight to ``>= q``. Player
    ``i`` is pivot with probability ``phi_i``, so the estimate is the pivot
    frequency and its standard error ``sqrt(phi_i (1 - phi_i) / N)``.
    """
    n = w.size
    pivots = np.zeros(n, dtype=np.int64)
    for size in _batches(samples, n):
        order = rng.permuted(np.broadcast_to(np.arange(n), (size, n)), axis=1)
        reached = np.cumsum(w[order], axis=1) >= q
        reached[:, -1] = True  # the grand coalition always wins; guards float rounding at q = W
        pivot = order[np.arange(size), np.argmax(reached, axis=1)]
        pivots += np.bincount(pivot, minlength=n)
    phi = pivots / samples
    stderr = np.sqrt(phi * (1 - phi) / samples)
    return PowerIndex(phi, stderr, exact=False, method="monte-carlo-permutations")


# ----------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------


def banzhaf(
    weights: ArrayLike,
    quota: float,
    *,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    samples: int = 100_000,
    rng: np.random.Generator | None = None,
) -> PowerIndex:
    """Normalized Banzhaf index of the weighted voting game ``[quota; weights]``.

    ``beta_i = eta_i / sum_j eta_j`` where ``eta_i`` is the number of
    coalitions ``S`` of the other players with ``quota - w_i <= w(S) < quota``
    (those for which ``i`` swings).

    Exact when the weights are integers (``np.allclose(w, round(w))`` with
    an absolute tolerance of 1e-9),
    ``n <= exact_limit``, ``sum(w) <= MAX_EXACT_TOTAL_WEIGHT`` and the table
    work stays under ``MAX_EXACT_WORK``: ``eta_i`` is read off the generating
    function ``prod_{j != i} (1 + x^{w_j})`` (coefficient of ``x^t`` = number
    of coalitions of the others with weight ``t``), built by dynamic
    programming once per distinct weight. Non-integer weights that are
    multiples of a common unit can be made exact by scaling weights and quota
    by the same factor (the game is unchanged).

    Otherwise it is sampled: ``samples`` uniform random coalitions, each
    scored for every player at once. The standard error is the delta-method
    error of the ratio ``p_i / sum_j p_j`` of swing probabilities (it allows
    for the estimated normalizer), not a per-player binomial error.

    Parameters
    ----------
    weights : array_like, shape (n,)
        Non-negative voting weights.
    quota : float
        Weight a coalition needs to win, in ``(0, sum(weights)]``.
    exact_limit : int, optional
        Largest number of players computed exactly.
    samples : int, optional
        Number of random coalitions when sampling.
    rng : numpy.random.Generator, optional
        Random source; required when the game has to be sampled.

    Returns
    -------
    PowerIndex

    Raises
    ------
    ValueError
        On invalid weights or quota, or if sampling is needed and ``rng`` is None.
    """
    w, q = _validate_game(weights, quota)
    plan = _integer_plan(w, q, exact_limit, by_size=False)
    if plan is not None:
        swings = _exact_swings(*plan, by_size=False)
        values = swings / swings.sum()
        return PowerIndex(values, np.zeros(w.size), exact=True, method="generating-function")
    if (symmetric := _symmetric(w)) is not None:
        return symmetric
    generator = _require_rng(rng, _sampling_reason(w, exact_limit))
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    return _sample_banzhaf(w, q, int(samples), generator)


def shapley_shubik(
    weights: ArrayLike,
    quota: float,
    *,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    samples: int = 100_000,
    rng: np.random.Generator | None = None,
) -> PowerIndex:
    """Shapley-Shubik index of the weighted voting game ``[quota; weights]``.

    ``phi_i = sum_s c_i(s) s! (n - 1 - s)! / n!`` where ``c_i(s)`` is the
    number of size-``s`` coalitions ``S`` of the other players with
    ``quota - w_i <= w(S) < quota``: the share of the ``n!`` voting orders in
    which ``i`` casts the pivotal vote.

    Exact under the same conditions as :func:`banzhaf`, from the bivariate
    generating function ``prod_{j != i} (1 + y x^{w_j})`` (coefficient of
    ``y^s x^t`` = coalitions of the others of size ``s`` and weight ``t``).
    Otherwise sampled from ``samples`` random voting orders, with the
    binomial standard error ``sqrt(phi_i (1 - phi_i) / samples)``.

    Parameters
    ----------
    weights : array_like, shape (n,)
        Non-negative voting weights.
    quota : float
        Weight a coalition needs to win, in ``(0, sum(weights)]``.
    exact_limit : int, optional
        Largest number of players computed exactly.
    samples : int, optional
        Number of random voting orders when sampling.
    rng : numpy.random.Generator, optional
        Random source; required when the game has to be sampled.

    Returns
    -------
    PowerIndex

    Raises
    ------
    ValueError
        On invalid weights or quota, or if sampling is needed and ``rng`` is None.
    """
    w, q = _validate_game(weights, quota)
    plan = _integer_plan(w, q, exact_limit, by_size=True)
    if plan is not None:
        phi = _exact_swings(*plan, by_size=True)
        values = phi / phi.sum()  # sums to 1 already; this only removes rounding
        return PowerIndex(values, np.zeros(w.size), exact=True, method="generating-function")
    if (symmetric := _symmetric(w)) is not None:
        return symmetric
    generator = _require_rng(rng, _sampling_reason(w, exact_limit))
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    return _sample_shapley_shubik(w, q, int(samples), generator)
