"""Equity and outcome measures, each defined once and used everywhere.

Every measure here is a pure function of numpy arrays: no I/O, no random
state, no simulation objects. The simulation records what happened (who
attended, who spoke, what each forum decided) and these functions turn
those records into the quantities the experiments report:

* participation -- ``participation_rate``;
* voice and representation -- ``group_totals``, ``voice_shares``,
  ``representation_ratio``;
* inequality -- ``gini``, ``theil``, ``theil_decomposition``;
* outcomes -- ``attainment``, ``attainment_gap``, ``resource_elasticity``;
* forum performance -- ``decision_rate``, ``deadlock_rate``,
  ``time_to_first_agreement``, ``policy_coverage``.

Conventions
-----------
Group membership is an integer code ``0 .. n_groups - 1`` per actor.
A measure that is undefined for the data it is given (a rate with no
opportunities, a share of nothing) returns ``nan`` rather than raising or
emitting a numpy warning; inputs that are invalid (negative incomes for an
inequality index, group codes out of range, mismatched shapes) raise
``ValueError``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "participation_rate",
    "group_totals",
    "voice_shares",
    "representation_ratio",
    "gini",
    "theil",
    "theil_decomposition",
    "attainment",
    "attainment_gap",
    "resource_elasticity",
    "decision_rate",
    "deadlock_rate",
    "time_to_first_agreement",
    "policy_coverage",
]


# ----------------------------------------------------------------------------
# helpers
def row_sums(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of a 2-D float array, bit for bit, fast for few columns.

    numpy reduces each row of fewer than 8 values sequentially (its pairwise sum
    starts at 8 values), so adding whole columns left to right gives the same sums,
    with one vectorized pass per column instead of one short reduction per row (about
    5x faster at 10^5 x 5; docs/performance.md). From 8 columns numpy's own sum is used.
    """
    m = a.shape[1]
    if not 1 <= m < 8:
        return a.sum(axis=1)
    total = a[:, 0].copy()
    for j in range(1, m):
        total += a[:, j]
    return total


def row_means(a: np.ndarray) -> np.ndarray:
    """``a.mean(axis=1)`` of a 2-D float array, bit for bit (:func:`row_sums` / columns)."""
    m = a.shape[1]
    return row_sums(a) / m if 1 <= m < 8 else a.mean(axis=1)


