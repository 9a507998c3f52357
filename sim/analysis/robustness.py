"""Robustness of designs across what we do not know (exploratory modelling).

An exploration runs every design (scenario) at every draw of the uncertain
assumptions, with common random numbers: draw ``j`` of every design uses the same
assumption values and the same seed. The measures here compare designs draw by
draw, in the style of the EMA Workbench and of robust decision making
(Lempert, Popper & Bankes, *Shaping the Next One Hundred Years*, RAND MR-1626,
2003; Kwakkel, "The Exploratory Modeling Workbench", *Environmental Modelling &
Software* 96, 2017; McPhail et al., "Robustness metrics: how are they
calculated, when should they be used and why do they give different results?",
*Earth's Future* 6, 2018):

- **design effect** in draw ``j``: ``e_dj = y_dj − y_bj``, the design's outcome
  minus the baseline's, paired by draw (so the assumption's own effect cancels);
- **regret** (Savage's minimax regret, as in McPhail et al. 2018, Table 1):
  ``r_dj = max_d' e_d'j − e_dj``, the shortfall from the best design in that draw;
  a design's regret is summarised by its maximum and its 90th percentile;
- **satisficing** (Starr's domain criterion, McPhail et al. 2018): the share of
  draws in which the design's effect reaches a threshold *and* every guard
  measure (e.g. each group's participation) is not lowered beyond a tolerance;
- **ranking** by mean effect, with each design compared with the next by a paired
  t-interval over draws: designs whose interval covers zero are *tied*.

All functions take a tidy table with columns ``draw``, ``design`` and one column
per measure, and return tables; none of them runs a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats


def design_effects(table: pd.DataFrame, measure: str, baseline: str) -> pd.DataFrame:
    """Draws × designs table of ``measure`` minus the baseline's, paired by draw.

    Parameters
    ----------
    table
        Tidy rows with ``draw``, ``design`` and ``measure``; one row per (draw, design).
    measure
        The column to compare.
    baseline
        The design every other is compared with (its own column is all zeros).

    Raises
    ------
    ValueError
        If a (draw, design) pair appears twice or the baseline is missing in a draw.
    """
    if table.duplicated(["draw", "design"]).any():
        raise ValueError("each (draw, design) must appear once")
    wide = table.pivot(index="draw", columns="design", values=measure)
    if baseline not in wide.columns:
        raise ValueError(f"baseline {baseline!r} not among designs {list(wide.columns)}")
    if wide[baseline].isna().any():
        raise ValueError("the baseline is missing in some draws")
    return wide.sub(wide[baseline], axis=0)


def regret(effects: pd.DataFrame, larger_is_better: bool = True) -> pd.DataFrame:
    """Per draw and design: the shortfall from the best design in that draw (≥ 0)."""
    e = effects if larger_is_better else -effects
    return e.rsub(e.max(axis=1), axis=0)


def satisficing(
    effects: pd.DataFrame,
    threshold: float,
    guards: Mapping[str, pd.DataFrame] | None = None,
    tolerance: float = 0.0,
    larger_is_better: bool = True,
) -> pd.Series:
    """Share of draws in which a design meets the threshold and lowers no guard measure.

    Parameters
    ----------
    effects
        Draws × designs effects on the goal measure.
    threshold
        The effect a design must reach (``≥`` when larger is better, else ``≤ −threshold``).
    guards
        Name -> draws × designs effects on measures that must not fall (e.g. the
        participation rate of each group); a draw fails when any falls below ``−tolerance``.
    tolerance
        How far a guard may fall and still count as not lowered.
    """
    eps = 1e-12  # an effect equal to the threshold, up to rounding, meets it
    ok = effects >= threshold - eps if larger_is_better else effects <= -threshold + eps
    for g in (guards or {}).values():
        ok &= g.reindex_like(effects) >= -tolerance - eps
    return ok.mean(axis=0).rename("satisficing")


def ranking(
    effects: pd.DataFrame, larger_is_better: bool = True, confidence: float = 0.95
) -> pd.DataFrame:
    """Designs ranked by how many others beat them, draw by draw.

    Every pair of designs is compared by the paired t-interval of their difference
    over draws. A design's ``rank`` is 1 + the number of designs that beat it (interval
    entirely in their favour), so designs that nothing separates share a rank.

    Returns
    -------
    DataFrame
        One row per design, best first: ``rank``, ``mean``, ``lo``, ``hi`` (interval of
        the mean effect), ``beaten_by`` (designs that beat it) and ``tied_with_best``
        (the best design by mean does not beat it).
    """
    sign = 1.0 if larger_is_better else -1.0
    order = list((sign * effects.mean()).sort_values(ascending=False).index)
    beaten_by: dict[str, list[str]] = {d: [] for d in order}
    for a in order:
        for b in order:
            if (
                a != b
                and _t_interval(sign * (effects[b] - effects[a]).to_numpy(), confidence)[0] > 0
            ):
                beaten_by[a].append(b)
    best = order[0]
    rows = []
    for d in order:
        lo, hi = _t_interval(effects[d].to_numpy(), confidence)
        rows.append({
            "design": d, "rank": 1 + len(beaten_by[d]), "mean": effects[d].mean(),
            "lo": lo, "hi": hi, "beaten_by": ", ".join(beaten_by[d]),
            "tied_with_best": best not in beaten_by[d],
        })  # fmt: skip
    return (
        pd.DataFrame(rows)
        .set_index("design")
        .sort_values(["rank", "mean"], ascending=[True, not larger_is_better])
    )


def _t_interval(x: np.ndarray, confidence: float) -> tuple[float, float]:
    """Student-t interval of the mean (the point itself when the values do not vary)."""
    x = x[np.isfinite(x)]
    m = float(x.mean()) if len(x) else np.nan
    if len(x) < 2 or np.ptp(x) == 0:
        return m, m
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return m - half, m + half


def summary(
    effects: pd.DataFrame,
    threshold: float,
    guards: Mapping[str, pd.DataFrame] | None = None,
    larger_is_better: bool = True,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
) -> pd.DataFrame:
    """One row per design: effect quantiles, mean and max regret, satisficing, rank."""
    r = regret(effects, larger_is_better)
    q = effects.quantile(list(quantiles)).T.add_prefix("effect_q")
    out = q.join(
        pd.DataFrame(
            {
                "regret_mean": r.mean(),
                "regret_q90": r.quantile(0.9),
                "regret_max": r.max(),
                "satisficing": satisficing(effects, threshold, guards, 0.0, larger_is_better),
            }
        )
    )
    ranked = ranking(effects, larger_is_better)
    out = out.join(ranked[["rank", "mean", "lo", "hi", "beaten_by", "tied_with_best"]])
    return out.loc[ranked.index]
