"""Decision and ratification rules: what comes out of a meeting.

The proposal on each issue is the compromise model: the mean of members'
positions weighted by capability × salience (Achen, in Thomson, Stokman, Achen
& König, *The European Union Decides*, 2006), optionally pulled toward an
outcome fed from another forum.

Decision rules have the signature
``rule(position, weight, salience, proposal, status_quo, forum, behaviour, **context)
-> Decision`` over the voting members present (``position``/``salience`` (m, k);
``weight`` (m,); ``proposal``/``status_quo`` (k,)). ``context`` may carry ``rng``
(the model's generator, for a requested vote), ``votes`` ((m,) votes each row casts:
a bloc objecting as one row casts its members' votes) and ``required`` ((k,) items a
text must address); rules ignore what they do not use. A member *objects* to a proposal on
issue k when it prefers the status quo by more than the tolerance τ, or when the
proposal lies outside what it can accept at all (its reservation ρ), both in
salience-weighted distance:
``s_ik (|x_ik - p_k| - |x_ik - q_k|) > τ``  or  ``s_ik |x_ik - p_k| > ρ``.
The second clause is what deadlocked the WGECs: a report without a new
mechanism was unacceptable to its proponents even though it changed nothing.

*Per-item* rules decide each issue on its own. *Package* rules decide a whole text
(a report, a resolution): a member objects to the package when its salience-weighted
loss summed over the text's items exceeds τ, or when any item crosses its
reservation — so gains on one item can pay for losses on another (issue linkage),
and one item nobody can accept sinks the whole text. The chair may drop contested
items (``forum.package_drop``) unless the mandate requires them
(``forum.package_required``); items left out go to a non-binding chair's summary
(``Decision.annex``). History: neither WGEC adopted a report though parts were
agreed (docs/ODD.md §7, issue 14).
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
    text_adopted: bool | None = None
    """Package rules: whether the text as a whole was adopted (None for per-item rules)."""
    voted: bool = False
    """Whether a vote was taken (a member requested one after consensus failed)."""
    annex: np.ndarray | None = None
    """Package rules: items the chair records in a non-binding summary (not adopted)."""


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
def chair_summary(position, weight, salience, proposal, status_quo, forum, behaviour, **context):
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
def consensus(
    position, weight, salience, proposal, status_quo, forum: ForumConfig, behaviour, **context
):
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
    position, weight, salience, proposal, status_quo, forum: ForumConfig, behaviour, **context
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
def majority(
    position, weight, salience, proposal, status_quo, forum: ForumConfig, behaviour, **context
):
    """One member one vote against the status quo, no concessions.

    A member votes yes when it is strictly closer to the proposal than to the
    status quo. Adopted when the yes share of members present and voting is more
    than half and at least ``forum.threshold`` (0.5: simple majority, ECOSOC
    rules of procedure 56-58; 2/3: qualified majority).
    """
    yes = np.abs(position - proposal) < np.abs(position - status_quo)
    share = _vote_share(yes, context.get("votes"), len(proposal))
    adopted = (share > 0.5) & (share >= forum.threshold - 1e-9) & np.isfinite(proposal)
    return Decision(adopted, proposal.copy(), (~yes).sum(axis=0))


def _vote_share(yes: np.ndarray, votes: np.ndarray | None, k: int) -> np.ndarray:
    """Share of votes cast yes per column (rows cast ``votes`` each; one each by default)."""
    if len(yes) == 0:
        return np.zeros(k)
    v = np.ones(len(yes)) if votes is None else np.asarray(votes, float)
    return (v @ yes) / max(v.sum(), 1e-12)


def package_objecting(position, salience, proposal, status_quo, items, tolerance, reservation):
    """(m,) mask of members who object to the text made of ``items`` ((k,) bool).

    ``Σ_{k in text} s_ik (|x_ik - p_k| - |x_ik - q_k|) > τ`` (the package's loss
    against the status quo, gains on one item offsetting losses on another), or
    ``s_ik |x_ik - p_k| > ρ`` on any item of the text (a red line).
    """
    distance = salience * np.abs(position - proposal)
    loss = (distance - salience * np.abs(position - status_quo)) @ items.astype(float)
    red = ((distance > reservation) & items).any(axis=1)
    return (loss > tolerance) | red


def _item_losses(position, salience, proposal, status_quo, objectors, reservation):
    """Per item, how much the objectors object to it: summed loss plus red lines crossed."""
    distance = salience * np.abs(position - proposal)
    loss = np.maximum(distance - salience * np.abs(position - status_quo), 0.0)
    return ((loss + (distance > reservation)) * objectors[:, None]).sum(axis=0)


def negotiate_package(position, weight, salience, proposal, status_quo, forum, behaviour,
                      required=None):  # fmt: skip
    """Concession rounds on the whole text, then (if allowed) the chair drops contested items.

    Returns ``(text, items, objectors)``: the final proposal, the (k,) items left in the
    text and the (m,) members still objecting. Each round moves every item of the text a
    step toward the objectors' weighted mean position. Afterwards, with
    ``forum.package_drop``, the chair removes the item the objectors object to most
    (never a ``required`` one) until nobody objects or nothing more can go.
    """
    b = behaviour
    tau, rho = b.objection_tolerance, b.reservation
    k = len(proposal)
    items = np.isfinite(proposal)
    req = np.zeros(k, bool) if required is None else np.asarray(required, bool) & items
    p = np.where(items, proposal, status_quo)
    obj = package_objecting(position, salience, p, status_quo, items, tau, rho)
    for _ in range(forum.concession_rounds):
        if not obj.any():
            break
        objectors = np.broadcast_to(obj[:, None], position.shape)
        moved = concede(p, position, weight, salience, objectors, b.concession_step)
        p = np.where(items, moved, p)
        obj = package_objecting(position, salience, p, status_quo, items, tau, rho)
    while forum.package_drop and obj.any():
        droppable = items & ~req
        if not droppable.any():
            break
        score = _item_losses(position, salience, p, status_quo, obj, rho)
        items = items.copy()
        items[np.flatnonzero(droppable)[np.argmax(score[droppable])]] = False
        obj = package_objecting(position, salience, p, status_quo, items, tau, rho)
    return p, items, obj


def _package_decision(p, items, obj, draft, forum, voted=False, adopted_text=None):
    """A :class:`Decision` for a text: every item in it adopted together, or none."""
    need = forum.blocking_objections
    n_obj = int(obj.sum())
    if adopted_text is None:
        adopted_text = bool(n_obj < need and items.any() and len(obj) > 0)
    adopted = items & adopted_text
    return Decision(
        adopted=adopted,
        outcome=p,
        objections=np.where(items, n_obj, 0),
        text_adopted=adopted_text,
        voted=voted,
        annex=draft & ~adopted,
    )


@register(
    "decision",
    "package_consensus",
    source="UN Juridical Yearbook 2005 p. 457; CSTD and WGEC practice",
    params=("blocking_objections", "concession_rounds", "package_drop"),
    game=UNANIMITY_GAME,
)
def package_consensus(
    position, weight, salience, proposal, status_quo, forum: ForumConfig, behaviour, **context
):
    """Consensus on a whole text: adopted when fewer than ``forum.blocking_objections``
    members object to the package after concession rounds (and, with
    ``forum.package_drop``, after the chair dropped contested items).

    Consensus as the absence of objection (UN Juridical Yearbook 2005, p. 457; CSTD
    and WGEC practice). Items not in the adopted text — or every item, when the text
    fails — form the chair's non-binding summary (WGEC 2, 2018: "unable, due to lack
    of consensus, to adopt a Report"; the Chair gave his own summary).
    """
    draft = np.isfinite(proposal)
    p, items, obj = negotiate_package(
        position, weight, salience, proposal, status_quo, forum, behaviour, context.get("required")
    )
    return _package_decision(p, items, obj, draft, forum)


@register(
    "decision",
    "package_consensus_or_vote",
    source="E/5975/Rev.1 r. 57; UN Charter Art. 18 and 67",
    params=(
        "blocking_objections",
        "concession_rounds",
        "package_drop",
        "vote_request",
        "threshold",
    ),
    game=UNANIMITY_GAME,  # consensus in practice; a vote only on request (rare)
)
def package_consensus_or_vote(
    position, weight, salience, proposal, status_quo, forum: ForumConfig, behaviour, **context
):
    """Consensus in practice, a vote on request (ECOSOC, the General Assembly).

    As :func:`package_consensus`; when consensus fails, a member requests a vote with
    probability ``forum.vote_request`` (a draw from the model's generator) and the
    whole draft, after concessions, is put to the vote: a member votes yes when the
    package leaves it better off than the status quo (summed salience-weighted loss
    below 0); adopted with more than half of the votes cast and at least
    ``forum.threshold``. Sources: functional-commission rules of procedure
    E/5975/Rev.1 r. 57 ("shall be voted upon if any member so requests"); Charter
    Art. 18 and 67 (majority of members present and voting).
    """
    draft = np.isfinite(proposal)
    p, items, obj = negotiate_package(
        position, weight, salience, proposal, status_quo, forum, behaviour, context.get("required")
    )
    decision = _package_decision(p, items, obj, draft, forum)
    rng = context.get("rng")
    if decision.text_adopted or rng is None or not draft.any() or len(weight) == 0:
        return decision
    if rng.random() >= forum.vote_request:
        return decision
    loss = (salience * (np.abs(position - p) - np.abs(position - status_quo))) @ draft.astype(float)
    share = float(_vote_share((loss < 0)[:, None], context.get("votes"), 1)[0])
    passed = share > 0.5 and share >= forum.threshold - 1e-9
    against = package_objecting(
        position, salience, p, status_quo, draft, 0.0, np.inf
    )  # recorded as objections: members voting no
    return _package_decision(p, draft, against, draft, forum, voted=True, adopted_text=passed)


@register("ratification", "none", source="–")
def no_ratification(adopted, outcome, status_quo, board_position, board_salience, forum, **context):
    """The forum's decision stands."""
    return adopted, np.zeros(len(adopted), bool)


@register(
    "ratification",
    "board",
    source="ICANN Bylaws after the 2016 IANA transition (60% to decline GAC advice)",
    params=("board_seats", "supermajority", "board_deference"),
    game=BOARD_GAME,
)
def board_review(
    adopted, outcome, status_quo, board_position, board_salience, forum: ForumConfig, **context
):
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
