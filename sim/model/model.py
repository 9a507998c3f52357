"""GovernanceModel: actors taking part in internet-governance forums, month by month.

One step is one month. Each forum meets on its own calendar (``meeting_months``,
within ``start_year``..``end_year``); feeds are respected within a month (a
source meets before its target). The order of events in :meth:`step` is:

1. in January, yearly budgets are reset and expertise decays toward its start;
2. every forum that meets this month holds a meeting (:func:`sim.model.forums.hold_meeting`),
   adopted outcomes move the policy on their issues — or, where the forum recommends to a
   parent, go up the chain as a draft (:mod:`sim.model.forums.chain`) — and actors adapt
   (:func:`sim.model.forums.adapt`);
3. the data collector records the step.

Actor state lives in a :class:`~sim.model.population.Population` (numpy arrays); the
Mesa agents in ``model.agents`` are handles onto it, made on first use.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.model import metrics
from sim.model import venue as venues
from sim.model.actors import AGENT_CLASSES
from sim.model.compose import is_checked, load_config
from sim.model.config import GROUPS, REGIONS, GovsimConfig, as_config
from sim.model.forums import adapt, agenda_of, hold_meeting, meeting_order, resolve_links, rule
from sim.model.forums import board as board_rules
from sim.model.forums import oversight as oversight_rules
from sim.model.forums.attendance import remote_cost_in
from sim.model.forums.chain import build_chain, decide_mandate
from sim.model.forums.links import apply_link
from sim.model.forums.meeting import ONSITE, REMOTE, MeetingResult, enact
from sim.model.forums.registry import describe
from sim.model.population import DEVELOPED, DEVELOPING, build_population
from sim.model.validate import validate

N_GROUPS = len(GROUPS)


def run_seed(seed: int, replicate: int = 0, *, stream: int | None = None) -> np.random.SeedSequence:
    """The one seeding convention: replicate ``r`` of seed ``S`` draws from
    ``SeedSequence(S, spawn_key=(r,))``.

    ``govsim run seed=S`` (and every job of ``govsim run -m``) is replicate 0;
    replicate ``r`` of a study with ``root_seed: S`` is ``run_seed(S, r)`` in every
    scenario and grid point (common random numbers). Analyses that need several
    independent sets of replicates (calibration's refits) put the set first:
    ``stream=k`` gives ``SeedSequence(S, spawn_key=(k, r))``. Replicates are never
    given adjacent integer seeds (numpy's advice for parallel streams).
    """
    key = (int(replicate),) if stream is None else (int(stream), int(replicate))
    return np.random.SeedSequence(int(seed), spawn_key=key)


def _rng_of(rng: Any, seed: int) -> Any:
    """What Mesa is seeded with: the convention for ints (and None: the config's seed);
    a ``SeedSequence``, a ``Generator`` or a sequence of ints as given."""
    if rng is None:
        return run_seed(seed)
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return run_seed(int(rng))
    return rng


MEETING_COLUMNS = [
    "forum", "step", "year", "month", "host", "eligible", "onsite", "remote", "funded",
    "voice_gini", "voice_theil", "theil_between", "theil_within", "agenda", "adopted",
    "declined", "decisional", "deadlocked",
    # issue 13: host country, people sent, travel grants offered and the share taken up
    "host_country", "onsite_delegates", "remote_delegates", "grants", "grant_uptake",
]  # fmt: skip
ATTENDANCE_COLUMNS = [
    "forum", "step", "group", "eligible", "onsite", "remote", "voice_share", "eligible_share",
    "representation_ratio",
]  # fmt: skip
OUTCOME_COLUMNS = [
    "forum", "step", "issue", "status_quo", "proposal", "outcome", "adopted", "objections",
    "declined", "policy_after",
]  # fmt: skip
REGION_COLUMNS = [
    "forum", "step", "region", "eligible", "onsite", "remote", "voice_share", "eligible_share",
    "representation_ratio",
]  # fmt: skip
GROUP_COLUMNS = ["step", "group", "attainment", "engagement", "expertise"]


def _append_rows(table: dict[str, list], columns: dict[str, list]) -> None:
    """Append rows, given column by column, to a DataCollector table (all columns required)."""
    if table.keys() != columns.keys():
        raise KeyError(f"columns {sorted(columns)} do not match the table's {sorted(table)}")
    for column, values in columns.items():
        table[column].extend(values)


def _breakdown(codes, n_codes, onsite, remote, voice) -> dict[str, list]:
    """Per code present (group or region): eligible, onsite, remote, voice share and ratio.

    The same arithmetic as :func:`metrics.voice_shares` and
    :func:`metrics.representation_ratio`, without re-validating the model's own
    arrays (codes in range, voice non-negative) at every meeting.
    """
    eligible = np.bincount(codes, minlength=n_codes)
    share = metrics._shares(np.bincount(codes, voice, n_codes), n_codes)
    eligible_share = eligible / max(eligible.sum(), 1)
    seen = np.flatnonzero(eligible)
    share_seen, eligible_seen = share[seen], eligible_share[seen]  # eligible_share > 0 here
    return {
        "seen": seen,
        "eligible": eligible[seen].tolist(),
        "onsite": np.bincount(codes, onsite, n_codes)[seen].astype(int).tolist(),
        "remote": np.bincount(codes, remote, n_codes)[seen].astype(int).tolist(),
        "voice_share": share_seen.tolist(),
        "eligible_share": eligible_seen.tolist(),
        "representation_ratio": (share_seen / eligible_seen).tolist(),
    }


class GovernanceModel(mesa.Model):
    """Participation, voice and outcomes in a set of linked governance forums.

    Args:
        scenario: name of a scenario in ``configs/scenario/`` (ignored when ``config``
            is given).
        overrides: Hydra-syntax overrides on top of the scenario, e.g.
            ``["forum.igf.remote=false", "behaviour.polarization=1.5"]``.
        years: horizon in years (None: the config's, default 10).
        polarization: scales the distance between developed and developing
            governments' mean positions (None: the config's, default 1).
        config: a full config (``GovsimConfig``, DictConfig or dict) instead of a
            scenario name; the fast path for studies.
        rng: the random stream. None means the config's ``seed``; an int ``S`` means
            ``run_seed(S)`` = ``SeedSequence(S, spawn_key=(0,))``, the convention every
            run follows (docs/user_guide.md, "Seeds and reproducing a run"); a
            ``SeedSequence`` or ``Generator`` is used as given (studies pass
            ``run_seed(root_seed, replicate)``).

    The config passed in is never modified (``years`` and ``polarization`` are set
    on a copy).
    """

    def __init__(
        self,
        scenario: str = "status_quo",
        overrides: Sequence[str] = (),
        years: int | None = None,
        polarization: float | None = None,
        config: GovsimConfig | dict[str, Any] | None = None,
        rng: Any = None,
    ) -> None:
        # the caller's config is never changed: a config given as an object is copied;
        # one composed here, or built from a dict, is new anyway
        if config is None:
            cfg = load_config(scenario, overrides)
        elif isinstance(config, GovsimConfig):
            cfg = copy.deepcopy(config)
        else:
            cfg = as_config(config)
        checked = config is None or is_checked(config)
        if years is not None:
            cfg.years, checked = int(years), False
        if polarization is not None:
            cfg.behaviour.polarization, checked = float(polarization), False
        # validated once: load_config and with_values validate (and mark) what they make;
        # anything else handed in is validated here, at the model's boundary
        self.config = cfg if checked else validate(cfg)
        super().__init__(rng=_rng_of(rng, cfg.seed))

        self.forum_names = list(cfg.forum)
        self.forums = list(cfg.forum.values())
        self.issue_names = list(cfg.issues)
        self.issue_kinds = np.array([i.kind for i in cfg.issues.values()])
        self.years = cfg.years
        self.pop = build_population(cfg, len(self.forums), self.rng)
        self.links = resolve_links(cfg.forum, cfg.links)
        self.order = meeting_order(cfg.forum, cfg.links)
        self.agendas = [agenda_of(f, self.issue_kinds, self.issue_names) for f in self.forums]
        self.policy = np.array([i.status_quo for i in cfg.issues.values()], float)
        self.status_quo0 = self.policy.copy()
        k, n_forums = len(self.issue_names), len(self.forums)
        self.messages = np.full((n_forums, k), np.nan)
        self.adopted_ever = np.zeros(k, bool)
        self.board_seats = [board_rules.seat_groups(f) for f in self.forums]
        self.directors = [np.full(len(s), -1) for s in self.board_seats]
        self.boards = [self._draw_board(fi) for fi in range(n_forums)]
        self._seats: list[np.ndarray | None] = [None] * n_forums
        self._roles: list[np.ndarray | None] = [None] * n_forums
        self._roles_year = [0] * n_forums
        self._meetings_held = [0] * n_forums
        self.decisions = 0
        # the chain of authority and what it records (issue 14; sim.model.forums.chain)
        self.chain = build_chain(cfg.forum, cfg.links, self.issue_names)
        self.text_records: list[tuple[str, int, bool, bool]] = []  # forum, step, adopted, voted
        self.bloc_records: list[tuple[str, int, str, float, float]] = []
        # caches: attainment until policy moves, group means until a meeting or new year
        self._mean_salience = self.pop.salience.mean(axis=0)  # saliences are fixed in a run
        self._attainment_cache: tuple[bytes, np.ndarray, float] | None = None
        self._coverage_cache: tuple[bytes, float] | None = None
        self._salience_total: np.ndarray | None = None
        self._public_policy = self.issue_kinds == "public_policy"
        self._group_means: dict[str, list[float]] | None = None
        self._group_codes: np.ndarray | None = None  # group codes as intp, and their counts
        self._group_count: np.ndarray | None = None
        self._att_total: tuple[np.ndarray, np.ndarray] | None = None  # per attainment array
        self._state_changed = True

        # Mesa handles onto the population's rows are made on first use of ``agents``,
        # ``agents_by_type`` or ``agent_types`` (or when another agent is registered):
        # at 10^6 actors they take ~270 MB and ~11 s, and no meeting reads them
        # (docs/performance.md, round 3). The classes are fixed now (the reference
        # model swaps them in for its construction).
        self._agent_classes: tuple | None = AGENT_CLASSES

        self.datacollector = mesa.DataCollector(
            model_reporters={
                # attribute names and bound methods: Mesa deep-copies a lambda's value
                # through the generic path at every step (docs/performance.md)
                "year": "year",
                "attainment_gap": self.attainment_gap,
                "policy_coverage": self.policy_coverage,
                "decisions": "decisions",
            },
            tables={
                "meetings": MEETING_COLUMNS,
                "attendance": ATTENDANCE_COLUMNS,
                "regions": REGION_COLUMNS,
                "outcomes": OUTCOME_COLUMNS,
                "groups": GROUP_COLUMNS,
            },
        )
        self.attainment_gap_start = self.attainment_gap()
        self._collect()

    # ----- agents -----------------------------------------------------------------
    def _materialise_agents(self) -> None:
        """Create the Mesa handle of every actor, in population order (once)."""
        classes, self._agent_classes = self._agent_classes, None
        if classes is not None:
            for i, g in enumerate(self.pop.group.tolist()):
                classes[g](self, i)

    @property
    def agents(self):
        """Mesa's AgentSet of every actor's handle (:mod:`sim.model.actors`)."""
        self._materialise_agents()
        return self._all_agents

    @property
    def agents_by_type(self):
        self._materialise_agents()
        return self._agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self._materialise_agents()
        return list(self._agents_by_type)

    def remove_all_agents(self) -> None:
        """Mesa's removal of every agent; handles not made yet will not be made."""
        self._agent_classes = None
        super().remove_all_agents()

    def register_agent(self, agent) -> None:
        """Mesa's registration; the actors' handles come first (unique ids 1..n)."""
        if getattr(self, "_agent_classes", None) is not None:
            self._materialise_agents()
        super().register_agent(agent)

    # ----- time -------------------------------------------------------------------
    @property
    def year(self) -> int:
        """Current year, 1-based (step 0 is the start of year 1)."""
        return max(self.steps - 1, 0) // 12 + 1

    @property
    def month(self) -> int:
        return max(self.steps - 1, 0) % 12 + 1

    def step(self) -> None:
        """One month: new-year bookkeeping, this month's meetings, data collection."""
        year, month = self.year, self.month
        if month == 1:
            self._state_changed = True  # expertise decays: group means change
            self.pop.budget[:] = self.pop.resources
            d = self.config.behaviour.expertise_decay
            self.pop.expertise += d * (self.pop.expertise0 - self.pop.expertise)
            if year > 1:  # directors' staggered terms (issue 15)
                for fi, f in enumerate(self.forums):
                    if f.ratification != "none" and (f.board_term_years or f.oversight != "none"):
                        self.boards[fi] = self._draw_board(fi, year)
        for fi in self.order:
            f = self.forums[fi]
            last = f.end_year or self.years
            quota_left = not f.max_meetings or self._meetings_held[fi] < f.max_meetings
            if month in f.meeting_months and f.start_year <= year <= last and quota_left:
                self._meeting(fi, year)
        self._collect()
        if self.steps >= 12 * self.years:
            self.running = False

    # ----- meetings ---------------------------------------------------------------
    def roles(self, fi: int, year: int | None = None) -> np.ndarray:
        """Role of every actor in forum ``fi`` this year (membership is settled yearly)."""
        year = self.year if year is None else year
        if self._roles[fi] is None or self._roles_year[fi] != year:
            f = self.forums[fi]
            self._roles[fi], self._seats[fi] = rule("membership", f.membership)(
                self.pop, f, self._seats[fi], year, self.rng, forum_index=fi
            )
            self._roles_year[fi] = year
        return self._roles[fi]

    def host(self, fi: int) -> int:
        """Region code of the next meeting's venue (its host country's region)."""
        return self.venue(fi).region

    def venue(self, fi: int) -> venues.Venue:
        """Host country and city of the next meeting (:func:`sim.model.venue.meeting_venue`)."""
        return venues.meeting_venue(self.forums[fi], self._meetings_held[fi])

    def _draw_board(self, fi: int, year: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Positions and saliences of forum ``fi``'s ratifying board.

        At the start every seat is filled (``year = 0``); at each new year the seats whose
        staggered term ends are re-drawn (:mod:`sim.model.forums.board`), the newcomers
        bringing their current positions.
        """
        f = self.forums[fi]
        if not describe("ratification", f.ratification).params:  # a rule that needs no board
            empty = np.empty((0, len(self.issue_names)))
            return empty, empty
        seats, who = self.board_seats[fi], self.directors[fi]
        which = who < 0 if year == 0 else board_rules.expiring(len(seats), year, f.board_term_years)
        if year == 0 or which.any():
            # local organisations of a host country never sit on a board (issue 13)
            groups = np.where(self.pop.local, -1, self.pop.group)
            who = self.directors[fi] = board_rules.draw_directors(
                groups, seats, which, who, self.rng
            )
        who = who[who >= 0]
        board = self.pop.position[who].copy(), self.pop.salience[who].copy()
        if f.oversight == "none":
            return board
        pos, sal, _ = oversight_rules.overseers(self.pop, f, len(self.issue_names))
        return (*board, pos, sal)  # who may block after the board (IANA chain, issue 15)

    def _meeting(self, fi: int, year: int) -> MeetingResult | None:
        chain = self.chain
        agenda = chain.agenda(fi, self.agendas[fi])
        for mandate in chain.pending(fi):  # a mandate is an agenda item of its deciding forum
            self._decide_mandate(fi, mandate, year)
        if len(agenda) == 0:
            return None
        roles = self.roles(fi, year)
        where = self.venue(fi)
        host = where.region
        self._meetings_held[fi] += 1
        before = self.policy.copy()
        behaviour = self.config.behaviour
        if behaviour.remote_cost_trend:  # calendar time: remote participation's cost moves
            calendar_year = self.config.first_year + year - 1
            behaviour = replace(behaviour, remote_cost=remote_cost_in(behaviour, calendar_year))
        res = hold_meeting(
            self.pop,
            self.forums[fi],
            fi,
            self.links[fi],
            roles,
            host,
            agenda,
            self.policy,
            self.messages,
            self.boards[fi],
            behaviour,
            self.rng,
            venue=where,
            referral=chain.referral(fi),
        )
        chain.taken_up(fi)
        d = res.decision
        if d is not None and d.text_adopted is not None:
            self.text_records.append((self.forum_names[fi], self.steps, d.text_adopted, d.voted))
        for j, cohesion, share in res.blocs:
            bloc = self.forums[fi].blocs[j]
            self.bloc_records.append((self.forum_names[fi], self.steps, bloc, cohesion, share))
        if res.decided:
            if chain.parent[fi] is not None:  # a recommendation to the parent, not policy
                won = agenda[res.adopted]
                chain.recommend(fi, won, res.outcome[res.adopted])
            else:
                soft_law_weight = self.config.behaviour.soft_law_weight
                settled = enact(self.policy, res, self.links[fi], soft_law_weight, chain.final[fi])
                self.adopted_ever[settled] = True
        self.decisions += int(res.decided)
        self.messages[fi, agenda] = res.message(self.messages[fi, agenda])
        adapt(self.pop, fi, res, before, self.links[fi], self.config.behaviour)
        self._record(fi, res, before)
        return res

    def _decide_mandate(self, fi: int, mandate, year: int) -> None:
        """Forum ``fi`` decides a pending mandate; adopted, its links take effect."""
        roles = self.roles(fi, year)
        mandate.adopted = decide_mandate(
            self.pop, roles, self.forums[fi], mandate, self.policy, self.config.behaviour,
            self.rng,
        )  # fmt: skip
        mandate.decided, mandate.step = True, self.steps
        if mandate.adopted:  # authority, reports, and the question on the target's agenda
            for link in mandate.links:
                apply_link(link, self.links[mandate.target], self.forum_names)
            t = mandate.target
            self.agendas[t] = np.union1d(self.agendas[t], [mandate.issue])

    # ----- measures ---------------------------------------------------------------
    def attainment(self) -> np.ndarray:
        """Per actor: 1 − salience-weighted distance of current policy from initial position.

        Initial positions and saliences never change during a run, so the result
        is cached until ``policy`` changes (most months no forum adopts anything).
        The returned array is read-only.
        """
        key = self.policy.tobytes()
        cache = self._attainment_cache
        if cache is None or cache[0] != key:
            if self._salience_total is None:  # saliences are fixed in a run
                self._salience_total = metrics.row_sums(self.pop.salience)
            att = metrics._attainment(
                self.policy, self.pop.position0, self.pop.salience, self._salience_total
            )
            att.flags.writeable = False
            gap = metrics.attainment_gap(att, self.pop.group, DEVELOPED, DEVELOPING)
            cache = self._attainment_cache = (key, att, gap)
        return cache[1]

    def attainment_gap(self) -> float:
        """Developed minus developing governments' mean attainment (the headline asymmetry)."""
        self.attainment()
        return self._attainment_cache[2]

    def policy_coverage(self) -> float:
        """Salience-weighted share of public-policy issues on which a forum with decision power
        (binding outcomes: by its nature or by a mandate) adopted an outcome."""
        key = self.adopted_ever.tobytes()  # cached until a binding adoption on a new issue
        if self._coverage_cache is None or self._coverage_cache[0] != key:
            value = metrics.policy_coverage(
                self.adopted_ever, self._mean_salience, self._public_policy
            )
            self._coverage_cache = (key, value)
        return self._coverage_cache[1]

    # ----- data -------------------------------------------------------------------
    # Rows go straight into the DataCollector's column lists (``datacollector.tables``),
    # a whole meeting or step at a time: the same tables ``add_table_row`` would fill,
    # without its per-row, per-column Python loop (docs/performance.md).
    def _collect(self) -> None:
        self.datacollector.collect(self)
        means = self._group_means
        if means is None or self._state_changed:
            # group means move only at meetings and at the new year; reuse them otherwise
            if self._group_codes is None:  # actors never change group during a run
                self._group_codes = groups = self.pop.group.astype(np.intp)
                self._group_count = np.maximum(np.bincount(groups, minlength=N_GROUPS), 1)
            groups, count = self._group_codes, self._group_count
            att = self.attainment()
            if self._att_total is None or self._att_total[0] is not att:  # new policy
                # metrics.group_totals without re-checking the model's own group codes
                total = np.bincount(groups, np.where(np.isnan(att), 0.0, att), N_GROUPS)
                self._att_total = (att, total)
            att_total = self._att_total[1]
            engagement = metrics.row_means(self.pop.engagement)
            eng_total = np.bincount(groups, engagement, N_GROUPS)
            exp_total = np.bincount(groups, self.pop.expertise, N_GROUPS)
            means = self._group_means = {
                "attainment": (att_total / count).tolist(),
                "engagement": (eng_total / count).tolist(),
                "expertise": (exp_total / count).tolist(),
            }
            self._state_changed = False
        _append_rows(
            self.datacollector.tables["groups"],
            {"step": [self.steps] * N_GROUPS, "group": list(GROUPS), **means},
        )

    def _record(self, fi: int, res: MeetingResult, policy_before: np.ndarray) -> None:
        self._state_changed = True  # the meeting moved engagement and expertise
        tables, name, step = self.datacollector.tables, self.forum_names[fi], self.steps
        g = self.pop.group[res.idx]
        present = res.present
        onsite, remote = (res.modes == ONSITE).astype(float), (res.modes == REMOTE).astype(float)
        # voice shares are finite and non-negative and group codes in range by construction,
        # so the unchecked paths of the measures apply (same arithmetic as the public ones)
        voice = np.asarray(res.voice, float)
        voice_present, g_present = voice[present], g[present].astype(np.intp)
        total, between, within = metrics._theil_parts(voice_present, g_present, N_GROUPS)
        n_adopted = int(res.adopted.sum())
        _append_rows(tables["meetings"], {
            "forum": [name], "step": [step], "year": [self.year], "month": [self.month],
            "host": [REGIONS[res.host]], "eligible": [len(res.idx)], "onsite": [int(onsite.sum())],
            "remote": [int(remote.sum())], "funded": [int(res.funded.sum())],
            "voice_gini": [metrics._gini(voice_present)], "voice_theil": [total],
            "theil_between": [between], "theil_within": [within], "agenda": [len(res.agenda)],
            "adopted": [n_adopted], "declined": [int(res.declined.sum())],
            "decisional": [res.decisional], "deadlocked": [res.decisional and n_adopted == 0],
            "host_country": [res.host_country],
            "onsite_delegates": [float(res.delegates[res.modes == ONSITE].sum())],
            "remote_delegates": [float(res.delegates[res.modes == REMOTE].sum())],
            "grants": [res.grants],
            "grant_uptake": [res.funded.sum() / res.grants if res.grants else float("nan")],
        })  # fmt: skip
        for table, key, codes, labels in (
            ("attendance", "group", g, GROUPS),
            ("regions", "region", self.pop.region[res.idx], REGIONS),
        ):
            rows = _breakdown(codes, len(labels), onsite, remote, voice)
            seen = rows.pop("seen")
            _append_rows(tables[table], {
                "forum": [name] * len(seen), "step": [step] * len(seen),
                key: [labels[c] for c in seen], **rows,
            })  # fmt: skip
        n_agenda, agenda = len(res.agenda), res.agenda
        _append_rows(tables["outcomes"], {
            "forum": [name] * n_agenda, "step": [step] * n_agenda,
            "issue": [self.issue_names[k] for k in agenda],
            "status_quo": policy_before[agenda].astype(float).tolist(),
            "proposal": np.asarray(res.proposal, float).tolist(),
            "outcome": np.asarray(res.outcome, float).tolist(),
            "adopted": np.asarray(res.adopted, bool).tolist(),
            "objections": np.asarray(res.objections).astype(int).tolist(),
            "declined": np.asarray(res.declined, bool).tolist(),
            "policy_after": self.policy[agenda].astype(float).tolist(),
        })  # fmt: skip

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tidy tables: steps, meetings, attendance (by group), regions, outcomes, groups."""
        dc = self.datacollector
        steps = dc.get_model_vars_dataframe().rename_axis("step").reset_index()
        out = {"steps": steps}
        for name in ("meetings", "attendance", "regions", "outcomes", "groups"):
            out[name] = dc.get_table_dataframe(name)
        return out

    def run(self) -> GovernanceModel:
        """Run to the horizon and return self (``GovernanceModel(...).run().tables()``)."""
        while self.running:
            self.step()
        return self
