"""Decision and ratification rules: what comes out of a meeting.

The proposal on each issue is the compromise model: the mean of members'
positions weighted by capability × salience (Achen, in Thomson, Stokman, Achen
& König, *The European Union Decides*, 2006), optionally pulled toward an
outcome fed from another forum.

Decision rules have the signature
``rule(position, weight, salience, proposal, status_quo, forum, behaviour) -> Decision``
over the voting members present (``position``/``salience`` (m, k); ``weight``
(m,); ``proposal``/``status_quo`` (k,)). A member *objects* to a proposal on
issue k when it prefers the status quo by more than the tolerance τ, or when the
proposal lies outside what it can accept at all (its reservation ρ), both in
salience-weighted distance:
``s_ik (|x_ik - p_k| - |x_ik - q_k|) > τ``  or  ``s_ik |x_ik - p_k| > ρ``.
The second clause is what deadlocked the WGECs: a report without a new
mechanism was unacceptable to its proponents even though it changed nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.model.config import ForumConfig
from sim.model.forums.registry import VotingGame, register

# What each rule's objections or votes mean as an a priori voting game (one vote per voter,
# ``quota(n, forum)`` votes win; a quota <= 0 means nobody can block): the power indices of
# the run summary read these.
UNANIMITY_GAME = VotingGame(
    voters="members",
    quota=lambda n, f: n - f.blocking_objections + 1,
    formula="n − blocking_objections + 1 (1 objection blocks: unanimity, a veto each)",
)
ROUGH_CONSENSUS_GAME = VotingGame(
    voters="members",
    quota=lambda n, f: n - math.floor(f.threshold * n + 1e-9),
    formula="n − ⌊threshold·n⌋ (at most a threshold share may object)",
)
MAJORITY_GAME = VotingGame(
    voters="members",
    quota=lambda n, f: max(n // 2 + 1, math.ceil(f.threshold * n - 1e-9)),
    formula="max(⌊n/2⌋+1, ⌈threshold·n⌉)",
    share="threshold",
)
BOARD_GAME = VotingGame(
    voters="board",
    quota=lambda n, f: math.ceil(f.supermajority * n - 1e-9),
    formula="⌈supermajority·b⌉ of b directors (the power to decline advice)",
    share="supermajority",
)


@dataclass(frozen=True)
class Decision:
    """Per issue: adopted or not, the final text (position), and objections standing."""

    adopted: np.ndarray
    outcome: np.ndarray
    objections: np.ndarray


def compromise_proposal(position: np.ndarray, weight: np.ndarray, salience: np.ndarray):
    """``p_k = Σ_i w_i s_ik x_ik / Σ_i w_i s_ik`` (nan where nobody has weight)."""
    ws = weight[:, None] * salience
    total = ws.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (ws * position).sum(axis=0) / total, np.nan)


def objecting(position, salience, proposal, status_quo, tolerance, reservation=np.inf):
    """(m, k) mask of members who object: status quo preferred by > ``tolerance``, or the
    proposal beyond their ``reservation``."""
    distance = salience * np.abs(position - proposal)
    loss = distance - salience * np.abs(position - status_quo)
    return (loss > tolerance) | (distance > reservation)


def concede(proposal, position, weight, salience, objectors, step) -> np.ndarray:
    """Move each proposal a fraction ``step`` toward its objectors' weighted mean position."""
    ws = weight[:, None] * salience * objectors
    total = ws.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        target = np.where(total > 0, (ws * position).sum(axis=0) / total, proposal)
    return proposal + step * (target - proposal)


def _bargain(position, weight, salience, proposal, status_quo, forum, behaviour, blocked):
    """Up to ``forum.concession_rounds`` rounds: while ``blocked(objectors)`` holds on an
    issue, concede on it. Returns the final proposal and the objection mask."""
    rounds = forum.concession_rounds
    b = behaviour
    p = proposal.copy()
    obj = objecting(position, salience, p, status_quo, b.objection_tolerance, b.reservation)
    for _ in range(rounds):
        stuck = blocked(obj)
        if not stuck.any():
            break
        p = np.where(stuck, concede(p, position, weight, salience, obj, b.concession_step), p)
        obj = objecting(position, salience, p, status_quo, b.objection_tolerance, b.reservation)
    return p, obj


