"""Oversight after the board: the IANA stewardship chain before and after 1 October 2016.

Before the transition one government held final approval: root-zone changes were
made by Verisign "after it has received authorization to do so from NTIA" (NTIA, "IANA
Functions and Related Root Zone Management Transition Q&A", 18 Mar 2014; L. Strickling,
NTIA blog, Aug 2015: a "largely clerical role"). In the model the US government is a
*veto player* after the Board on technical outcomes (``government_veto``): it withholds
approval when the outcome costs it more than ``forum.oversight_tolerance`` against the
status quo (the objection test with its own positions and saliences).

After the transition the Empowered Community (ASO, ccNSO, GNSO, ALAC, GAC as Decisional
Participants; ICANN Bylaws 2016 Art. 6) may reject: ``empowered_community`` blocks an
outcome when at least ``forum.oversight_support`` participants support rejecting it and
at most ``forum.oversight_max_objecting`` object. The thresholds (3 supporting, at most 1
objecting, as for rejecting a Standard Bylaw amendment or starting a community IRP; 4 and
1 to reject a budget) are UNVERIFIED: recalled from the CCWG-Accountability WS1 Final
Report (Feb 2016) and Bylaws Annex D, not read this session. With the *GAC carve-out*
(``forum.oversight_gac_carveout``; also UNVERIFIED in detail) the GAC may not act as a
participant when the community challenges the Board's implementation of GAC consensus
advice — which every outcome of the GAC forum here is.

A participant's position is the mean position (and salience) of the actors of the
stakeholder groups it stands for (:data:`PARTICIPANTS`; an ASSUMPTION); it supports
rejection when its loss exceeds the tolerance and objects to rejection otherwise (no
abstentions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.config import GROUPS, ForumConfig
from sim.model.forums.board import board_vote
from sim.model.forums.decision import BOARD_GAME, objecting
from sim.model.forums.registry import register
from sim.model.games import SimpleGame, banzhaf, majority_quota, quota_vote, swing_counts

PARTICIPANTS = {
    "ASO": ("technical",),
    "ccNSO": ("technical",),
    "GNSO": ("business", "civil_society"),
    "ALAC": ("civil_society",),
    "GAC": ("developed_gov", "developing_gov"),
}
"""Decisional Participants of the Empowered Community (ICANN Bylaws 2016 Art. 6 §1.1(a),
quoted on the GNSO wiki) and the stakeholder groups each stands for (ASSUMPTION: the RIRs
and ccTLD managers as the technical community; the GNSO as registries, registrars,
business and non-commercial users; At-Large as individual users)."""

OVERSIGHT_KINDS = ("none", "government_veto", "empowered_community")


def overseers(pop, forum: ForumConfig, n_issues: int) -> tuple[np.ndarray, np.ndarray, list]:
    """(positions, saliences, labels) of the bodies that may block after the board."""
    if forum.oversight == "government_veto":
        rows = np.flatnonzero(pop.iso3 == forum.oversight_government)
        return pop.position[rows].copy(), pop.salience[rows].copy(), [forum.oversight_government]
    if forum.oversight == "empowered_community":
        labels = [p for p in PARTICIPANTS if not (forum.oversight_gac_carveout and p == "GAC")]
        pos, sal = [], []
        for p in labels:
            rows = np.isin(pop.group, [GROUPS.index(g) for g in PARTICIPANTS[p]])
            pos.append(pop.position[rows].mean(axis=0))
            sal.append(pop.salience[rows].mean(axis=0))
        return np.array(pos), np.array(sal), labels
    empty = np.empty((0, n_issues))
    return empty, empty, []


def blocked(position, salience, outcome, status_quo, forum: ForumConfig) -> np.ndarray:
    """(k,) items the overseers block (see the module docstring)."""
    k = len(outcome)
    if forum.oversight == "none" or len(position) == 0:
        return np.zeros(k, bool)
    against = objecting(position, salience, outcome, status_quo, forum.oversight_tolerance)
    if forum.oversight == "government_veto":
        return against.any(axis=0)
    support = against.sum(axis=0)
    return (support >= forum.oversight_support) & (
        len(position) - support <= forum.oversight_max_objecting
    )


# ----- a priori power: who can block what --------------------------------------------
def board_labels(seats: pd.DataFrame) -> list[str]:
    """One label per voting director, by selecting body."""
    return [f"Board: {r.seat}" for r in seats.itertuples() for _ in range(int(r.directors))]


def iana_game(seats: pd.DataFrame, regime: str, support: int = 3, max_objecting: int = 1,
              gac_carveout: bool = False) -> SimpleGame:  # fmt: skip
    """The decision chain as a simple game: who must be in a coalition to carry a technical
    decision.

    ``pre2016``: the Board adopts by majority (more than half of the voting directors)
    **and** the US government (NTIA) approves. ``post2016``: the Board adopts by majority
    **and** the Empowered Community does not reject: the participants outside the
    coalition support rejection, those inside object, and rejection needs at least
    ``support`` supporting and at most ``max_objecting`` objecting. With
    ``gac_carveout`` the GAC does not take part.
    """
    directors = board_labels(seats)
    nb = len(directors)
    quota = majority_quota(nb)
    if regime == "pre2016":
        labels = (*directors, "US government (NTIA)")

        def wins(m):
            return quota_vote(m[:, :nb], quota) & m[:, nb]

        return SimpleGame(labels, wins)
    if regime != "post2016":
        raise ValueError(f"regime must be pre2016 or post2016, got {regime!r}")
    ec = [p for p in PARTICIPANTS if not (gac_carveout and p == "GAC")]
    labels = (*directors, *(f"EC: {p}" for p in ec))

    def wins(m):
        inside = m[:, nb:].sum(axis=1)
        outside = len(ec) - inside
        reject = (outside >= support) & (inside <= max_objecting)
        return quota_vote(m[:, :nb], quota) & ~reject

    return SimpleGame(labels, wins)


def power_by_body(game: SimpleGame) -> pd.Series:
    """Normalized Banzhaf index summed over the players of each body (label before any
    per-director suffix)."""
    return pd.Series(banzhaf(game), index=list(game.labels)).groupby(level=0, sort=False).sum()


def iana_power_table(seats: pd.DataFrame, support: int = 3, max_objecting: int = 1,
                     gac_carveout: bool = False) -> pd.DataFrame:  # fmt: skip
    """Banzhaf power of each body before and after the transition (columns pre2016,
    post2016; a body absent in one regime has 0 there), with swing counts."""
    pre = iana_game(seats, "pre2016")
    post = iana_game(seats, "post2016", support, max_objecting, gac_carveout)
    table = pd.concat(
        {"pre2016": power_by_body(pre), "post2016": power_by_body(post)}, axis=1
    ).fillna(0.0)
    table["swings_pre2016"] = (
        pd.Series(swing_counts(pre), index=list(pre.labels)).groupby(level=0, sort=False).sum()
    )
    return table.fillna({"swings_pre2016": 0}).astype({"swings_pre2016": int})


@register(
    "ratification",
    "board_vote_overseen",
    source="NTIA IANA functions contract (to Oct 2016); ICANN Bylaws 2016 Annex D (UNVERIFIED)",
    params=(
        "board_data",
        "board_seats",
        "board_term_years",
        "board_noise",
        "board_deference",
        "supermajority",
        "oversight",
        "oversight_government",
        "oversight_tolerance",
        "oversight_support",
        "oversight_max_objecting",
        "oversight_gac_carveout",
    ),
    game=BOARD_GAME,
)
def board_vote_overseen(adopted, outcome, status_quo, board_position, board_salience, forum,
                        **context):  # fmt: skip
    """:func:`sim.model.forums.board.board_vote`, then the oversight after it.

    ``context["overseers"]`` holds the (positions, saliences) of the bodies that may
    block (:func:`overseers`); an item the board adopted but the overseers block counts
    as declined. Returns (adopted, declined).
    """
    adopted, declined = board_vote(adopted, outcome, status_quo, board_position,
                                   board_salience, forum, **context)  # fmt: skip
    ov = context.get("overseers")
    if ov is None:
        return adopted, declined
    block = adopted & blocked(ov[0], ov[1], outcome, status_quo, forum)
    return adopted & ~block, declined | block