# ----------------------------------------------------------------------------


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise ``numerator / denominator`` with ``nan`` where the denominator is 0."""
    numerator, denominator = np.broadcast_arrays(
        np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    )
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _as_group_codes(groups: ArrayLike, n_groups: int, size: int) -> np.ndarray:
    """Validate integer group codes in ``0 .. n_groups - 1`` aligned with ``size`` actors."""
    codes = np.asarray(groups)
    if codes.ndim != 1 or codes.shape[0] != size:
        raise ValueError(
            f"groups must be 1-D with one code per actor ({size}), got shape {codes.shape}"
        )
    if n_groups < 1:
        raise ValueError(f"n_groups must be >= 1, got {n_groups}")
    if codes.size and not np.issubdtype(codes.dtype, np.integer):
        if not np.all(np.isfinite(codes)) or not np.all(codes == np.round(codes)):
            raise ValueError("groups must be integer codes")
    codes = codes.astype(np.intp)
    if codes.size and (codes.min() < 0 or codes.max() >= n_groups):
        raise ValueError(f"group codes must lie in 0..{n_groups - 1}")
    return codes


def _nonnegative_1d(x: ArrayLike, what: str) -> np.ndarray:
    """Return ``x`` as a finite, non-negative 1-D float array, or raise ``ValueError``."""
    values = np.asarray(x, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"{what} expects a 1-D array, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} is undefined for non-finite values")
    if np.any(values < 0):
        raise ValueError(f"{what} is undefined for negative values")
    return values


def _quiet_nanmean(x: np.ndarray) -> float:
    """Mean of the finite entries of ``x``; ``nan`` (without a warning) if there are none."""
    finite = x[np.isfinite(x)]
    return float(finite.mean()) if finite.size else float("nan")


def _scaled_to_max(values: np.ndarray) -> np.ndarray:
    """``values / max(values)``: Gini and Theil are scale-free, and this keeps means
    and logs away from float underflow for tiny (e.g. subnormal) inputs."""
    return values / values.max()


_TINY = np.finfo(float).tiny


def _x_log_ratio(x: np.ndarray, reference: np.ndarray, log_reference: np.ndarray) -> np.ndarray:
    """Elementwise ``x * ln(x / reference)`` with the convention ``0 ln 0 = 0``.

    ``ln(x / reference)`` is taken directly (most accurate when ``x`` is close to
    ``reference``) unless the quotient underflows, in which case it is
    ``ln(x) - log_reference``.
    """
    positive = x > 0
    tiny = _TINY
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        ratio = x / reference
        direct = np.log(ratio)
        via_logs = np.log(x) - log_reference
    use_direct = np.isfinite(direct) & (ratio >= tiny) & (reference >= tiny)
    log_ratio = np.where(use_direct, direct, via_logs)
    return np.where(positive, x * np.where(positive, log_ratio, 0.0), 0.0)


# ----------------------------------------------------------------------------
# participation and voice
# ----------------------------------------------------------------------------


def participation_rate(attended: ArrayLike, eligible: ArrayLike) -> float | np.ndarray:
    """Share of the opportunities to attend that were taken.

    ``rate = attended / eligible``, elementwise.

    Parameters
    ----------
    attended : array_like
        Number of meetings attended (per actor, per group, or a scalar total).
    eligible : array_like
        Number of meetings the actor was eligible to attend, same shape.

    Returns
    -------
    float or numpy.ndarray
        The rate; ``nan`` where ``eligible == 0`` (no opportunity, so no rate).
        A float for scalar input, an array otherwise.
    """
    attended_arr = np.asarray(attended, dtype=float)
    eligible_arr = np.asarray(eligible, dtype=float)
    rate = _safe_divide(attended_arr, eligible_arr)
    if rate.ndim == 0:
        return float(rate)
    return rate


def group_totals(values: ArrayLike, groups: ArrayLike, n_groups: int) -> np.ndarray:
    """Sum of ``values`` within each group.

    ``total_g = sum_{i : group_i = g} value_i`` for ``g = 0 .. n_groups - 1``;
    a group with no member has total 0.

    Parameters
    ----------
    values : array_like, shape (n,)
        Per-actor quantity (speaking turns, delegates, votes ...).
    groups : array_like of int, shape (n,)
        Group code of each actor, in ``0 .. n_groups - 1``.
    n_groups : int
        Number of groups (length of the result).

    Returns
    -------
    numpy.ndarray, shape (n_groups,)
    """
    vals = np.asarray(values, dtype=float)
    if vals.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {vals.shape}")
    codes = _as_group_codes(groups, n_groups, vals.shape[0])
    return np.bincount(codes, weights=vals, minlength=n_groups).astype(float)


def voice_shares(voice: ArrayLike, groups: ArrayLike, n_groups: int) -> np.ndarray:
    """Each group's share of the total voice.

    ``share_g = V_g / sum_h V_h`` where ``V_g`` is the group's total voice
    (see :func:`group_totals`).

    Parameters
    ----------
    voice : array_like, shape (n,)
        Non-negative voice per actor (e.g. speaking time or interventions).
    groups : array_like of int, shape (n,)
        Group code of each actor.
    n_groups : int
        Number of groups.

    Returns
    -------
    numpy.ndarray, shape (n_groups,)
        Shares summing to 1, or all ``nan`` if the total voice is 0.
    """
    totals = group_totals(voice, groups, n_groups)
    if np.any(totals < 0):
        raise ValueError("voice must be non-negative")
    return _shares(totals, n_groups)


def _shares(totals: np.ndarray, n_groups: int) -> np.ndarray:
    """Group totals as shares of their sum (all ``nan`` if it is 0), unchecked."""
    grand_total = totals.sum()
    if grand_total == 0:
        return np.full(n_groups, np.nan)
    return totals / grand_total


def representation_ratio(voice_share: ArrayLike, population_share: ArrayLike) -> np.ndarray:
    """Voice relative to presence in the eligible population.

    ``ratio_g = voice_share_g / population_share_g``; 1 means parity, below 1
    under-representation, above 1 over-representation.

    Parameters
    ----------
    voice_share : array_like, shape (g,)
        Group shares of voice (e.g. from :func:`voice_shares`).
    population_share : array_like, shape (g,)
        Group shares of the eligible population.

    Returns
    -------
    numpy.ndarray, shape (g,)
        The ratio; ``nan`` where the population share is 0.
    """
    return _safe_divide(
        np.asarray(voice_share, dtype=float), np.asarray(population_share, dtype=float)
    )


# ----------------------------------------------------------------------------
# inequality
# ----------------------------------------------------------------------------


def gini(x: ArrayLike) -> float:
    """Gini coefficient of non-negative values.

    With the values sorted ascending, ``x_(1) <= ... <= x_(n)``::

        G = sum_{i=1..n} (2 i - n - 1) x_(i) / (n * sum_i x_i)

    which equals the mean absolute difference over all ordered pairs divided
    by twice the mean. ``G = 0`` when all values are equal and
    ``G = (n - 1) / n`` when one holder has everything. Cost O(n log n).

    Parameters
    ----------
    x : array_like, shape (n,)
        Non-negative values (attendance, speaking time, resources ...).

    Returns
    -------
    float
        ``G`` in ``[0, (n - 1) / n]``; 0.0 for empty or all-zero input.

    Raises
    ------
    ValueError
        If any value is negative or not finite.
    """
    return _gini(_nonnegative_1d(x, "gini"))


def _gini(values: np.ndarray) -> float:
    """:func:`gini` of a finite, non-negative 1-D float array, unchecked (the model's path)."""
    n = values.size
    total = values.sum()
    if n == 0 or total == 0:
        return 0.0
    ordered = np.sort(_scaled_to_max(values))
    rank_weight = 2.0 * np.arange(1, n + 1) - n - 1
    g = np.dot(rank_weight, ordered) / (n * ordered.sum())
    return max(float(g), 0.0)  # G >= 0; clip rounding noise (~1e-17) for equal values


def theil(x: ArrayLike) -> float:
    """Theil T index of non-negative values.

    With ``mu = mean(x)``::

        T = (1/n) sum_i (x_i / mu) ln(x_i / mu),   with 0 ln 0 = 0

    ``T = 0`` when all values are equal and ``T = ln(n)`` when one holder has
    everything.

    Parameters
    ----------
    x : array_like, shape (n,)
        Non-negative values.

    Returns
    -------
    float
        ``T >= 0``; 0.0 for empty or all-zero input.

    Raises
    ------
    ValueError
        If any value is negative or not finite.
    """
    return _theil(_nonnegative_1d(x, "theil"))


def _theil(values: np.ndarray) -> float:
    """:func:`theil` of a finite, non-negative 1-D float array, unchecked."""
    total = values.sum()
    if values.size == 0 or total == 0:
        return 0.0
    scaled = _scaled_to_max(values)
    scaled_total = scaled.sum()
    mu = scaled_total / scaled.size
    # (1/n) sum (x/mu) ln(x/mu) = (1/(n mu)) sum x ln(x/mu) = sum x ln(x/mu) / total
    t = _x_log_ratio(scaled, mu, np.log(mu)).sum() / scaled_total
    return max(float(t), 0.0)  # T >= 0; clip rounding noise (~1e-16) for near-equal values


def theil_decomposition(
    x: ArrayLike, groups: ArrayLike, n_groups: int
) -> tuple[float, float, float]:
    """Split the Theil T index into between-group and within-group parts.

    With ``mu`` the overall mean, ``mu_g`` the mean of group ``g``,
    ``s_g = sum_{i in g} x_i / sum_i x_i`` the group's share of the total and
    ``T_g`` the Theil index computed inside group ``g``::

        T         = (1/n) sum_i (x_i/mu) ln(x_i/mu)
        T_between = sum_g s_g ln(mu_g / mu)
        T_within  = sum_g s_g T_g
        T         = T_between + T_within

    Groups that are empty, or whose members all hold 0, have ``s_g = 0`` and
    contribute 0 to both parts.

    Parameters
    ----------
    x : array_like, shape (n,)
        Non-negative values.
    groups : array_like of int, shape (n,)
        Group code of each value, in ``0 .. n_groups - 1``.
    n_groups : int
        Number of groups.

    Returns
    -------
    (total, between, within) : tuple of float
        ``total`` is computed directly (not as the sum), so the identity
        ``total == between + within`` holds up to rounding (about 1e-15).
        All three are 0.0 for empty or all-zero input.
    """
    values = _nonnegative_1d(x, "theil_decomposition")
    codes = _as_group_codes(groups, n_groups, values.size)
    return _theil_parts(values, codes, n_groups)


def _theil_parts(
    values: np.ndarray, codes: np.ndarray, n_groups: int
) -> tuple[float, float, float]:
    """:func:`theil_decomposition` of checked inputs (finite non-negative floats, codes in
    range), without re-checking them: the model's path, once per meeting."""
    grand_total = values.sum()
    if values.size == 0 or grand_total == 0:
        return 0.0, 0.0, 0.0

    total = _theil(values)
    scaled = _scaled_to_max(values)
    scaled_total = scaled.sum()
    log_mu = np.log(scaled_total / values.size)

    group_size = np.bincount(codes, minlength=n_groups).astype(float)
    group_sum = np.bincount(codes, weights=scaled, minlength=n_groups)
    share = group_sum / scaled_total  # s_g; 0 for empty and all-zero groups
    held = share > 0
    # ln(mu_g) from logs, so that a group of tiny values cannot underflow its mean
    log_group_mean = np.zeros(n_groups)
    log_group_mean[held] = np.log(group_sum[held]) - np.log(group_size[held])
    group_mean = _safe_divide(group_sum, group_size)

    between_terms = np.where(held, share * (log_group_mean - log_mu), 0.0)

    # T_g = (1/n_g) sum_{i in g} (x_i/mu_g) ln(x_i/mu_g) = sum_{i in g} x_i ln(x_i/mu_g) / X_g
    own_mean = np.where(held, group_mean, 1.0)[codes]
    own_log_mean = log_group_mean[codes]
    within_sums = np.bincount(
        codes, weights=_x_log_ratio(scaled, own_mean, own_log_mean), minlength=n_groups
    )
    # s_g T_g = (X_g / X) * within_sum_g / X_g = within_sum_g / X (no division by a tiny X_g)
    within_terms = np.where(held, within_sums / scaled_total, 0.0)

    return total, float(between_terms.sum()), float(within_terms.sum())


# ----------------------------------------------------------------------------
# outcomes
# ----------------------------------------------------------------------------


def attainment(outcome: ArrayLike, initial_position: ArrayLike, salience: ArrayLike) -> np.ndarray:
    """How close each actor got to what it wanted, weighted by what it cared about.

    For actor ``i`` over the decided issues ``k`` (those with a finite outcome)::

        A_i = 1 - sum_k s_ik |o_k - x_ik| / sum_k s_ik

    where ``o_k`` is the outcome, ``x_ik`` the actor's initial position and
    ``s_ik`` its salience. With positions and outcomes in ``[0, 1]`` and
    non-negative salience, ``A_i`` lies in ``[0, 1]``; 1 means every decided
    issue went exactly the actor's way.

    Parameters
    ----------
    outcome : array_like, shape (k,)
        Outcome of each issue in ``[0, 1]``; ``nan`` marks an issue not
        decided, which is left out of both sums.
    initial_position : array_like, shape (n, k)
        Each actor's initial position on each issue, in ``[0, 1]``.
    salience : array_like, shape (n, k)
        Non-negative weight each actor gives each issue.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Attainment per actor; ``nan`` for an actor whose salience over the
        decided issues sums to 0 (it cared about nothing that was decided).

    Raises
    ------
    ValueError
        On mismatched shapes, negative salience, or positions or outcomes
        outside ``[0, 1]`` by more than 1e-9 (smaller rounding drift is
        accepted and the result clipped to ``[0, 1]``).
    """
    outcome_arr = np.asarray(outcome, dtype=float)
    position = np.asarray(initial_position, dtype=float)
    weight = np.asarray(salience, dtype=float)
    if outcome_arr.ndim != 1:
        raise ValueError(
            f"outcome must be 1-D (one entry per issue), got shape {outcome_arr.shape}"
        )
    if position.ndim != 2 or position.shape[1] != outcome_arr.shape[0]:
        raise ValueError(
            f"initial_position must have shape (n, {outcome_arr.shape[0]}), got {position.shape}"
        )
    if weight.shape != position.shape:
        raise ValueError(
            f"salience shape {weight.shape} differs from initial_position shape {position.shape}"
        )
    if np.any(weight < 0):
        raise ValueError("salience must be non-negative")
    slack = 1e-9  # tolerate rounding drift of positions updated in floating point
    if np.any((position < -slack) | (position > 1 + slack)) or np.any(
        (outcome_arr < -slack) | (outcome_arr > 1 + slack)
    ):
        raise ValueError("positions and outcomes must lie in [0, 1]")

    return _attainment(outcome_arr, position, weight)


def _attainment(
    outcome: np.ndarray,
    position: np.ndarray,
    weight: np.ndarray,
    weight_total: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`attainment` of checked float arrays, unchecked (the model's path; its initial
    positions and saliences never change and its policy stays in [0, 1]).

    ``weight_total`` may pass ``weight.sum(axis=1)``, precomputed; it is used when every
    issue is decided (then the masks select everything and the result is the same).
    """
    outcome_arr = outcome
    decided = np.isfinite(outcome_arr)
    if decided.all():  # nothing to mask: the same sums without the masking temporaries
        weighted_distance = row_sums(weight * np.abs(outcome_arr - position))
        total = row_sums(weight) if weight_total is None else weight_total
        return np.clip(1.0 - _safe_divide(weighted_distance, total), 0.0, 1.0)
    included_weight = np.where(decided, weight, 0.0)
    distance = np.where(decided, np.abs(np.where(decided, outcome_arr, 0.0) - position), 0.0)
    weighted_distance = row_sums(included_weight * distance)
    weight_total = row_sums(included_weight)
    return np.clip(1.0 - _safe_divide(weighted_distance, weight_total), 0.0, 1.0)


def attainment_gap(attainment: ArrayLike, groups: ArrayLike, a: int, b: int) -> float:
    """Difference in mean attainment between two groups.

    ``gap = nanmean(A_i : group_i = a) - nanmean(A_i : group_i = b)``.
    The headline comparison is ``a`` = developed-country governments,
    ``b`` = developing-country governments, so a positive gap means the
    developed got closer to what they wanted.

    Parameters
    ----------
    attainment : array_like, shape (n,)
        Attainment per actor (see :func:`attainment`); ``nan`` entries are ignored.
    groups : array_like of int, shape (n,)
        Group code of each actor.
    a, b : int
        The two group codes compared.

    Returns
    -------
    float
        The gap; ``nan`` if either group has no finite attainment.
    """
    values = np.asarray(attainment, dtype=float)
    codes = np.asarray(groups)
    if values.shape != codes.shape or values.ndim != 1:
        raise ValueError(
            f"attainment {values.shape} and groups {codes.shape} must be 1-D and aligned"
        )
    return _quiet_nanmean(values[codes == a]) - _quiet_nanmean(values[codes == b])


def resource_elasticity(attainment: ArrayLike, resources: ArrayLike) -> float:
    """How much attainment rises with (log) resources.

    The OLS slope of ``A_i`` on ``z_i = ln(r_i)``::

        beta = sum_i (z_i - zbar)(A_i - Abar) / sum_i (z_i - zbar)^2

    over the actors where both ``A_i`` and ``ln(r_i)`` are finite (so actors
    with ``r_i <= 0`` or missing attainment are dropped). ``beta`` is the gain
    in attainment for a e-fold (about 2.7x) increase in resources; 0 means
    outcomes do not track resources.

    Parameters
    ----------
    attainment : array_like, shape (n,)
        Attainment per actor.
    resources : array_like, shape (n,)
        Resources per actor (budget, delegation size ...).

    Returns
    -------
    float
        The slope; ``nan`` if fewer than 2 distinct resource values remain.
    """
    y = np.asarray(attainment, dtype=float)
    r = np.asarray(resources, dtype=float)
    if y.shape != r.shape or y.ndim != 1:
        raise ValueError(f"attainment {y.shape} and resources {r.shape} must be 1-D and aligned")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log(r)
    keep = np.isfinite(y) & np.isfinite(z)
    y, z = y[keep], z[keep]
    if np.unique(z).size < 2:
        return float("nan")
    z_centred = z - z.mean()
    return float(np.dot(z_centred, y - y.mean()) / np.dot(z_centred, z_centred))


# ----------------------------------------------------------------------------
# forum performance
# ----------------------------------------------------------------------------


def decision_rate(decided: ArrayLike) -> float:
    """Share of decision items (agenda items, or whole meetings) that adopted an outcome.

    ``rate = #{items decided} / #{items}``. The run summary passes one entry per
    agenda item (an issue at a meeting).

    Parameters
    ----------
    decided : array_like of bool, shape (m,)
        One entry per item.

    Returns
    -------
    float
        The rate; ``nan`` if there is no meeting.
    """
    flags = np.asarray(decided, dtype=bool)
    if flags.size == 0:
        return float("nan")
    return float(flags.mean())


def deadlock_rate(deadlocked: ArrayLike, decisional: ArrayLike) -> float:
    """Share of decisional items (agenda items, or whole meetings) that ended without agreement.

    ``rate = #{deadlocked and decisional} / #{decisional}``. The run summary passes
    one entry per agenda item.

    Parameters
    ----------
    deadlocked : array_like of bool, shape (m,)
        Whether the meeting ended without agreement.
    decisional : array_like of bool, shape (m,)
        Whether the meeting was meant to decide (non-decisional forums such
        as the IGF cannot deadlock).

    Returns
    -------
    float
        The rate; ``nan`` if no meeting was decisional.
    """
    stuck = np.asarray(deadlocked, dtype=bool)
    deciding = np.asarray(decisional, dtype=bool)
    if stuck.shape != deciding.shape:
        raise ValueError(
            f"deadlocked {stuck.shape} and decisional {deciding.shape} must be aligned"
        )
    n_decisional = np.count_nonzero(deciding)
    if n_decisional == 0:
        return float("nan")
    return float(np.count_nonzero(stuck & deciding) / n_decisional)


def time_to_first_agreement(steps: ArrayLike, decided: ArrayLike) -> float:
    """Step of the earliest meeting that adopted an outcome.

    ``t* = min{ step_j : decided_j }``.

    Parameters
    ----------
    steps : array_like of int, shape (m,)
        Simulation step of each meeting.
    decided : array_like of bool, shape (m,)
        Whether that meeting adopted an outcome.

    Returns
    -------
    float
        ``t*``; ``nan`` if no meeting decided anything.
    """
    step_arr = np.asarray(steps)
    flags = np.asarray(decided, dtype=bool)
    if step_arr.shape != flags.shape:
        raise ValueError(f"steps {step_arr.shape} and decided {flags.shape} must be aligned")
    if not flags.any():
        return float("nan")
    return float(step_arr[flags].min())


def policy_coverage(adopted: ArrayLike, salience: ArrayLike, public_policy: ArrayLike) -> float:
    """Salience-weighted share of public-policy issues on which something was adopted.

    Over the public-policy issues ``P``::

        coverage = sum_{k in P} s_k [adopted_k] / sum_{k in P} s_k

    Parameters
    ----------
    adopted : array_like of bool, shape (k,)
        Whether some forum with decision power adopted an outcome on issue ``k``.
    salience : array_like, shape (k,)
        Non-negative importance of each issue (e.g. mean salience over actors).
    public_policy : array_like of bool, shape (k,)
        Whether the issue is a public-policy issue.

    Returns
    -------
    float
        Coverage in ``[0, 1]``; ``nan`` if there is no public-policy issue
        (or their saliences sum to 0).
    """
    done = np.asarray(adopted, dtype=bool)
    weight = np.asarray(salience, dtype=float)
    in_scope = np.asarray(public_policy, dtype=bool)
    if not (done.shape == weight.shape == in_scope.shape) or done.ndim != 1:
        raise ValueError(
            f"adopted {done.shape}, salience {weight.shape} and public_policy {in_scope.shape} "
            "must be 1-D and aligned"
        )
    if np.any(weight < 0):
        raise ValueError("salience must be non-negative")
    scope_weight = weight[in_scope].sum()
    if not in_scope.any() or scope_weight == 0:
        return float("nan")
    return float(weight[in_scope & done].sum() / scope_weight)
