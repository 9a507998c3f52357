"""A run's summary: the headline measures, one tidy long table per run.

Columns: ``metric``, ``forum`` ("all" when pooled over forums), ``group``
("all" when not by group), ``value``. Each measure is computed from the run's
tables with the definitions in :mod:`sim.model.metrics`; pooled rates are ratios of
totals over meetings (attendances / eligible opportunities), not means of
per-meeting rates.

The measures read the tables' columns as numpy arrays straight from the model's
DataCollector (:func:`columns`), not as DataFrames: a study computes a summary per run,
and the pandas version (a groupby and a dozen Series reductions per group and forum)
cost several times a one-year run. The arithmetic is pandas': sums of floats are
``numpy.sum`` over the same values in the same order (pairwise summation, as
``Series.sum``), missing values count as 0 in sums and are skipped in means, groups come
in order of first appearance (``groupby(sort=False)``), so the table is bit-identical.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from sim.model import metrics, power
from sim.model.config import GROUPS
from sim.model.forums.membership import MEMBER
from sim.model.forums.registry import RULE_KINDS, describe
from sim.model.population import DEVELOPED, DEVELOPING

HEADLINE = [
    "participation_rate",
    "voice_share",
    "representation_ratio",
    "attainment",
]


Columns = dict[str, np.ndarray]
"""One of the model's tables as numpy columns (see :func:`columns`)."""

_FLOAT_COLUMNS = {
    "voice_share", "eligible_share", "representation_ratio", "voice_gini", "voice_theil",
    "theil_between", "theil_within", "onsite_delegates", "remote_delegates", "grant_uptake",
    "status_quo", "proposal", "outcome", "policy_after",
}  # fmt: skip


def columns(model, name: str) -> Columns:
    """The model's table ``name`` as numpy columns, read from its DataCollector's lists.

    The values are those of ``model.tables()[name]`` (floats as float64 with NaN for
    missing, integers as int64, flags as bool, labels as strings), without building a
    DataFrame.
    """
    raw = getattr(getattr(model, "datacollector", None), "tables", {}).get(name)
    if raw is None:  # a model whose tables are not DataCollector lists
        df = model.tables()[name]
        return {c: df[c].to_numpy() for c in df.columns}
    out: Columns = {}
    for col, values in raw.items():
        out[col] = np.array(values, dtype=float) if col in _FLOAT_COLUMNS else np.array(values)
    return out


def _take(cols: Columns, mask: np.ndarray) -> Columns:
    """The rows of ``cols`` where ``mask`` holds (each column a new contiguous array)."""
    return {c: v[mask] for c, v in cols.items()}


def _sum0(values: np.ndarray) -> float:
    """``Series.sum()`` of a float column: missing values count as 0, pairwise summation."""
    nan = np.isnan(values)
    return (np.where(nan, 0.0, values) if nan.any() else values).sum()


