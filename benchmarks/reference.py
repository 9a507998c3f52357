"""A per-agent reference implementation of a meeting: the oracle and speed baseline.

The vectorized core (:func:`sim.model.forums.hold_meeting`, :func:`sim.model.forums.adapt`)
runs a meeting as array operations over all eligible actors. This module writes
the same rules the idiomatic Mesa way: every :class:`Delegate` decides in its
own methods, called through ``AgentSet.shuffle_do``/``do``, one agent at a time:

1. ``attend``: benefit and cost of each mode, then the logit choice (utility plus
   its row of Gumbel noise), and paying for travel;
2. ``weigh_voice``: the voice rule's weight;
3. ``listen`` / ``move``: one Hegselmann–Krause round: the agent scans every
   speaker for those within the confidence bound (one numpy comparison over
   the speakers per agent, so O(n) per agent and O(n²) per round), then all
   agents move at once;
4. ``contribute``: its capability × salience-weighted share of the compromise
   proposal, and ``object_to``: whether it objects to the current proposal;
5. ``adapt``: engagement and expertise after the meeting.

Random numbers. The only draw inside a meeting is the logit noise: the core
takes one ``(m, 3)`` Gumbel block from ``model.rng`` (m eligible actors in index
order); the reference takes the same block the same way and each agent reads its
own row. ``shuffle_do`` consumes Mesa's stdlib ``model.random`` only, never
``model.rng``. Results do not depend on the shuffled order: every pass reads the
state left by the previous pass and writes only the agent's own entries, and
sums over agents use :func:`math.fsum` (exactly rounded, so order-free). The
core sums pairwise, so the two agree to ~1e-15, not bit for bit.

Membership elections, the travel-support allocation (a secretariat's priority
list), the ratifying board, calendar and data collection are not per-agent
decisions: the reference reuses the model's (:class:`ReferenceModel` subclasses
:class:`~sim.model.GovernanceModel` and swaps only the meeting and adaptation).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from mesa.agentset import AgentSet

import sim.model.model as core_model
from sim.model import venue as venues
from sim.model.actors import Actor
from sim.model.config import ROLES, BehaviourConfig, ForumConfig
from sim.model.forums.attendance import ONSITE, REMOTE, TIMEZONE
from sim.model.forums.links import ForumLinks
from sim.model.forums.meeting import STAKEHOLDER, MeetingResult
from sim.model.forums.membership import MEMBER, PARTICIPANT
from sim.model.forums.registry import describe, rule

# How each decision rule is decided agent by agent, written independently of the core:
# what a decider casts ("vote": yes/no against the status quo, no concessions;
# "objection": the objection test, with concession rounds while blocked), and when the
# count of no votes / objections n among m deciders blocks adoption. Whether a rule
# decides at all, and so whether its meetings are decisional, is read from the registry.
BALLOTS = {
    "consensus": ("objection", lambda n, m, f: n >= f.blocking_objections),
    "rough_consensus": ("objection", lambda n, m, f: n / max(m, 1) > f.threshold),
    "majority": (
        "vote",
        lambda n, m, f: (
            ~(((m - n) / m > 0.5) & ((m - n) / m >= f.threshold - 1e-9))
            if m
            else np.ones_like(n, bool)
        ),
    ),
}

SUPPORTED = {
    "attendance": {"logit", "best_response", "everyone_onsite"},
    "voice": {"capacity", "equal", "equal_per_group"},
    "deliberation": {"none", "hegselmann_krause"},
    "decision": {"none", *BALLOTS},
}


@dataclass
class Meeting:
    """What the agents of one meeting share: the forum, the venue and the running tallies."""

    forum: ForumConfig
    fi: int
    links: ForumLinks
    behaviour: BehaviourConfig
    host: int
    agenda: np.ndarray
    roles: np.ndarray  # role of every actor (indexed by actor index)
    row: dict[int, int]  # actor index -> row among the eligible
    funded: np.ndarray  # over the eligible
    gumbel: np.ndarray | None  # (m, 3) noise block, or None for deterministic rules
    venue: venues.Venue | None = None
    median_potential: float = 0.0
    delegates: dict[int, float] = field(default_factory=dict)
    modes: dict[int, int] = field(default_factory=dict)
    cost: dict[int, float] = field(default_factory=dict)
    remote_factor: dict[int, float] = field(default_factory=dict)
    weight: dict[int, float] = field(default_factory=dict)
    voice: dict[int, float] = field(default_factory=dict)
    group_share: dict[int, float] = field(default_factory=dict)
    # deliberation on one issue: positions this round, the speakers, proposals
    issue: int = 0
    x: dict[int, float] = field(default_factory=dict)
    next_x: dict[int, float] = field(default_factory=dict)
    speaker_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    speaker_w: np.ndarray = field(default_factory=lambda: np.empty(0))
    proposal: np.ndarray = field(default_factory=lambda: np.empty(0))
    status_quo: np.ndarray = field(default_factory=lambda: np.empty(0))
    terms: dict[int, tuple[list[float], list[float]]] = field(default_factory=dict)
    objects: dict[int, list[bool]] = field(default_factory=dict)
    produced: np.ndarray = field(default_factory=lambda: np.empty(0))
    n_present: int = 0


class Delegate(Actor):
    """An actor that makes its own meeting decisions (state still in ``model.pop``)."""

    # ----- attendance ---------------------------------------------------------------
    def potential(self) -> float:
        """Delegation capacity × expertise: what it could bring to the table."""
        pop = self.model.pop
        return float(pop.capacity[self.index] * pop.expertise[self.index])

    def attend(self, mt: Meeting) -> None:
        """Choose none / remote / onsite (logit over utilities), and pay for the trip."""
        pop, i, b, f = self.model.pop, self.index, mt.behaviour, mt.forum
        role, region = int(mt.roles[i]), int(pop.region[i])
        capacity, expertise = float(pop.capacity[i]), float(pop.expertise[i])
        potential = capacity * expertise
        influence = b.role_influence[ROLES[role]] * potential
        influence /= potential + mt.median_potential
        fit = float(pop.ms_preference[i])
        if f.venue_type == "multilateral":
            fit = 1.0 - fit
        saliences = [float(pop.salience[i, k]) for k in mt.agenda]
        agenda_salience = sum(saliences) / len(saliences)
        benefit = (
            b.benefit_scale
            * float(pop.engagement[i, mt.fi])
            * agenda_salience
            * (0.5 + fit)
            * (b.networking_value + mt.links.authority * influence)
        )
        remote_factor = f.remote_voice * (1.0 - b.timezone_penalty * TIMEZONE[region, mt.host])
        subsidy = 1.0 - mt.links.subsidy * (role == MEMBER)
        row = mt.row[i]
        funded = float(mt.funded[row])
        unit = b.travel_cost_scale * subsidy * self.travel_index(mt)  # money per delegate
        payable = funded + math.floor(float(pop.budget[i]) / max(unit, 1e-12))
        at_home = int(pop.country[i]) == mt.venue.country
        cap_on = b.home_capacity * capacity if at_home else capacity
        alpha = b.delegation_returns
        d_on = self.delegation(benefit, b.cost_aversion * unit / float(pop.resources[i]),
                               cap_on, payable, alpha)  # fmt: skip
        d_re = self.delegation(benefit * remote_factor, b.remote_cost * subsidy, capacity,
                               math.inf, alpha)  # fmt: skip
        u_on = benefit * d_on**alpha - b.cost_aversion * unit / float(pop.resources[i]) * max(
            d_on - funded, 0.0
        )
        if role == MEMBER and self.has_mission(mt):  # its mission's routine work
            u_on += b.mission_duty
        u_re = benefit * remote_factor * d_re**alpha - b.remote_cost * subsidy * d_re
        u_re -= f.remote_fixed_cost  # a cost of joining remotely at all
        if f.attendance == "everyone_onsite":
            mode = ONSITE
        else:
            remote_ok = f.remote and (f.remote_access == "open" or payable < 1)
            u = [0.0, u_re if remote_ok else -math.inf, u_on if payable >= 1 else -math.inf]
            if mt.gumbel is not None:
                u = [u[c] + b.logit_noise * mt.gumbel[row, c] for c in range(3)]
            mode = max(range(3), key=u.__getitem__)  # first maximum, as np.argmax
        if f.host_attends and at_home and pop.group[i] <= 1:  # the host government co-chairs
            mode = ONSITE
            size = (float(pop.population[i]) / 1e7) ** b.host_elasticity
            d_on = max(float(round(b.host_delegation * size)), 1.0)
        mt.modes[i] = mode
        mt.remote_factor[i] = remote_factor
        mt.cost[i] = unit * max(d_on - funded, 0.0) if mode == ONSITE else 0.0
        mt.delegates[i] = d_on if mode == ONSITE else (d_re if mode == REMOTE else 0.0)
        pop.budget[i] -= mt.cost[i]

    def travel_index(self, mt: Meeting) -> float:
        """Per-delegate travel index to the venue: distance, at home, or mission staff."""
        pop, i, b, v = self.model.pop, self.index, mt.behaviour, mt.venue
        c = int(pop.country[i])
        if c == v.country:
            index = b.local_cost
        else:
            lat = math.radians(float(venues._arrays()["lat"][c]))
            lon = math.radians(float(venues._arrays()["lon"][c]))
            la2, lo2 = math.radians(v.lat), math.radians(v.lon)
            h = (math.sin((la2 - lat) / 2) ** 2
                 + math.cos(lat) * math.cos(la2) * math.sin((lo2 - lon) / 2) ** 2)  # fmt: skip
            km = 2 * venues.EARTH_KM * math.asin(math.sqrt(h))
            index = (max(km, venues.SHORTEST_KM) / venues.LONGEST_KM) ** b.distance_exponent
        if self.has_mission(mt):
            index = min(index, b.mission_cost)
        return index

    def has_mission(self, mt: Meeting) -> bool:
        """A state with a permanent mission in the meeting's city."""
        pop, i, f = self.model.pop, self.index, mt.forum
        city = f.mission_city
        return bool(city) and pop.group[i] <= 1 and bool(venues._arrays()[city][pop.country[i]])

    @staticmethod
    def delegation(benefit: float, unit: float, cap: float, payable: float, alpha: float):
        """People to send: argmax of benefit·d^alpha − unit·d within [1, min(cap, payable)]."""
        best = (alpha * benefit / unit) ** (1.0 / (1.0 - alpha)) if unit > 0 else math.inf
        if not math.isfinite(best):
            best = cap
        upper = max(min(math.floor(cap), payable), 1.0)
        return float(min(max(round(best), 1.0), upper))

    # ----- voice --------------------------------------------------------------------
    def weigh_voice(self, mt: Meeting) -> None:
        """The voice rule's weight for this agent (normalised to a share by the meeting)."""
        pop, i, f = self.model.pop, self.index, mt.forum
        role, mode = int(mt.roles[i]), mt.modes[i]
        role_voice = 1.0 if role == MEMBER else f.participant_voice if role == PARTICIPANT else 0.0
        present = 1.0 if mode > 0 else 0.0
        factor = role_voice * (mt.remote_factor[i] if mode == REMOTE else 1.0) * present
        if f.voice == "capacity":
            mt.weight[i] = float(mt.delegates[i] * pop.expertise[i]) * factor  # people sent
        elif f.voice == "equal":
            mt.weight[i] = factor
        else:  # equal_per_group: the meeting has tallied each stakeholder group's presence
            mt.weight[i] = factor * mt.group_share[int(STAKEHOLDER[pop.group[i]])]

    def presence_factor(self, mt: Meeting) -> tuple[int, float]:
        """(stakeholder group, role × remote × presence factor) for per-group microphones."""
        pop, i, f = self.model.pop, self.index, mt.forum
        role, mode = int(mt.roles[i]), mt.modes[i]
        role_voice = 1.0 if role == MEMBER else f.participant_voice if role == PARTICIPANT else 0.0
        factor = role_voice * (mt.remote_factor[i] if mode == REMOTE else 1.0) * (mode > 0)
        return int(STAKEHOLDER[pop.group[i]]), float(factor)

    # ----- deliberation ------------------------------------------------------------
    def listen(self, mt: Meeting) -> None:
        """One Hegselmann–Krause round: average the speakers within the confidence bound."""
        i, x = self.index, mt.x[self.index]
        eps = mt.forum.confidence
        near = (mt.speaker_x >= x - eps) & (mt.speaker_x <= x + eps)
        w = math.fsum(mt.speaker_w[near])
        m = math.fsum(mt.speaker_w[near] * mt.speaker_x[near]) / w if w > 1e-300 else x
        s = float(self.model.pop.stubbornness[i])
        mt.next_x[i] = s * x + (1.0 - s) * m

    def move(self, mt: Meeting) -> None:
        """Adopt the position reached this round (all agents move at once)."""
        mt.x[self.index] = mt.next_x[self.index]

    # ----- decision -----------------------------------------------------------------
    def contribute(self, mt: Meeting) -> None:
        """Its terms in the compromise proposal: ``w s_k x_k`` and ``w s_k`` per agenda issue."""
        pop, i, w = self.model.pop, self.index, mt.voice[self.index]
        ws = [w * float(pop.salience[i, k]) for k in mt.agenda]
        wsx = [a * float(pop.position[i, k]) for a, k in zip(ws, mt.agenda, strict=True)]
        mt.terms[i] = (wsx, ws)

    def object_to(self, mt: Meeting) -> None:
        """Per agenda issue: does it object to the current proposal (or, by vote, say no)?"""
        pop, i, b = self.model.pop, self.index, mt.behaviour
        out = []
        for j, k in enumerate(mt.agenda):
            x, s = float(pop.position[i, k]), float(pop.salience[i, k])
            p, q = mt.proposal[j], mt.status_quo[j]
            if BALLOTS[mt.forum.decision][0] == "vote":
                out.append(not abs(x - p) < abs(x - q))
            else:
                distance = s * abs(x - p)
                loss = distance - s * abs(x - q)
                out.append(loss > b.objection_tolerance or distance > b.reservation)
        mt.objects[i] = out

    # ----- adaptation ---------------------------------------------------------------
    def adapt(self, mt: Meeting) -> None:
        """Engagement toward the meeting's payoff (attendees) or back toward its start."""
        pop, i, b = self.model.pop, self.index, mt.behaviour
        if mt.modes[i] == 0:
            e0 = pop.engagement0[i, mt.fi]
            pop.engagement[i, mt.fi] += 0.25 * b.engagement_rate * (e0 - pop.engagement[i, mt.fi])
            return
        sal = [float(pop.salience[i, k]) for k in mt.agenda]
        dist = sum(
            s * abs(float(pop.position[i, k]) - o)
            for s, k, o in zip(sal, mt.agenda, mt.produced, strict=True)
        ) / max(sum(sal), 1e-12)
        relative_voice = min(1.0, mt.voice[i] * mt.n_present)
        payoff = 0.5 * (1.0 - dist + relative_voice)
        pop.engagement[i, mt.fi] += b.engagement_rate * (payoff - pop.engagement[i, mt.fi])
        gain = b.expertise_gain * (1.0 if mt.modes[i] == ONSITE else 0.5)
        gain += b.expertise_gain * mt.links.subsidy * (mt.roles[i] == MEMBER)
        pop.expertise[i] += gain * (1.0 - pop.expertise[i])


