"""One meeting of one forum, composed from the forum's rules, as array operations.

Order of events (ODD "process overview"):

1. eligible actors are those with a role (membership is settled yearly by the model);
2. each builds the benefit of attending (engagement × agenda salience × venue fit ×
   (networking value + authority × expected influence)) and the cost of going onsite
   (travel from its home country to the host country's venue city, per delegate,
   relative to its yearly resources; near zero at home; mission staff's time at a
   mission city) or remote (a flat cost per delegate; a voice discount growing with
   the time-zone gap); local organisations are eligible only in their own country;
3. the support rule funds travellers (a grant pays one); each actor chooses its
   delegation size per mode within its budget (:func:`delegation_choice`); the
   attendance rule picks none/remote/onsite
   (steps 2-3: :func:`sim.model.forums.attendance.attend`);
4. the voice rule shares speaking weight among those present;
5. the deliberation rule moves attendees' positions on each agenda issue
   (independently; all issues in one call);
6. the compromise proposal (pulled toward fed outcomes) goes to the decision rule,
   then to the ratification rule;
7. the model then calls :func:`enact` (policy moves toward adopted outcomes, by the
   links' authority and binding force) and :func:`adapt` (engagement and expertise
   from what the meeting gave).

Whether the forum decides at all is read from its decision rule's registry entry
(``describe("decision", name).decides``), never from the rule's name.

Nothing here loops over actors in Python; the only loops are over agenda issues
(proposal feeds) and deliberation rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model import venue as venues
from sim.model.config import GROUPS, REGIONS, BehaviourConfig, ForumConfig
from sim.model.forums import blocs as bloc_rules
from sim.model.forums.attendance import ONSITE, REMOTE, attend
from sim.model.forums.chain import Referral
from sim.model.forums.decision import Decision, compromise_proposal
from sim.model.forums.links import ForumLinks
from sim.model.forums.membership import MEMBER, PARTICIPANT
from sim.model.forums.registry import describe, rule
from sim.model.metrics import row_sums
from sim.model.population import Population

__all__ = ["ONSITE", "REMOTE", "MeetingResult", "adapt", "agenda_of", "enact", "hold_meeting"]

STAKEHOLDER = np.array([0, 0, 1, 2, 3, 4])
"""Group code -> stakeholder group (governments together), for per-group microphones."""
assert len(STAKEHOLDER) == len(GROUPS)


@dataclass
class MeetingResult:
    """What happened at one meeting. Arrays over ``idx`` (the eligible actors) or agenda issues."""

    idx: np.ndarray
    roles: np.ndarray
    modes: np.ndarray
    funded: np.ndarray
    voice: np.ndarray
    cost: np.ndarray
    agenda: np.ndarray  # issue indices
    proposal: np.ndarray
    outcome: np.ndarray
    adopted: np.ndarray
    objections: np.ndarray
    declined: np.ndarray
    host: int
    decisional: bool
    delegates: np.ndarray | None = None  # people each actor sent (onsite or remote); issue 13
    grants: int = 0  # travel grants offered (funded counts those taken up)
    host_country: str = ""
    decision: Decision | None = None
    blocs: list[tuple[int, float, float]] = field(default_factory=list)
    """Per bloc present: (index into ``forum.blocs``, cohesion, voice share)."""

    @property
    def present(self) -> np.ndarray:
        return self.modes > 0

    @property
    def decided(self) -> bool:
        """A decisional meeting that adopted something."""
        return bool(self.decisional and self.adopted.any())

    def message(self, previous: np.ndarray) -> np.ndarray:
        """What the forum passes on through ``feeds`` links, per agenda issue: the adopted
        outcome, the chair's summary at a non-decisional forum, else the last proposal
        (``previous`` where none is known)."""
        text = np.where(self.adopted | (not self.decisional), self.outcome, self.proposal)
        return np.where(np.isfinite(text), text, previous)


def _cross(rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.ix_(rows, columns)`` for integer index arrays, without its generic checks."""
    return rows[:, None], columns


def agenda_of(forum: ForumConfig, issue_kinds: np.ndarray, issue_names) -> np.ndarray:
    """Indices of the issues the forum's scope rule admits."""
    return np.flatnonzero(rule("scope", forum.scope)(issue_kinds, issue_names, forum))