@register("decision", "none", source="IGF practice: chair's summary and messages", decides=False)
def chair_summary(position, weight, salience, proposal, status_quo, forum, behaviour):
    """No decision: the chair's summary records the proposal (IGF messages)."""
    k = len(proposal)
    return Decision(np.zeros(k, bool), proposal.copy(), np.zeros(k, int))


@register(
    "decision",
    "consensus",
    source="GAC Operating Principle 47; CSTD and WGEC practice",
    params=("blocking_objections", "concession_rounds"),
    game=UNANIMITY_GAME,
)
def consensus(position, weight, salience, proposal, status_quo, forum: ForumConfig, behaviour):
    """Consensus as the absence of formal objection, after concession rounds.

    GAC Operating Principle 47; CSTD and WGEC practice. Adopted when fewer than
    ``forum.blocking_objections`` members still object after up to
    ``forum.concession_rounds`` rounds (1: a single objection blocks).
    """
    need = forum.blocking_objections
    blocked = lambda o: o.sum(axis=0) >= need  # noqa: E731
    p, obj = _bargain(position, weight, salience, proposal, status_quo, forum, behaviour, blocked)
    n_obj = obj.sum(axis=0)
    adopted = (n_obj < need) & (len(weight) > 0) & np.isfinite(p)
    return Decision(adopted, p, n_obj)


@register(
    "decision",
    "rough_consensus",
    source="NetMundial 2014; IETF RFC 7282",
    params=("threshold", "concession_rounds"),
    game=ROUGH_CONSENSUS_GAME,
)
def rough_consensus(
    position, weight, salience, proposal, status_quo, forum: ForumConfig, behaviour
):
    """Rough consensus: adopted when the share of members objecting is at most ``forum.threshold``.

    As chaired at NetMundial 2014 and in IETF practice (RFC 7282); concession
    rounds as for consensus.
    """
    m = max(len(weight), 1)
    share = lambda o: o.sum(axis=0) / m  # noqa: E731
    blocked = lambda o: share(o) > forum.threshold  # noqa: E731
    p, obj = _bargain(position, weight, salience, proposal, status_quo, forum, behaviour, blocked)
    adopted = (share(obj) <= forum.threshold) & (len(weight) > 0) & np.isfinite(p)
    return Decision(adopted, p, obj.sum(axis=0))


@register(
    "decision",
    "majority",
    source="ECOSOC functional commissions, E/5975/Rev.1 rules 56-58",
    params=("threshold",),
    game=MAJORITY_GAME,
)
def majority(position, weight, salience, proposal, status_quo, forum: ForumConfig, behaviour):
    """One member one vote against the status quo, no concessions.

    A member votes yes when it is strictly closer to the proposal than to the
    status quo. Adopted when the yes share of members present and voting is more
    than half and at least ``forum.threshold`` (0.5: simple majority, ECOSOC
    rules of procedure 56-58; 2/3: qualified majority).
    """
    yes = np.abs(position - proposal) < np.abs(position - status_quo)
    share = yes.mean(axis=0) if len(weight) else np.zeros(len(proposal))
    adopted = (share > 0.5) & (share >= forum.threshold - 1e-9) & np.isfinite(proposal)
    return Decision(adopted, proposal.copy(), (~yes).sum(axis=0))


@register("ratification", "none", source="–")
def no_ratification(adopted, outcome, status_quo, board_position, board_salience, forum):
    """The forum's decision stands."""
    return adopted, np.zeros(len(adopted), bool)


@register(
    "ratification",
    "board",
    source="ICANN Bylaws after the 2016 IANA transition (60% to decline GAC advice)",
    params=("board_seats", "supermajority", "board_deference"),
    game=BOARD_GAME,
)
def board_review(adopted, outcome, status_quo, board_position, board_salience, forum: ForumConfig):
    """Advice goes to a board that may decline it only with a supermajority.

    ICANN Bylaws after the 2016 IANA transition: the Board may decline GAC
    consensus advice only by a vote of at least 60% (``forum.supermajority``;
    a simple majority before 2016). A director votes to decline when it prefers
    the status quo to the advice by more than ``forum.board_deference`` in
    salience-weighted distance (the objection test with the board's own
    tolerance). Returns (adopted, declined).
    """
    against = objecting(board_position, board_salience, outcome, status_quo, forum.board_deference)
    share = against.mean(axis=0) if len(board_position) else np.zeros(len(adopted))
    declined = adopted & (share >= forum.supermajority - 1e-9)
    return adopted & ~declined, declined
