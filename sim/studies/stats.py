"""Statistics across replicates: means with t-intervals, paired differences vs a baseline.

A *condition* is a scenario at one grid point. Replicate ``r`` of every
condition shares the random stream ``SeedSequence(root_seed, spawn_key=(r,))``
(common random numbers), so a difference against the baseline is taken within
each replicate and its interval is the t-interval of those paired differences,
which is usually much narrower than comparing two independent means.

Intervals are Student-t 95% intervals, ``mean ± t(0.975, n-1) · sd / √n``, over
replicates whose value is defined (a deadlock rate is undefined, NaN, for a
forum that never decides).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

LEVEL = 0.95


def t_interval(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Mean and ``level`` t-interval of the finite values.

    Returns a dict with ``n``, ``mean``, ``sd``, ``lo``, ``hi`` (``lo``/``hi`` are
    NaN with fewer than two values; equal to the mean when sd is 0).
    """
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return {"n": 0, "mean": np.nan, "sd": np.nan, "lo": np.nan, "hi": np.nan}
    mean = float(x.mean())
    if n < 2:
        return {"n": 1, "mean": mean, "sd": np.nan, "lo": np.nan, "hi": np.nan}
    sd = float(x.std(ddof=1))
    half = float(sps.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "lo": mean - half, "hi": mean + half}


def select(table: pd.DataFrame, metric: Any) -> pd.DataFrame:
    """Rows of the whole-run summary for one metric selector (``sim.studies.spec.Metric``)."""
    t = table
    mask = (
        (t["kind"] == "summary")
        & (t["metric"] == metric.name)
        & (t["forum"] == metric.forum)
        & (t["group"] == metric.group)
        & (t["issue"] == metric.issue)
    )
    return t.loc[mask]


def conditions(table: pd.DataFrame, grid_keys: Sequence[str]) -> list[str]:
    """Columns that identify a condition: scenario plus the swept keys."""
    return ["scenario", *[k for k in grid_keys if k in table.columns]]


def _complete(
    table: pd.DataFrame, metric: Any, cond: list[str], order: pd.DataFrame | None
) -> pd.DataFrame:
    """Per condition and replicate one value (NaN when the metric is absent from a run)."""
    runs = table[[*cond, "replicate"]].drop_duplicates()
    vals = select(table, metric)[[*cond, "replicate", "value"]]
    return runs.merge(vals, on=[*cond, "replicate"], how="left")


def summarise(
    table: pd.DataFrame, metrics: Sequence[Any], grid_keys: Sequence[str] = ()
) -> pd.DataFrame:
    """Mean and 95% t-interval per metric and condition.

    Returns
    -------
    DataFrame
        Columns ``metric`` (the selector text), ``scenario``, the grid keys,
        ``n``, ``mean``, ``sd``, ``lo``, ``hi``; conditions in the table's order.
    """
    cond = conditions(table, grid_keys)
    rows = []
    for m in metrics:
        d = _complete(table, m, cond, None)
        for values, g in d.groupby(cond, sort=False, dropna=False):
            values = values if isinstance(values, tuple) else (values,)
            rows.append({"metric": m.text, **dict(zip(cond, values, strict=True)),
                         **t_interval(g["value"].to_numpy())})  # fmt: skip
    return pd.DataFrame(rows, columns=["metric", *cond, "n", "mean", "sd", "lo", "hi"])


