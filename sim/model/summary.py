"""A run's summary: the headline measures, one tidy long table per run.

Columns: ``metric``, ``forum`` ("all" when pooled over forums), ``group``
("all" when not by group), ``value``. Each measure is computed from the run's
tables with the definitions in :mod:`sim.model.metrics`; pooled rates are ratios of
totals over meetings (attendances / eligible opportunities), not means of
per-meeting rates.
"""

from __future__ import annotations

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


def _group_rows(att: pd.DataFrame, forum: str, by: str = "group", suffix: str = "") -> list[dict]:
    """Participation (by mode), voice share and representation ratio per group (or region).

    With ``by="region"`` the rows come from the ``regions`` table and the metric
    names carry ``suffix`` (``representation_ratio_by_region``), the region in
    the ``group`` column.
    """
    rows = []
    n_meetings = att.groupby(["forum", "step"]).ngroups
    for group, d in att.groupby(by, sort=False):
        eligible = d["eligible"].sum()
        values = {
            "participation_rate": metrics.participation_rate(
                d["onsite"].sum() + d["remote"].sum(), eligible
            ),
            "participation_onsite": metrics.participation_rate(d["onsite"].sum(), eligible),
            "participation_remote": metrics.participation_rate(d["remote"].sum(), eligible),
            # mean over all meetings of the forum(s), a group absent from one counting 0
            "voice_share": d["voice_share"].fillna(0).sum() / n_meetings,
        }
        eligible_share = d["eligible_share"].sum() / n_meetings
        values["representation_ratio"] = float(
            metrics.representation_ratio(values["voice_share"], eligible_share)
        )
        rows += [
            {"metric": m + suffix, "forum": forum, "group": group, "value": float(v)}
            for m, v in values.items()
        ]
    return rows


def _forum_rows(meetings: pd.DataFrame, outcomes: pd.DataFrame, forum: str) -> list[dict]:
    """Decision and deadlock rates per agenda item, time to first agreement, voice inequality.

    An agenda item is one issue at one meeting. ``decision_rate`` is the share of
    items adopted; ``deadlock_rate`` the share of items at decisional meetings
    that ended without agreement (nan where no meeting could decide).
    """
    m, o = meetings, outcomes
    decisional = o["forum"].map(m.groupby("forum")["decisional"].first()).to_numpy(bool)
    values = {
        "meetings": len(m),
        "decision_rate": metrics.decision_rate(o["adopted"].to_numpy(bool)),
        "deadlock_rate": metrics.deadlock_rate(~o["adopted"].to_numpy(bool), decisional),
        "time_to_first_agreement": metrics.time_to_first_agreement(
            m["step"].to_numpy(), m["adopted"].to_numpy() > 0
        ),
        "voice_gini": m["voice_gini"].mean(),
        "theil_between": m["theil_between"].mean(),
        "theil_within": m["theil_within"].mean(),
        "declined": m["declined"].sum(),
        # advice a board declined, as a share of what the forum adopted and sent to it
        "declined_share": m["declined"].sum() / (m["adopted"].sum() + m["declined"].sum())
        if m["declined"].sum() + m["adopted"].sum() > 0
        else np.nan,
    }
    return [
        {"metric": k, "forum": forum, "group": "all", "value": float(v)} for k, v in values.items()
    ]


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
            weights = np.ones(len(groups))
            for metric, index in (("banzhaf_power", power.banzhaf),
                                  ("shapley_shubik_power", power.shapley_shubik)):  # fmt: skip
                # exact for committees of these sizes; a fixed generator if one were sampled
                values = index(weights, max(quota, 1), rng=np.random.default_rng(0)).values
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
    texts = pd.DataFrame(model.text_records, columns=["forum", "step", "adopted", "voted"])
    for forum, d in texts.groupby("forum", sort=False):
        rows += [
            {"metric": "text_adoption_rate", "forum": forum, "group": "all",
             "value": float(d["adopted"].mean())},
            {"metric": "vote_rate", "forum": forum, "group": "all",
             "value": float(d["voted"].mean())},
        ]  # fmt: skip
    for m in model.chain.mandates:
        if m.decided:
            rows.append({"metric": "mandate_adopted", "forum": model.forum_names[m.target],
                         "group": "all", "value": float(m.adopted)})  # fmt: skip
    blocs = pd.DataFrame(model.bloc_records, columns=["forum", "step", "bloc", "cohesion", "voice"])
    for forum_key, d in [("all", blocs), *blocs.groupby("forum", sort=False)]:
        for bloc, b in d.groupby("bloc", sort=False):
            rows += [
                {"metric": "bloc_cohesion", "forum": forum_key, "group": bloc,
                 "value": float(b["cohesion"].mean())},
                {"metric": "bloc_voice", "forum": forum_key, "group": bloc,
                 "value": float(b["voice"].mean())},
            ]  # fmt: skip
    return rows


def run_summary(model) -> pd.DataFrame:
    """The headline measures of a finished (or running) model, as a long table."""
    tables = model.tables()
    att, meetings, outcomes = tables["attendance"], tables["meetings"], tables["outcomes"]
    regions = tables["regions"]
    rows: list[dict] = []
    if len(meetings):
        rows += _group_rows(att, "all")
        rows += _group_rows(regions, "all", "region", "_by_region")
        rows += _forum_rows(meetings, outcomes, "all")
        for forum in model.forum_names:
            a = att[att["forum"] == forum]
            if len(a):
                rows += _group_rows(a, forum)
                rows += _group_rows(
                    regions[regions["forum"] == forum], forum, "region", "_by_region"
                )
                rows += _forum_rows(
                    meetings[meetings["forum"] == forum],
                    outcomes[outcomes["forum"] == forum],
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
    return pd.DataFrame(rows, columns=["metric", "forum", "group", "value"])


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