def hold_meeting(
    pop: Population,
    forum: ForumConfig,
    fi: int,
    links: ForumLinks,
    roles: np.ndarray,
    host: int,
    agenda: np.ndarray,
    policy: np.ndarray,
    messages: np.ndarray,
    board: tuple[np.ndarray, np.ndarray],
    behaviour: BehaviourConfig,
    rng: np.random.Generator,
    venue: venues.Venue | None = None,
    referral: Referral | None = None,
) -> MeetingResult:
    """Run one meeting of forum ``fi``; moves attendees' positions and spends their budgets.

    Args:
        pop: actor state (``position`` and ``budget`` are updated in place).
        forum, fi, links: the forum's rules, its index, and what links make of it.
        roles: role code of every actor this year.
        host: region code of the venue.
        agenda: issue indices on the agenda (non-empty).
        policy: current policy per issue (the status quo each proposal is tested against).
        messages: (F, k) latest outcome or message of every forum (nan: none yet).
        board: (b, k) positions and saliences of the ratifying board's directors.
        behaviour: behavioural parameters; rng: the model's generator.
        venue: host country and city (None: the default host of region ``host``).
        referral: texts referred by the chain (they replace the proposal on their
            issues) and the issues a text must cover (:mod:`sim.model.forums.chain`).
    """
    if venue is None:
        venue = venues.meeting_venue(ForumConfig(venue=REGIONS[host]), 0)
    # local organisations take part only at meetings in their own country (issue 13)
    away = pop.local & ((pop.country != venue.country) | (not forum.local_participants))
    idx = np.flatnonzero((roles > 0) & ~away)
    r = roles[idx]
    expertise = pop.expertise[idx]
    is_member = r == MEMBER
    decision_rule = describe("decision", forum.decision)

    # 2-3. benefit and cost of each mode, support, delegation sizes, attendance, travel paid
    came = attend(pop, idx, r, forum, fi, links, host, agenda, behaviour, rng, venue)
    modes, remote_factor = came.modes, came.remote_factor
    delegates = came.delegates  # voice follows the delegates sent, not the delegation cap

    # 4. voice
    role_voice = np.where(is_member, 1.0, np.where(r == PARTICIPANT, forum.participant_voice, 0.0))
    present_factor = role_voice * np.where(modes == REMOTE, remote_factor, 1.0) * (modes > 0)
    weight = rule("voice", forum.voice)(
        delegates, expertise, present_factor, STAKEHOLDER[pop.group[idx]], remote=modes == REMOTE
    )
    bloc = bloc_rules.population_blocs(pop.iso3, forum.blocs)[idx] if forum.blocs else None
    if bloc is not None:  # bloc statements (sim.model.forums.blocs)
        weight = bloc_rules.add_statements(weight, bloc, forum.bloc_voice)
    total = weight.sum()
    voice = weight / total if total > 0 else weight

    # 5. deliberation among those present
    present = np.flatnonzero(modes > 0)
    who = idx[present]
    deliberate = rule("deliberation", forum.deliberation)
    block = _cross(who, agenda)
    pop.position[block] = deliberate(  # the whole agenda at once: rows are issues
        pop.position[block].T,
        voice[present],
        pop.stubbornness[who],
        forum.confidence,
        forum.rounds,
    ).T

    # 6. proposal, decision, ratification
    decide = present[is_member[present]]
    if forum.written_objections:  # absent members object in writing (issue 14)
        decide = np.flatnonzero(is_member)
    if len(decide) == 0 and not decision_rule.decides:  # a chair summarises the speakers
        decide = present[voice[present] > 0]
    pos = pop.position[_cross(idx[decide], agenda)]
    sal = pop.salience[_cross(idx[decide], agenda)]
    proposal = links.pull_toward_feeds(
        compromise_proposal(pos, voice[decide], sal), messages, agenda
    )
    status_quo = policy[agenda]
    context: dict = {"rng": rng}
    if referral is not None:  # drafts referred up the chain are what is decided
        text = referral.text[agenda]
        proposal = np.where(np.isfinite(text), text, proposal)
        context["required"] = referral.required[agenda]
    w_decide, stats = voice[decide], []
    if bloc is not None:  # bloc coordination before the decision
        pos, w_decide, sal, context["votes"], common, moved = bloc_rules.coordinate(
            pos, w_decide, sal, bloc[decide], len(forum.blocs), behaviour.bloc_cohesion,
            forum.bloc_objection,
        )  # fmt: skip
        stats = bloc_rules.bloc_stats(moved, bloc[decide], common, voice, bloc)
    decision = decision_rule.function(
        pos, w_decide, sal, proposal, status_quo, forum, behaviour, **context
    )
    adopted, declined = rule("ratification", forum.ratification)(
        decision.adopted,
        decision.outcome,
        status_quo,
        board[0][:, agenda],
        board[1][:, agenda],
        forum,
        rng=rng,
        overseers=(board[2][:, agenda], board[3][:, agenda]) if len(board) > 2 else None,
    )
    return MeetingResult(
        idx=idx,
        roles=r,
        modes=modes,
        funded=came.funded & (modes == ONSITE),
        voice=voice,
        cost=came.cost,
        agenda=agenda,
        proposal=proposal,
        outcome=decision.outcome,
        adopted=adopted,
        objections=decision.objections,
        declined=declined,
        host=host,
        decisional=decision_rule.decides,
        delegates=came.delegates,
        grants=int(came.funded.sum()),
        host_country=venue.iso3,
        decision=decision,
        blocs=stats,
    )