class ReferenceModel(core_model.GovernanceModel):
    """:class:`~sim.model.GovernanceModel` whose meetings are decided agent by agent.

    Same arguments as the core model. Agents are :class:`Delegate` handles; each
    meeting runs through :meth:`hold_meeting` and :meth:`adapt_after`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with _swapped(core_model, AGENT_CLASSES=(Delegate,) * 6):
            super().__init__(*args, **kwargs)
        for kind, names in SUPPORTED.items():
            for f in self.forums:
                if getattr(f, kind) not in names:
                    raise NotImplementedError(f"reference has no {kind} rule {getattr(f, kind)!r}")
        self.delegates = {a.index: a for a in self.agents}
        self._mt: Meeting | None = None

    def _meeting(self, fi: int, year: int) -> MeetingResult | None:
        with _swapped(core_model, hold_meeting=self.hold_meeting, adapt=self.adapt_after):
            return super()._meeting(fi, year)

    def hold_meeting(
        self, pop, forum, fi, links, roles, host, agenda, policy, messages, board, behaviour, rng,
        venue=None, referral=None,
    ) -> MeetingResult:  # fmt: skip
        """The meeting of :func:`sim.model.forums.hold_meeting`, decided agent by agent.

        Per-item rules only: no blocs and no referred texts (issue 14's mechanisms are
        checked by known answers in tests/test_negotiation.py)."""
        if forum.blocs or (referral is not None and np.isfinite(referral.text).any()):
            raise NotImplementedError("reference has no blocs or referred texts")
        away = pop.local & ((pop.country != venue.country) | (not forum.local_participants))
        idx = np.flatnonzero((roles > 0) & ~away)
        r = roles[idx]
        eligible = AgentSet([self.delegates[i] for i in idx], random=self.random)
        funded = rule("support", forum.support)(pop, idx, r, forum)
        gumbel = rng.gumbel(size=(len(idx), 3)) if forum.attendance == "logit" else None
        mt = Meeting(forum, fi, links, behaviour, host, agenda, roles,
                     {int(i): row for row, i in enumerate(idx)}, funded, gumbel, venue)  # fmt: skip
        mt.median_potential = float(np.median(eligible.map("potential")))
        eligible.shuffle_do("attend", mt)

        if forum.voice == "equal_per_group":
            tallies: dict[int, list[float]] = {}
            for g, factor in eligible.map("presence_factor", mt):
                tallies.setdefault(g, []).append(factor)
            totals = {g: math.fsum(v) for g, v in tallies.items()}
            n_groups = max(sum(t > 0 for t in totals.values()), 1)
            mt.group_share = {g: (1.0 / t if t > 0 else 0.0) / n_groups for g, t in totals.items()}
        eligible.shuffle_do("weigh_voice", mt)
        total = math.fsum(mt.weight.values())
        mt.voice = {i: (w / total if total > 0 else w) for i, w in mt.weight.items()}

        present = eligible.select(lambda a: mt.modes[a.index] > 0)
        mt.n_present = len(present)
        if forum.deliberation == "hegselmann_krause":
            speakers = [a.index for a in present if mt.voice[a.index] > 0]
            for k in agenda:
                mt.x = {a.index: float(pop.position[a.index, k]) for a in present}
                if speakers:
                    mt.speaker_w = np.array([mt.voice[i] for i in speakers])
                    for _ in range(forum.rounds):
                        mt.speaker_x = np.array([mt.x[i] for i in speakers])
                        present.shuffle_do("listen", mt)
                        present.do("move", mt)
                for i, x in mt.x.items():
                    pop.position[i, k] = x

        deciders = present.select(lambda a: mt.roles[a.index] == MEMBER)
        decides = describe("decision", forum.decision).decides
        if len(deciders) == 0 and not decides:
            deciders = present.select(lambda a: mt.voice[a.index] > 0)
        deciders.shuffle_do("contribute", mt)
        proposal = np.full(len(agenda), np.nan)
        for j in range(len(agenda)):
            den = math.fsum(mt.terms[a.index][1][j] for a in deciders)
            if den > 0:
                proposal[j] = math.fsum(mt.terms[a.index][0][j] for a in deciders) / den
        for source, w in links.feeds:
            fed = messages[source, agenda]
            ok = np.isfinite(fed) & np.isfinite(proposal)
            proposal = np.where(ok, (1 - w) * proposal + w * fed, proposal)
        mt.status_quo = policy[agenda]
        adopted_by_forum, outcome, objections = self._decide(mt, deciders, proposal)
        adopted, declined = rule("ratification", forum.ratification)(
            adopted_by_forum, outcome, mt.status_quo, board[0][:, agenda], board[1][:, agenda],
            forum, rng=rng,
        )  # fmt: skip
        modes = np.array([mt.modes[i] for i in idx], np.int8)
        self._mt = mt
        return MeetingResult(
            idx=idx,
            roles=r,
            modes=modes,
            funded=funded & (modes == ONSITE),
            voice=np.array([mt.voice[i] for i in idx]),
            cost=np.array([mt.cost[i] for i in idx]),
            agenda=agenda,
            proposal=proposal,
            outcome=outcome,
            adopted=adopted,
            objections=objections,
            declined=declined,
            host=host,
            decisional=decides,
            delegates=np.array([mt.delegates[i] for i in idx]),
            grants=int(funded.sum()),
            host_country=venue.iso3,
        )

    def _decide(self, mt: Meeting, deciders: AgentSet, proposal: np.ndarray):
        """The decision rule, from each decider's objections (concession rounds in between)."""
        f, b, k = mt.forum, mt.behaviour, len(proposal)
        m = len(deciders)
        if not describe("decision", f.decision).decides:  # a chair's summary
            return np.zeros(k, bool), proposal.copy(), np.zeros(k, int)
        ballot, blocks = BALLOTS[f.decision]
        mt.proposal = proposal.copy()
        deciders.shuffle_do("object_to", mt)
        count = lambda: np.array([sum(mt.objects[a.index][j] for a in deciders) for j in range(k)])  # noqa: E731
        blocked = lambda n: blocks(n, m, f)  # noqa: E731
        n_obj = count()
        for _ in range(f.concession_rounds if ballot == "objection" else 0):
            stuck = blocked(n_obj)
            if not stuck.any():
                break
            for j in np.flatnonzero(stuck):  # concede toward the objectors' weighted mean
                objectors = [a for a in deciders if mt.objects[a.index][j]]
                den = math.fsum(mt.terms[a.index][1][j] for a in objectors)
                if den > 0:
                    num = math.fsum(
                        mt.terms[a.index][1][j] * float(self.pop.position[a.index, mt.agenda[j]])
                        for a in objectors
                    )
                    target = num / den
                else:
                    target = mt.proposal[j]
                mt.proposal[j] += b.concession_step * (target - mt.proposal[j])
            deciders.shuffle_do("object_to", mt)
            n_obj = count()
        p = mt.proposal
        adopted = ~blocked(n_obj) & (m > 0) & np.isfinite(p)
        return adopted, p.copy(), n_obj

    def adapt_after(self, pop, fi, result: MeetingResult, policy_before, links, behaviour) -> None:
        """:func:`sim.model.forums.adapt`, agent by agent."""
        mt = self._mt
        agenda = result.agenda
        produced = np.where(
            result.adopted,
            result.outcome,
            policy_before[agenda] if result.decisional else result.proposal,
        )
        mt.produced = np.where(np.isfinite(produced), produced, policy_before[agenda])
        eligible = AgentSet([self.delegates[i] for i in result.idx], random=self.random)
        eligible.shuffle_do("adapt", mt)


@contextmanager
def _swapped(module, **names):
    """Temporarily rebind module globals (the core model's meeting entry points)."""
    saved = {name: getattr(module, name) for name in names}
    for name, value in names.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)