def baseline_of(condition: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """The baseline condition a condition is compared with (same grid point unless fixed)."""
    out = dict(condition)
    out.update(baseline)
    return out


def fixed_point(study) -> dict[str, Any]:
    """The grid point a study's one-point views use: the baseline's values, else the first."""
    point = {k: vals[0] for k, vals in study.grid.items()}
    point.update({k: v for k, v in study.baseline.items() if k != "scenario"})
    return point


def paired_differences(
    table: pd.DataFrame,
    metrics: Sequence[Any],
    baseline: Mapping[str, Any],
    grid_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Differences against the baseline, paired by replicate, with 95% t-intervals.

    Parameters
    ----------
    table
        The study's aggregate table.
    metrics
        Metric selectors.
    baseline
        ``{"scenario": name}`` and optionally fixed grid values: each condition is
        compared with the condition obtained by setting these values.
    grid_keys
        The swept keys.

    Returns
    -------
    DataFrame
        Columns ``metric``, ``scenario``, grid keys, ``n`` (replicates with both
        values), ``diff``, ``lo``, ``hi``, ``baseline`` (a label of the baseline
        condition). The baseline condition itself is left out.
    """
    cond = conditions(table, grid_keys)
    rows = []
    for m in metrics:
        d = _complete(table, m, cond, None)
        by = {
            (k if isinstance(k, tuple) else (k,)): g.set_index("replicate")["value"]
            for k, g in d.groupby(cond, sort=False, dropna=False)
        }
        for values, v in by.items():
            c = dict(zip(cond, values, strict=True))
            b = baseline_of(c, baseline)
            if b == c:
                continue
            bv = by.get(tuple(b[k] for k in cond))
            if bv is None:
                continue
            diff = (v - bv.reindex(v.index)).to_numpy()
            ci = t_interval(diff)
            label = ", ".join(f"{k}={b[k]}" for k in cond)
            rows.append({"metric": m.text, **c, "n": ci["n"], "diff": ci["mean"],
                         "lo": ci["lo"], "hi": ci["hi"], "baseline": label})  # fmt: skip
    return pd.DataFrame(rows, columns=["metric", *cond, "n", "diff", "lo", "hi", "baseline"])


def yearly(table: pd.DataFrame, grid_keys: Sequence[str] = (), forum: str = "all") -> pd.DataFrame:
    """Participation rate per condition, group and year: mean and 95% interval over replicates.

    The interval is clipped to [0, 1], the range of a rate (as :func:`clip_summary` does for
    the study's measures).
    """
    cond = conditions(table, grid_keys)
    t = table[(table["kind"] == "yearly") & (table["forum"] == forum)]
    rows = []
    for values, g in t.groupby([*cond, "group", "year"], sort=False, dropna=False):
        rows.append({**dict(zip([*cond, "group", "year"], values, strict=True)),
                     **t_interval(g["value"].to_numpy())})  # fmt: skip
    out = pd.DataFrame(rows, columns=[*cond, "group", "year", "n", "mean", "sd", "lo", "hi"])
    out["lo"], out["hi"] = out["lo"].clip(*UNIT_SHARE), out["hi"].clip(*UNIT_SHARE)
    return out


# ----- honest intervals: natural ranges, clipping, too few replicates -------------------
MIN_REPLICATES = 5
"""Below this many replicates per condition a briefing warns that its intervals are unreliable
(a t-interval from 2–4 values is very wide and its coverage rests on normality)."""

UNIT_SHARE = (0.0, 1.0)
NON_NEGATIVE = (0.0, np.inf)
RANGES: dict[str, tuple[float, float]] = {
    **dict.fromkeys(
        [
            "participation_rate",
            "participation_onsite",
            "participation_remote",
            "voice_share",
            "participation_rate_by_region",
            "voice_share_by_region",
            "banzhaf_power",
            "shapley_shubik_power",
            "board_banzhaf_power",
            "board_shapley_shubik_power",
            "attainment",
            "decision_rate",
            "deadlock_rate",
            "voice_gini",
            "policy_coverage",
            "issue_coverage",
            "adoptions_share",
            "text_adoption_rate",
            "vote_rate",
            "mandate_adopted",
            "declined_share",
        ],
        UNIT_SHARE,
    ),  # fmt: skip
    **dict.fromkeys(
        [
            "representation_ratio",
            "representation_ratio_by_region",
            "theil_between",
            "theil_within",
            "meetings",
            "declined",
            "time_to_first_agreement",
            "adoptions",
            "agenda_items",
        ],
        NON_NEGATIVE,
    ),  # fmt: skip
    "attainment_gap": (-1.0, 1.0),
    "attainment_gap_start": (-1.0, 1.0),
    "attainment_gap_change": (-2.0, 2.0),
}
"""The possible range of each measure (attainment is 0–1, so a gap lies in [−1, 1] and its
change over a run in [−2, 2]); measures not listed are unbounded."""


def measure_range(name: str) -> tuple[float, float]:
    """The possible range ``(lo, hi)`` of a measure (``(-inf, inf)`` when unbounded)."""
    return RANGES.get(name, (-np.inf, np.inf))


def clip_summary(summary: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Clip each mean's interval to its measure's possible range.

    Parameters
    ----------
    summary
        :func:`summarise` output.
    names
        Selector text -> measure name (``{"representation_ratio@cstd/developing_gov":
        "representation_ratio"}``).

    Returns
    -------
    DataFrame
        A copy with ``lo``/``hi`` clipped and a boolean column ``clipped`` (True where
        the t-interval ran past the range, a sign of too few replicates).
    """
    out = summary.copy()
    lo = out["metric"].map(lambda t: measure_range(names.get(t, t))[0]).astype(float)
    hi = out["metric"].map(lambda t: measure_range(names.get(t, t))[1]).astype(float)
    out["clipped"] = (out["lo"] < lo) | (out["hi"] > hi)
    out["lo"], out["hi"] = out["lo"].clip(lower=lo), out["hi"].clip(upper=hi)
    return out


def clip_differences(
    diffs: pd.DataFrame,
    summary: pd.DataFrame,
    names: Mapping[str, str],
    baseline: Mapping[str, Any],
    grid_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Clip each paired difference's interval to what the measure's range allows.

    A condition's mean lies in ``[lo, hi]``, so its difference from a baseline whose mean
    is ``b`` lies in ``[lo − b, hi − b]``. Adds the baseline's mean as ``base_mean`` (for
    relative changes) and ``clipped``.
    """
    out = diffs.copy()
    if not len(out):
        return out.assign(base_mean=pd.Series(dtype=float), clipped=pd.Series(dtype=bool))
    cond = conditions(out, grid_keys)
    means = {(r["metric"], *(r[k] for k in cond)): r["mean"] for r in summary.to_dict("records")}
    base_means = []
    for r in out.to_dict("records"):
        b = baseline_of({k: r[k] for k in cond}, baseline)
        base_means.append(means.get((r["metric"], *(b[k] for k in cond)), np.nan))
    out["base_mean"] = base_means
    lo = out["metric"].map(lambda t: measure_range(names.get(t, t))[0]).astype(float)
    hi = out["metric"].map(lambda t: measure_range(names.get(t, t))[1]).astype(float)
    dlo = (lo - out["base_mean"]).fillna(-np.inf)
    dhi = (hi - out["base_mean"]).fillna(np.inf)
    out["clipped"] = (out["lo"] < dlo) | (out["hi"] > dhi)
    out["lo"], out["hi"] = out["lo"].clip(lower=dlo), out["hi"].clip(upper=dhi)
    return out


def compare(
    table: pd.DataFrame,
    metrics: Sequence[Any],
    baseline: Mapping[str, Any],
    grid_keys: Sequence[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each condition's mean and its paired difference from the baseline, intervals clipped.

    The one computation behind ``summary.csv`` and ``differences.csv`` of a study (and the
    dashboard's comparison, which must show the same numbers): :func:`summarise` and
    :func:`paired_differences`, then :func:`clip_summary` and :func:`clip_differences`.

    Parameters
    ----------
    table
        The study's aggregate table (one row per run, metric selector and year).
    metrics
        The study's metrics (objects with ``text`` and ``name``).
    baseline
        The baseline condition (scenario and grid values).
    grid_keys
        The study's grid keys.

    Returns
    -------
    (summary, differences)
        Both empty when ``table`` is.
    """
    if not len(table):
        return pd.DataFrame(), pd.DataFrame()
    names = {m.text: m.name for m in metrics}
    summary = clip_summary(summarise(table, metrics, grid_keys), names)
    diffs = paired_differences(table, metrics, baseline, grid_keys)
    return summary, clip_differences(diffs, summary, names, baseline, grid_keys)


def zero_width(lo: float, hi: float) -> bool:
    """An interval of width zero: every replicate gave the same value (no estimate of spread).

    Such an interval is not evidence of anything: with few replicates a rate that can only
    take a few values (a deadlock rate over 8 agenda items) often repeats exactly.
    """
    return bool(np.isfinite(lo) and np.isfinite(hi) and hi - lo <= 1e-12)


def design_effect(change: Sequence[float] | pd.Series, baseline_change: Sequence[float] | pd.Series,
                  level: float = LEVEL) -> dict[str, float]:  # fmt: skip
    """The design effect on a measure's change over the run, paired by replicate.

    ``effect_r = Δ_scenario,r − Δ_baseline,r`` where ``Δ = end − start`` (for the
    attainment gap, ``attainment_gap_change``). The starting value is an assumption
    (positions and saliences), shared by scenario and baseline in each replicate (common
    random numbers); what a design adds is the difference in the change. A negative effect
    on the attainment gap is gap closed by design.

    Parameters
    ----------
    change, baseline_change
        Per replicate; Series are aligned on their index (the replicate), sequences by
        position.
    level
        Interval level (0.95).

    Returns
    -------
    dict
        ``n``, ``mean``, ``sd``, ``lo``, ``hi`` of the paired differences (:func:`t_interval`).
    """
    if isinstance(change, pd.Series) and isinstance(baseline_change, pd.Series):
        diff = (change - baseline_change.reindex(change.index)).to_numpy(float)
    else:
        a, b = np.asarray(change, float), np.asarray(baseline_change, float)
        if a.shape != b.shape:
            raise ValueError(f"paired by replicate: shapes {a.shape} and {b.shape} differ")
        diff = a - b
    return t_interval(diff, level)


@dataclass(frozen=True)
class _Selector:
    text: str
    name: str
    forum: str = "all"
    group: str = "all"
    issue: str = "all"


GAP_CHANGE = _Selector("attainment_gap_change", "attainment_gap_change")
GAP_START = _Selector("attainment_gap_start", "attainment_gap_start")


def design_effects(
    table: pd.DataFrame, baseline: Mapping[str, Any], grid_keys: Sequence[str] = ()
) -> pd.DataFrame:
    """:func:`design_effect` on the attainment gap for every condition against its baseline.

    Returns
    -------
    DataFrame
        Columns: the condition columns, ``n``, ``effect`` (mean design effect), ``lo``,
        ``hi``, ``closed`` (= −effect, gap closed by design), ``start`` (mean assumed
        starting gap) and ``baseline_change`` (mean change under the baseline).
    """
    cond = conditions(table, grid_keys)
    change = _complete(table, GAP_CHANGE, cond, None)
    start = _complete(table, GAP_START, cond, None)
    by = {
        (k if isinstance(k, tuple) else (k,)): g.set_index("replicate")["value"]
        for k, g in change.groupby(cond, sort=False, dropna=False)
    }
    starts = {
        (k if isinstance(k, tuple) else (k,)): float(g["value"].mean())
        for k, g in start.groupby(cond, sort=False, dropna=False)
    }
    rows = []
    for values, v in by.items():
        c = dict(zip(cond, values, strict=True))
        b = baseline_of(c, baseline)
        bv = by.get(tuple(b[k] for k in cond))
        if bv is None or b == c:
            continue
        ci = design_effect(v, bv)
        rows.append({**c, "n": ci["n"], "effect": ci["mean"], "lo": ci["lo"], "hi": ci["hi"],
                     "closed": -ci["mean"], "start": starts.get(values, np.nan),
                     "baseline_change": float(bv.mean())})  # fmt: skip
    return pd.DataFrame(
        rows, columns=[*cond, "n", "effect", "lo", "hi", "closed", "start", "baseline_change"]
    )