def _nanmean(values: np.ndarray) -> float:
    """``Series.mean()`` of a float column: the sum of the values present over their count."""
    values = np.asarray(values, dtype=float)
    nan = np.isnan(values)
    count = np.float64(values.size - nan.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return _sum0(values) / count


def _first_seen(labels: np.ndarray) -> list:
    """Distinct labels in order of first appearance (``groupby(sort=False)``'s order)."""
    return list(dict.fromkeys(labels.tolist()))


def _group_rows(att: Columns, forum: str, by: str = "group", suffix: str = "") -> list[dict]:
    """Participation (by mode), voice share and representation ratio per group (or region).

    With ``by="region"`` the rows come from the ``regions`` table and the metric
    names carry ``suffix`` (``representation_ratio_by_region``), the region in
    the ``group`` column.
    """
    n_meetings = len(set(zip(att["forum"].tolist(), att["step"].tolist(), strict=True)))
    labels = att[by]
    groups = _first_seen(labels)
    n = len(groups)
    eligible, onsite, remote = (np.zeros(n, np.int64) for _ in range(3))
    voice, eligible_share = np.zeros(n), np.zeros(n)
    for i, group in enumerate(groups):
        at = labels == group
        eligible[i] = att["eligible"][at].sum()
        onsite[i], remote[i] = att["onsite"][at].sum(), att["remote"][at].sum()
        # mean over all meetings of the forum(s), a group absent from one counting 0
        voice[i] = _sum0(att["voice_share"][at]) / n_meetings
        eligible_share[i] = _sum0(att["eligible_share"][at]) / n_meetings
    values = {  # elementwise over the groups: the same divisions as one group at a time
        "participation_rate": metrics.participation_rate(onsite + remote, eligible),
        "participation_onsite": metrics.participation_rate(onsite, eligible),
        "participation_remote": metrics.participation_rate(remote, eligible),
        "voice_share": voice,
        "representation_ratio": metrics.representation_ratio(voice, eligible_share),
    }
    values = {m: np.asarray(v, float).tolist() for m, v in values.items()}
    return [
        {"metric": m + suffix, "forum": forum, "group": group, "value": v[i]}
        for i, group in enumerate(groups)
        for m, v in values.items()
    ]


def _forum_rows(meetings: Columns, outcomes: Columns, forum: str) -> list[dict]:
    """Decision and deadlock rates per agenda item, time to first agreement, voice inequality.

    An agenda item is one issue at one meeting. ``decision_rate`` is the share of
    items adopted; ``deadlock_rate`` the share of items at decisional meetings
    that ended without agreement (nan where no meeting could decide).
    """
    m, o = meetings, outcomes
    first: dict = {}
    for f, d in zip(m["forum"].tolist(), m["decisional"].tolist(), strict=True):
        first.setdefault(f, d)
    # an outcome of a forum that held no meeting maps to a missing value, read as True
    decisional = np.array([bool(first.get(f, True)) for f in o["forum"].tolist()], bool)
    adopted = o["adopted"].astype(bool)
    declined, passed = m["declined"].sum(), m["adopted"].sum()
    values = {
        "meetings": len(m["forum"]),
        "decision_rate": metrics.decision_rate(adopted),
        "deadlock_rate": metrics.deadlock_rate(~adopted, decisional),
        "time_to_first_agreement": metrics.time_to_first_agreement(m["step"], m["adopted"] > 0),
        "voice_gini": _nanmean(m["voice_gini"]),
        "theil_between": _nanmean(m["theil_between"]),
        "theil_within": _nanmean(m["theil_within"]),
        "declined": declined,
        # advice a board declined, as a share of what the forum adopted and sent to it
        "declined_share": declined / (passed + declined) if declined + passed > 0 else np.nan,
    }
    return [
        {"metric": k, "forum": forum, "group": "all", "value": float(v)} for k, v in values.items()
    ]


@cache
def _equal_votes_power(metric: str, voters: int, quota, _type: type) -> np.ndarray:
    """Each voter's index in a game of ``voters`` equal votes and ``quota``: computed once
    per process for each game (a study's runs meet the same few games again and again);
    ``_type`` is the quota's type, so 3 and 3.0 are not taken for one game."""
    index = power.banzhaf if metric == "banzhaf_power" else power.shapley_shubik
    # exact for committees of these sizes; a fixed generator if one were sampled
    values = index(np.ones(voters), quota, rng=np.random.default_rng(0)).values
    values = np.array(values, dtype=float)
    values.flags.writeable = False
    return values


def _power_rows(model) -> list[dict]:
    """A priori voting power of each group in every game a forum's rules imply, final year.

    Each rule that declares a :class:`~sim.model.forums.registry.VotingGame` (the
    decision rule: majority, consensus as a veto game, rough consensus; the
    ratification rule: a board's supermajority to decline advice) contributes one
    game: one vote per voter — the forum's members, or the board's directors
    (``board_*`` metrics) — and the rule's quota. Each group's power is the sum of
    its voters' normalised Banzhaf and Shapley-Shubik indices (:mod:`sim.model.power`;
    exact for these sizes). A chair's summary implies no game.
    """
    rows = []
    for fi, (name, f) in enumerate(zip(model.forum_names, model.forums, strict=True)):
        for kind in RULE_KINDS:
            game = describe(kind, getattr(f, kind)).game
            if game is None:
                continue
            if game.voters == "board":  # the directors sitting now (staggered terms)
                who = model.directors[fi]
                groups = model.pop.group[who[who >= 0]]
            else:
                groups = model.pop.group[model.roles(fi) == MEMBER]
            if len(groups) == 0:
                continue
            prefix = "board_" if game.voters == "board" else ""
            quota = game.quota(len(groups), f)
            for metric in ("banzhaf_power", "shapley_shubik_power"):
                q = max(quota, 1)
                values = _equal_votes_power(metric, len(groups), q, type(q))
                totals = np.bincount(groups, weights=values, minlength=len(GROUPS))
                rows += [
                    {"metric": prefix + metric, "forum": name, "group": GROUPS[g],
                     "value": float(totals[g])}
                    for g in np.flatnonzero(np.bincount(groups, minlength=len(GROUPS)))
                ]  # fmt: skip
    return rows


def negotiation_rows(model) -> list[dict]:
    """Texts, votes, mandates and blocs (issue 14).

    - ``text_adoption_rate`` / ``vote_rate`` per forum deciding whole texts: the share of
      its package decisions that adopted the text / that went to a vote;
    - ``mandate_adopted`` (forum = the mandate's target): 1 when the deciding forum adopted
      it, 0 when it rejected it (absent when never put);
    - ``bloc_cohesion`` and ``bloc_voice`` (group = the bloc, forum = all or one forum):
      means over meetings of :func:`sim.model.forums.blocs.bloc_stats`.
    """
    rows: list[dict] = []
    texts = model.text_records  # (forum, step, adopted, voted)
    for forum in _first_seen(np.array([t[0] for t in texts], dtype=object)):
        mine = [t for t in texts if t[0] == forum]
        rows += [
            {"metric": "text_adoption_rate", "forum": forum, "group": "all",
             "value": float(_share([t[2] for t in mine]))},
            {"metric": "vote_rate", "forum": forum, "group": "all",
             "value": float(_share([t[3] for t in mine]))},
        ]  # fmt: skip
    for m in model.chain.mandates:
        if m.decided:
            rows.append({"metric": "mandate_adopted", "forum": model.forum_names[m.target],
                         "group": "all", "value": float(m.adopted)})  # fmt: skip
    blocs = model.bloc_records  # (forum, step, bloc, cohesion, voice)
    forums = np.array([b[0] for b in blocs], dtype=object)
    names = np.array([b[2] for b in blocs], dtype=object)
    cohesion = np.array([b[3] for b in blocs], dtype=float)
    voice = np.array([b[4] for b in blocs], dtype=float)
    everywhere = np.ones(len(blocs), bool)
    for forum_key, at in [("all", everywhere), *((f, forums == f) for f in _first_seen(forums))]:
        for bloc in _first_seen(names[at]):
            b = at & (names == bloc)
            rows += [
                {"metric": "bloc_cohesion", "forum": forum_key, "group": bloc,
                 "value": float(_nanmean(cohesion[b]))},
                {"metric": "bloc_voice", "forum": forum_key, "group": bloc,
                 "value": float(_nanmean(voice[b]))},
            ]  # fmt: skip
    return rows


def _share(flags: list) -> float:
    """``Series.mean()`` of a column of flags: the count that hold over the count."""
    return np.int64(sum(bool(f) for f in flags)) / np.float64(len(flags))


def run_summary(model) -> pd.DataFrame:
    """The headline measures of a finished (or running) model, as a long table."""
    return pd.DataFrame(run_summary_rows(model), columns=["metric", "forum", "group", "value"])


def run_summary_rows(model) -> list[dict]:
    """The rows of :func:`run_summary` (``metric``, ``forum``, ``group``, ``value`` each)."""
    att, meetings = columns(model, "attendance"), columns(model, "meetings")
    outcomes, regions = columns(model, "outcomes"), columns(model, "regions")
    rows: list[dict] = []
    if len(meetings["forum"]):
        rows += _group_rows(att, "all")
        rows += _group_rows(regions, "all", "region", "_by_region")
        rows += _forum_rows(meetings, outcomes, "all")
        for forum in model.forum_names:
            at = att["forum"] == forum
            if at.any():
                rows += _group_rows(_take(att, at), forum)
                rows += _group_rows(
                    _take(regions, regions["forum"] == forum), forum, "region", "_by_region"
                )
                rows += _forum_rows(
                    _take(meetings, meetings["forum"] == forum),
                    _take(outcomes, outcomes["forum"] == forum),
                    forum,
                )
    attainment = model.attainment()
    group = model.pop.group
    for g, name in enumerate(GROUPS):
        rows.append({"metric": "attainment", "forum": "all", "group": name,
                     "value": float(np.nanmean(attainment[group == g]))})  # fmt: skip
    is_gov = np.isin(group, (DEVELOPED, DEVELOPING))
    gap = metrics.attainment_gap(attainment, group, DEVELOPED, DEVELOPING)
    rows += [
        {"metric": "attainment_gap", "forum": "all", "group": "all", "value": gap},
        {"metric": "attainment_gap_start", "forum": "all", "group": "all",
         "value": float(model.attainment_gap_start)},
        {"metric": "attainment_gap_change", "forum": "all", "group": "all",
         "value": float(gap - model.attainment_gap_start)},
        {"metric": "resource_elasticity", "forum": "all", "group": "governments",
         "value": metrics.resource_elasticity(attainment[is_gov], model.pop.resources[is_gov])},
        {"metric": "policy_coverage", "forum": "all", "group": "all",
         "value": model.policy_coverage()},
    ]  # fmt: skip
    rows += _power_rows(model)
    rows += negotiation_rows(model)
    return rows


def headline_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Groups × headline measures, pooled over forums (what ``govsim run`` prints)."""
    s = summary[(summary["forum"] == "all") & summary["metric"].isin(HEADLINE)]
    table = s.pivot_table(index="group", columns="metric", values="value", aggfunc="first")
    order = [g for g in GROUPS if g in table.index]
    return table.reindex(index=order, columns=[c for c in HEADLINE if c in table.columns])


def scalar(summary: pd.DataFrame, metric: str, forum: str = "all", group: str = "all") -> float:
    """One value out of a summary (nan when absent)."""
    hit = summary[
        (summary["metric"] == metric) & (summary["forum"] == forum) & (summary["group"] == group)
    ]
    return float(hit["value"].iloc[0]) if len(hit) else float("nan")
