"""One meeting of one forum, composed from the forum's rules, as array operations.

Order of events (ODD "process overview"):

1. eligible actors are those with a role (membership is settled yearly by the model);
2. each builds the benefit of attending (engagement × agenda salience × venue fit ×
   (networking value + authority × expected influence)) and the cost of going onsite
   (travel from its region to the host region, per delegate, relative to its yearly
   resources) or remote (a flat cost; a voice discount growing with the time-zone gap);
3. the support rule funds some delegates; the attendance rule picks none/remote/onsite;
4. the voice rule shares speaking weight among those present;
5. the deliberation rule moves attendees' positions on each agenda issue
   (independently; all issues in one call);
6. the compromise proposal (pulled toward fed outcomes) goes to the decision rule,
   then to the ratification rule;
7. :func:`adapt` updates engagement and expertise from what the meeting gave.

Nothing here loops over actors in Python; the only loops are over agenda issues
(proposal feeds) and deliberation rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.config import GROUPS, REGIONS, ROLES, BehaviourConfig, ForumConfig
from sim.model.forums import blocs as bloc_rules
from sim.model.forums.chain import Referral
from sim.model.forums.decision import Decision, compromise_proposal
from sim.model.forums.links import ForumLinks
from sim.model.forums.membership import MEMBER, PARTICIPANT
from sim.model.forums.registry import rule
from sim.model.population import Population

ONSITE, REMOTE = 2, 1

# Relative cost of travel between UN regional groups (row: home, column: host),
# 1 = the longest trips. An assumption from typical flight distances between the
# groups' centres (Addis Ababa, Bangkok, Warsaw, São Paulo/Mexico City, Geneva/New
# York); documented in docs/ODD.md §6.
TRAVEL = np.array([
    #  AF   AP   EE   GR   WE
    [0.3, 0.8, 0.6, 0.9, 0.6],  # African
    [0.8, 0.4, 0.7, 1.0, 0.8],  # Asia-Pacific
    [0.6, 0.7, 0.2, 0.9, 0.3],  # Eastern European
    [0.9, 1.0, 0.9, 0.4, 0.6],  # GRULAC
    [0.6, 0.8, 0.3, 0.6, 0.3],  # WEOG
])  # fmt: skip
# Typical time-zone gap between groups, as a share of 12 hours (an assumption).
# Remote participants lose voice with the gap (Bayer et al., Climatic Change 2024).
TIMEZONE = np.array([
    [0.0, 0.4, 0.1, 0.4, 0.1],
    [0.4, 0.2, 0.4, 1.0, 0.6],
    [0.1, 0.4, 0.0, 0.5, 0.1],
    [0.4, 1.0, 0.5, 0.1, 0.4],
    [0.1, 0.6, 0.1, 0.4, 0.2],
])  # fmt: skip
assert TRAVEL.shape == TIMEZONE.shape == (len(REGIONS), len(REGIONS))

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
    decision: Decision | None = None
    blocs: list[tuple[int, float, float]] = field(default_factory=list)
    """Per bloc present: (index into ``forum.blocs``, cohesion, voice share)."""

    @property
    def present(self) -> np.ndarray:
        return self.modes > 0


def _cross(rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.ix_(rows, columns)`` for integer index arrays, without its generic checks."""
    return rows[:, None], columns


