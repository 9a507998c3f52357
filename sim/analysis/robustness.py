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
    """Designs ranked by mean effect; a design is tied with the next when their paired
    difference's t-interval over draws covers zero.

    Returns
    -------
    DataFrame
        One row per design in rank order: ``rank`` (tied designs share the better
        rank), ``mean``, ``lo``, ``hi`` (interval of the mean effect), ``vs_next_lo``,
        ``vs_next_hi`` (interval of this design minus the next) and ``tied_with_next``.
    """
    sign = 1.0 if larger_is_better else -1.0
    order = (sign * effects.mean()).sort_values(ascending=False).index
    rows, rank = [], 1
    for i, d in enumerate(order):
        lo, hi = _t_interval(effects[d].to_numpy(), confidence)
        row = {"design": d, "rank": rank, "mean": effects[d].mean(), "lo": lo, "hi": hi}
        if i + 1 < len(order):
            diff = sign * (effects[d] - effects[order[i + 1]]).to_numpy()
            dlo, dhi = _t_interval(diff, confidence)
            tied = bool(dlo <= 0.0)
            row |= {"vs_next_lo": dlo, "vs_next_hi": dhi, "tied_with_next": tied}
            rank = rank if tied else i + 2
        else:
            row |= {"vs_next_lo": np.nan, "vs_next_hi": np.nan, "tied_with_next": False}
        rows.append(row)
    return pd.DataFrame(rows).set_index("design")


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
    return out.join(ranking(effects, larger_is_better)[["rank", "mean", "lo", "hi"]])