def enact(
    policy: np.ndarray,
    result: MeetingResult,
    links: ForumLinks,
    soft_law_weight: float,
    final: bool = False,
) -> np.ndarray:
    """Move ``policy`` (in place) toward what a decisional meeting adopted.

    ``q_k <- q_k + A_f · (1 if binding else soft_law_weight) · (o_k - q_k)`` for each
    adopted issue k (:meth:`ForumLinks.policy_weight`). Only a forum with no parent in a
    chain of authority enacts (a working group's or the CSTD's adopted text is a
    recommendation to its parent, :mod:`sim.model.forums.chain`). Returns the issues
    settled with decision power — by a binding forum or at the ``final`` step of a
    chain (the General Assembly): they count for policy coverage.
    """
    if not result.decided:
        return result.agenda[:0]
    won = result.agenda[result.adopted]
    policy[won] += links.policy_weight(soft_law_weight) * (
        result.outcome[result.adopted] - policy[won]
    )
    return won if (links.binding or final) else won[:0]


def adapt(
    pop: Population,
    fi: int,
    result: MeetingResult,
    policy_before: np.ndarray,
    links: ForumLinks,
    behaviour: BehaviourConfig,
) -> None:
    """Update engagement with forum ``fi`` and expertise after a meeting (in place).

    Attendees move engagement toward the meeting's payoff
    ``r_i = (1 - d_i + min(1, v_i n)) / 2``: ``d_i`` is the salience-weighted
    distance between what the meeting produced (adopted outcome; else the status
    quo at a decisional forum, the chair's summary at a non-decisional one) and
    the actor's position, and ``v_i n`` its voice share relative to an equal share
    among the n present. Low voice and lost causes disengage (a disengagement
    loop). Eligible absentees drift back toward their initial engagement at a
    quarter of the rate. Attending builds expertise: ``γ`` onsite, ``γ/2`` remote,
    plus ``γ × subsidy`` for members of a forum that receives reports.
    """
    b = behaviour
    idx, modes, agenda = result.idx, result.modes, result.agenda
    produced = np.where(
        result.adopted,
        result.outcome,
        policy_before[agenda] if result.decisional else result.proposal,
    )
    produced = np.where(np.isfinite(produced), produced, policy_before[agenda])
    present = modes > 0
    who = idx[present]
    sal = pop.salience[_cross(who, agenda)]
    dist = row_sums(sal * np.abs(pop.position[_cross(who, agenda)] - produced))
    dist /= np.maximum(row_sums(sal), 1e-12)
    relative_voice = np.minimum(1.0, result.voice[present] * present.sum())
    payoff = 0.5 * (1.0 - dist + relative_voice)
    e = pop.engagement[:, fi]
    e[who] += b.engagement_rate * (payoff - e[who])
    away = idx[~present]
    e[away] += 0.25 * b.engagement_rate * (pop.engagement0[away, fi] - e[away])

    gain = b.expertise_gain * np.where(modes[present] == ONSITE, 1.0, 0.5)
    gain = gain + links.expertise_bonus(b.expertise_gain, result.roles[present] == MEMBER)
    pop.expertise[who] += gain * (1.0 - pop.expertise[who])