def _median(values: np.ndarray) -> float:
    """``np.median`` of a finite 1-D array, bit for bit, without its generic machinery."""
    n = len(values)
    if n == 0:
        return np.nan
    half = n // 2
    if n % 2:
        return np.partition(values, half)[half]
    part = np.partition(values, (half - 1, half))
    return (part[half - 1] + part[half]) / 2.0


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
        referral: texts referred by the chain (they replace the proposal on their
            issues) and the issues a text must cover (:mod:`sim.model.forums.chain`).
    """
    b = behaviour
    idx = np.flatnonzero(roles > 0)
    r = roles[idx]
    region = pop.region[idx]
    capacity, expertise = pop.capacity[idx], pop.expertise[idx]
    is_member = r == MEMBER

    # 2. benefit and cost of each mode
    potential = capacity * expertise
    influence = np.array([b.role_influence[x] for x in ROLES])[r] * potential
    influence /= potential + _median(potential)
    fit = pop.ms_preference[idx]
    if forum.venue_type == "multilateral":
        fit = 1.0 - fit
    agenda_salience = pop.salience[_cross(idx, agenda)].mean(axis=1)
    benefit = (
        b.benefit_scale
        * pop.engagement[idx, fi]
        * agenda_salience
        * (0.5 + fit)
        * (b.networking_value + links.authority * influence)
    )
    remote_factor = forum.remote_voice * (1.0 - b.timezone_penalty * TIMEZONE[region, host])
    subsidy = 1.0 - links.subsidy * is_member

    # 3. support and attendance
    funded = rule("support", forum.support)(pop, idx, r, forum)
    cost = b.travel_cost_scale * TRAVEL[region, host] * np.maximum(capacity - funded, 0.0)
    cost *= subsidy
    onsite_cost = b.cost_aversion * cost / pop.resources[idx]
    modes = rule("attendance", forum.attendance)(
        (benefit, benefit * remote_factor),
        onsite_cost,
        b.remote_cost * subsidy,
        cost <= pop.budget[idx],
        np.full(len(idx), forum.remote),
        b.logit_noise,
        rng,
    )
    cost = np.where(modes == ONSITE, cost, 0.0)
    pop.budget[idx] -= cost

    # 4. voice
    role_voice = np.where(is_member, 1.0, np.where(r == PARTICIPANT, forum.participant_voice, 0.0))
    present_factor = role_voice * np.where(modes == REMOTE, remote_factor, 1.0) * (modes > 0)
    weight = rule("voice", forum.voice)(
        capacity, expertise, present_factor, STAKEHOLDER[pop.group[idx]], remote=modes == REMOTE
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
    if len(decide) == 0 and forum.decision == "none":
        decide = present[voice[present] > 0]
    pos = pop.position[_cross(idx[decide], agenda)]
    sal = pop.salience[_cross(idx[decide], agenda)]
    proposal = compromise_proposal(pos, voice[decide], sal)
    for source, w in links.feeds:
        fed = messages[source, agenda]
        proposal = np.where(
            np.isfinite(fed) & np.isfinite(proposal), (1 - w) * proposal + w * fed, proposal
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
            pos, w_decide, sal, bloc[decide], len(forum.blocs), b.bloc_cohesion,
            forum.bloc_objection,
        )  # fmt: skip
        stats = bloc_rules.bloc_stats(moved, bloc[decide], common, voice, bloc)
    decision = rule("decision", forum.decision)(
        pos, w_decide, sal, proposal, status_quo, forum, b, **context
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
        funded=funded & (modes == ONSITE),
        voice=voice,
        cost=cost,
        agenda=agenda,
        proposal=proposal,
        outcome=decision.outcome,
        adopted=adopted,
        objections=decision.objections,
        declined=declined,
        host=host,
        decisional=forum.decision != "none",
        decision=decision,
        blocs=stats,
    )


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
    dist = (sal * np.abs(pop.position[_cross(who, agenda)] - produced)).sum(axis=1)
    dist /= np.maximum(sal.sum(axis=1), 1e-12)
    relative_voice = np.minimum(1.0, result.voice[present] * present.sum())
    payoff = 0.5 * (1.0 - dist + relative_voice)
    e = pop.engagement[:, fi]
    e[who] += b.engagement_rate * (payoff - e[who])
    away = idx[~present]
    e[away] += 0.25 * b.engagement_rate * (pop.engagement0[away, fi] - e[away])

    gain = b.expertise_gain * np.where(modes[present] == ONSITE, 1.0, 0.5)
    gain = gain + b.expertise_gain * links.subsidy * (result.roles[present] == MEMBER)
    pop.expertise[who] += gain * (1.0 - pop.expertise[who])
