"""Validation of a composed run config: everything the schema's types cannot check.

One place, used by every way into a run (``govsim run`` and its multiruns, studies,
the dashboard, ``GovernanceModel(...)``):

1. :data:`RANGES` -- a declarative table giving every numeric field of the schema its
   allowed range (finite, sign, upper bound). ``tests/test_fuzz.py`` checks that the
   table covers every ``int``/``float`` field, so a new field cannot go unchecked.
2. :data:`REQUIRED_KEYS` -- tables keyed by group, region, income or role must name
   every one of them (the model looks each up).
3. Rule names against the registries in :mod:`sim.model.forums` (a new rule becomes
   valid by registering it, with no change here).
4. Cross-field checks: seats against the states a region has, cohorts against the
   term, a rotating venue needs host regions, a forum needs someone to take part (and
   members, if it decides), the forum's years within the horizon.

Every problem raises :class:`~sim.errors.ConfigError` with one line naming the key,
the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from sim.errors import ConfigError
from sim.model import venue
from sim.model.config import (
    GROUPS,
    INCOMES,
    ISSUE_KINDS,
    REGIONS,
    ROLES,
    GovsimConfig,
    field_hints,
)
from sim.model.forums import RULES, describe
from sim.model.forums.attendance import REMOTE_ACCESS
from sim.model.forums.blocs import BLOC_OBJECTION, bloc_members
from sim.model.forums.board import BOARD_DATA
from sim.model.forums.chain import TAKES_UP
from sim.model.forums.links import LINK_KINDS
from sim.model.forums.oversight import OVERSIGHT_KINDS
from sim.model.population import DEVELOPING_RULES, member_states

MAX_YEARS = 200
"""Longest horizon a run accepts (2,400 monthly steps). ASSUMPTION: the questions govsim
asks span decades (WSIS 2005 to WSIS+20 in 2025 is 20 years); 200 years is ten times that
and still finishes in minutes at default size, while ``years=100000000`` would run for
weeks with no output."""

MAX_ACTORS = 1_000_000
"""Most synthetic actors of one kind (``population.counts.*``, ``population.extra_actors``).
docs/performance.md measures up to 10^5 extra actors; 10^6 is the largest that fits the
arrays in a few GB."""

MAX_COHORTS = 100
"""Seat cohorts are stored as int8 codes (``sim.model.forums.membership``): at most 127."""

MAX_ROUNDS = 1_000
"""Deliberation and concession rounds per meeting (defaults 3); more is never meant."""

MAX_SEATS = 10_000
"""Seats of one kind in a forum (the largest real body modelled has 193 states)."""


@dataclass(frozen=True)
class Range:
    """Allowed values of a numeric field: ``lo <= v <= hi`` (or ``<`` where open), finite."""

    lo: float
    hi: float
    lo_open: bool = False
    integer: bool = False

    def allows(self, v: float) -> bool:
        if not math.isfinite(v):
            return False
        return (self.lo < v if self.lo_open else self.lo <= v) and v <= self.hi

    def text(self) -> str:
        kind = "a whole number" if self.integer else "a finite number"
        if self.lo_open:
            return f"{kind} above {_num(self.lo)} and at most {_num(self.hi)}"
        return f"{kind} from {_num(self.lo)} to {_num(self.hi)}"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


UNIT = Range(0.0, 1.0)
"""Shares, probabilities, positions on an issue, rates per meeting."""
NONNEG = Range(0.0, 1e6)
"""Non-negative scales and weights. ASSUMPTION: 10^6 bounds any meaningful scale."""

RANGES: dict[str, Range] = {
    # the run
    "seed": Range(0, 2**63 - 1, integer=True),  # numpy SeedSequence entropy
    "years": Range(1, MAX_YEARS, integer=True),
    "first_year": Range(1900, 2200, integer=True),
    # population (docs/ODD.md, initialisation)
    "population.counts.*": Range(0, MAX_ACTORS, integer=True),
    "population.region_mix.*.*": NONNEG,  # relative weights, normalised per group
    "population.income_factor.*": NONNEG,
    "population.population_elasticity": Range(-5.0, 5.0),
    "population.government_sigma": Range(0.0, 5.0),  # log-normal sd; 5 spans e^±10
    "population.nonstate.*.median": Range(0.0, 1e6, lo_open=True),
    "population.nonstate.*.sigma": Range(0.0, 5.0),
    "population.region_factor.*": NONNEG,
    "population.capacity_scale": Range(0.0, 1e6, lo_open=True),
    "population.capacity_exponent": Range(0.0, 5.0),
    "population.max_delegation": Range(1.0, 1e6),  # capacity is clipped to [1, max_delegation]
    "population.expertise.*": UNIT,
    "population.multistakeholder_preference.*": UNIT,
    "population.stubbornness.*": UNIT,
    "population.initial_engagement": UNIT,
    "population.extra_actors": Range(0, MAX_ACTORS, integer=True),
    # host countries' local organisations (issue 13; sim.model.venue.local_counts)
    "population.local_counts.*": Range(0.0, 1e4),
    "population.local_scale": NONNEG,
    "population.local_elasticity": Range(-5.0, 5.0),
    # issues: positions run from 0 to 1 (sim.model.config)
    "issues.*.status_quo": UNIT,
    "issues.*.position.*": UNIT,
    "issues.*.salience.*": UNIT,
    "issues.*.spread": UNIT,
    # behaviour (utility per meeting; docs/ODD.md, submodels)
    "behaviour.logit_noise": Range(0.0, 1e3, lo_open=True),
    "behaviour.benefit_scale": NONNEG,
    "behaviour.networking_value": NONNEG,
    "behaviour.travel_cost_scale": NONNEG,
    "behaviour.cost_aversion": NONNEG,
    "behaviour.remote_cost": NONNEG,
    "behaviour.remote_cost_trend": Range(-1.0, 1.0),
    "behaviour.remote_cost_year": Range(1900, 2200, integer=True),
    "behaviour.timezone_penalty": NONNEG,
    "behaviour.polarization": Range(0.0, 3.0),
    "behaviour.engagement_rate": UNIT,
    "behaviour.expertise_gain": UNIT,
    "behaviour.expertise_decay": UNIT,
    "behaviour.objection_tolerance": UNIT,
    "behaviour.reservation": UNIT,
    "behaviour.concession_step": UNIT,
    "behaviour.soft_law_weight": UNIT,
    "behaviour.role_influence.*": NONNEG,
    # venue, distance and delegation size (issue 13; sim.model.venue)
    "behaviour.distance_exponent": Range(0.0, 5.0),
    "behaviour.local_cost": UNIT,
    "behaviour.mission_cost": UNIT,
    "behaviour.mission_duty": Range(0.0, 10.0),
    "behaviour.home_capacity": Range(0.0, 1e3),
    "behaviour.host_delegation": Range(0.0, 1e4),
    "behaviour.host_elasticity": Range(0.0, 2.0),
    "behaviour.delegation_returns": UNIT,
    # forums (sim.model.forums; facts in the forum configs)
    "forum.*.authority": UNIT,
    "forum.*.start_year": Range(1, MAX_YEARS, integer=True),
    "forum.*.end_year": Range(0, MAX_YEARS, integer=True),  # 0: until the horizon
    "forum.*.max_meetings": Range(0, 12 * MAX_YEARS, integer=True),  # 0: no limit
    "forum.*.seats.*": Range(0, MAX_SEATS, integer=True),  # and <= the region's states
    "forum.*.group_seats.*": Range(0, MAX_SEATS, integer=True),
    "forum.*.term_years": Range(1, MAX_YEARS, integer=True),
    "forum.*.cohorts": Range(1, MAX_COHORTS, integer=True),
    "forum.*.participant_voice": UNIT,
    "forum.*.meeting_months[]": Range(1, 12, integer=True),
    "forum.*.remote_voice": UNIT,
    "forum.*.remote_fixed_cost": Range(0.0, 100.0),
    "forum.*.funded_slots": Range(0, MAX_ACTORS, integer=True),
    "forum.*.confidence": UNIT,
    "forum.*.rounds": Range(0, MAX_ROUNDS, integer=True),
    "forum.*.threshold": UNIT,
    "forum.*.concession_rounds": Range(0, MAX_ROUNDS, integer=True),
    "forum.*.blocking_objections": Range(1, MAX_SEATS, integer=True),
    "forum.*.board_seats.*": Range(0, MAX_SEATS, integer=True),
    "forum.*.supermajority": UNIT,
    "forum.*.board_deference": UNIT,
    # the board by its bylaws and the IANA chain (issue 15; sim.model.forums.board, oversight)
    "forum.*.board_term_years": Range(0, MAX_YEARS, integer=True),  # 0: never changes
    "forum.*.board_noise": Range(0.0, 10.0),
    "forum.*.oversight_tolerance": UNIT,
    "forum.*.oversight_support": Range(0, 5, integer=True),  # five decisional participants
    "forum.*.oversight_max_objecting": Range(0, 5, integer=True),
    "links.*.weight": UNIT,
    # negotiation (issue 14; sim.model.forums.decision, blocs, chain)
    "forum.*.vote_request": UNIT,
    "forum.*.bloc_voice": NONNEG,
    "links.*.stance": UNIT,
    "behaviour.bloc_cohesion": UNIT,
}
"""Allowed range of every numeric field, by dotted path (``*``: any key of a table,
``[]``: every item of a list)."""

REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "population.income_factor": INCOMES,
    "population.region_factor": REGIONS,
    "population.nonstate": GROUPS[2:],
    "population.expertise": GROUPS,
    "population.multistakeholder_preference": GROUPS,
    "population.stubbornness": GROUPS,
    "behaviour.role_influence": ROLES,
}
"""Tables the model looks up by every group, region, income or role."""

DECISIONAL_NONE = "none"


def _check_choice(key: str, value: Any, allowed: Any) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; choose one of: {', '.join(allowed)}")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _hint_kind(hint: Any) -> str | None:
    """'int', 'float', 'dataclass', 'dict', 'list' or None for a field's type hint."""
    if hint is int:
        return "int"
    if hint is float:
        return "float"
    if dataclasses.is_dataclass(hint):
        return "dataclass"
    origin = typing.get_origin(hint)
    if origin is dict:
        return "dict"
    if origin is list:
        return "list"
    return None


def numeric_fields(cls: type = GovsimConfig, prefix: str = "") -> dict[str, type]:
    """Every numeric field of the schema as a :data:`RANGES` pattern -> ``int`` or ``float``."""
    out: dict[str, type] = {}

    def walk(hint: Any, path: str) -> None:
        kind = _hint_kind(hint)
        if kind in ("int", "float"):
            out[path] = hint
        elif kind == "dataclass":
            for name, h in field_hints(hint).items():
                walk(h, f"{path}.{name}" if path else name)
        elif kind == "dict":
            walk(typing.get_args(hint)[1], f"{path}.*")
        elif kind == "list":
            walk(typing.get_args(hint)[0], f"{path}[]")

    walk(cls, prefix)
    return out


@cache
def _kind_of(hint: Any) -> tuple[str | None, Any]:
    """:func:`_hint_kind` of a hint and, for a dict or list, the hint of its values."""
    kind = _hint_kind(hint)
    if kind == "dict":
        return kind, typing.get_args(hint)[1]
    if kind == "list":
        return kind, typing.get_args(hint)[0]
    return kind, None


def _leaves(obj: Any, hint: Any, path: str, pattern: str, visit: Callable) -> None:
    """Call ``visit(path, pattern, value, type)`` on every numeric value in ``obj`` (typed
    by ``hint``), in schema order.

    Plain recursion with each hint's kind found once per process: this runs over ~1,500
    values per config, once per run of a study.
    """
    kind, inner = _kind_of(hint)
    if kind in ("int", "float"):
        visit(path, pattern, obj, hint)
    elif kind == "dataclass":
        if not dataclasses.is_dataclass(obj):
            raise ConfigError(f"{path}={_short(obj)} must be a table of {hint.__name__} keys")
        for name, h in field_hints(type(obj)).items():
            sub = f"{path}.{name}" if path else name
            pat = f"{pattern}.{name}" if pattern else sub
            _leaves(getattr(obj, name), h, sub, pat, visit)
    elif kind == "dict":
        if not isinstance(obj, dict):
            raise ConfigError(f"{path}={_short(obj)} must be a table (key: value)")
        for k, v in obj.items():
            _leaves(v, inner, f"{path}.{k}", f"{pattern}.*", visit)
    elif kind == "list":
        if not isinstance(obj, list | tuple):
            raise ConfigError(f"{path}={_short(obj)} must be a list")
        for v in obj:
            _leaves(v, inner, path, f"{pattern}[]", visit)


def _short(v: Any, limit: int = 60) -> str:
    text = repr(v)
    return text if len(text) <= limit else f"{text[: limit - 20]}…{text[-10:]}"


def check_ranges(cfg: GovsimConfig) -> None:
    """Every numeric value against :data:`RANGES` (type, finiteness, bounds)."""

    def check(path: str, pattern: str, value: Any, kind: type) -> None:
        rng = RANGES[pattern]
        if not _is_number(value) or (kind is int and not float(value).is_integer()):
            raise ConfigError(f"{path}={_short(value)} is not allowed; allowed: {rng.text()}")
        if not rng.allows(float(value)):
            raise ConfigError(f"{path}={_short(value)} is out of range; allowed: {rng.text()}")

    _leaves(cfg, GovsimConfig, "", "", check)


def pattern_of(key: str) -> str | None:
    """The :data:`RANGES` pattern a concrete dotted key falls under (None: not numeric)."""
    parts = key.split(".")
    for pattern in RANGES:
        pp = pattern.removesuffix("[]").split(".")
        if len(pp) == len(parts) and all(a in ("*", b) for a, b in zip(pp, parts, strict=True)):
            return pattern
    return None


def check_value(key: str, value: Any) -> None:
    """Check one override's value against :data:`RANGES` before composing (fast, partial).

    Only numbers are judged (non-finite or out of range); anything else is left to the
    full :func:`validate` after composition, so this never rejects what it would accept.
    A table value (``forum.igf={authority: 5}``) is checked key by key.
    """
    if isinstance(value, dict):
        for k, v in value.items():
            check_value(f"{key}.{k}", v)
        return
    pattern = pattern_of(key)
    if pattern is None:
        return
    rng = RANGES[pattern]
    items = value if pattern.endswith("[]") and isinstance(value, list) else [value]
    for v in items:
        if _is_number(v) and not rng.allows(float(v)):
            raise ConfigError(f"{key}={_short(v)} is out of range; allowed: {rng.text()}")


@cache
def states_per_region() -> dict[str, int]:
    """UN member states per regional group (sim/data/un_member_states.csv)."""
    counts = member_states()["un_regional_group"].value_counts()
    return {r: int(counts.get(r, 0)) for r in REGIONS}


@cache
def _iso3_region() -> dict[str, str]:
    states = member_states()
    return dict(zip(states["iso3"], states["un_regional_group"], strict=True))


@cache
def _governments(rule_name: str) -> dict[str, int]:
    """Developed and developing governments under a developing rule."""
    states = member_states()
    income = states["wb_income_group"].map(INCOMES.index).to_numpy(np.int8)
    developing = int(DEVELOPING_RULES[rule_name](income).sum())
    return {"developed_gov": len(states) - developing, "developing_gov": developing}


def group_sizes(cfg: GovsimConfig) -> dict[str, int]:
    """Actors per group as :func:`sim.model.population.build_population` draws them."""
    pop = cfg.population
    sizes = dict(_governments(pop.developing_rule))
    counts = {g: int(pop.counts.get(g, 0)) for g in GROUPS[2:]}
    total = sum(counts.values())
    for g, n in counts.items():
        extra = round(pop.extra_actors * n / total) if total else 0
        sizes[g] = n + extra
    return sizes


def _check_forum(cfg: GovsimConfig, name: str, sizes: dict[str, int]) -> None:
    f = cfg.forum[name]
    key = f"forum.{name}"
    for rule_kind, registry in RULES.items():
        _check_choice(f"{key}.{rule_kind}", getattr(f, rule_kind), registry)
    _check_choice(f"{key}.venue_type", f.venue_type, ("multilateral", "multistakeholder"))
    _check_choice(f"{key}.venue", f.venue, ("rotate", *REGIONS))
    _check_choice(f"{key}.remote_access", f.remote_access, REMOTE_ACCESS)
    for r in f.host_regions:
        _check_choice(f"{key}.host_regions", r, REGIONS)
    if f.venue == "rotate" and not f.host_regions:
        raise ConfigError(
            f"{key}.host_regions is empty but {key}.venue=rotate; give at least one of: "
            f"{', '.join(REGIONS)} (or a fixed venue)"
        )
    for g, role in f.roles.items():
        _check_choice(f"{key}.roles key", g, GROUPS)
        _check_choice(f"{key}.roles.{g}", role, ROLES)
    # host countries (ISO3 of UN member states), calendars, mission cities (issue 13)
    for iso3 in [f.host_country] * bool(f.host_country) + list(f.host_countries):
        _check_choice(f"{key}.host_country", iso3, venue.member_iso3())
    if f.host_calendar:
        _check_choice(f"{key}.host_calendar", f.host_calendar, venue.CALENDARS)
    if f.mission_city:
        _check_choice(f"{key}.mission_city", f.mission_city, venue.MISSION_CITIES)
    # negotiation (issue 14): texts, chains, blocs
    _check_choice(f"{key}.takes_up", f.takes_up, TAKES_UP)
    _check_choice(f"{key}.bloc_objection", f.bloc_objection, BLOC_OBJECTION)
    for bloc in f.blocs:
        _check_choice(f"{key}.blocs", bloc, bloc_members())
    for issue in f.package_required:
        _check_choice(f"{key}.package_required", issue, cfg.issues)
    # the ratifying board by its bylaws and the IANA chain (issue 15)
    if f.board_data:
        _check_choice(f"{key}.board_data", f.board_data, BOARD_DATA)
    _check_choice(f"{key}.oversight", f.oversight, OVERSIGHT_KINDS)
    if f.oversight != "none" and f.ratification != "board_vote_overseen":
        raise ConfigError(
            f"{key}.oversight={f.oversight} needs {key}.ratification=board_vote_overseen"
        )
    region_of = _iso3_region()
    for iso in f.fixed_members:
        _check_choice(f"{key}.fixed_members", iso, sorted(region_of))
    if len(set(f.fixed_members)) != len(f.fixed_members):
        raise ConfigError(f"{key}.fixed_members={f.fixed_members} names a state twice")
    states = states_per_region()
    for r, n in f.seats.items():
        _check_choice(f"{key}.seats key", r, REGIONS)
        fixed = sum(region_of[i] == r for i in f.fixed_members)
        if n + fixed > states[r]:
            extra = f" besides {fixed} fixed member(s)" if fixed else ""
            raise ConfigError(
                f"{key}.seats.{r}={n} is more than the region's {states[r] - fixed} eligible "
                f"states{extra}; allowed: 0 to {states[r] - fixed}"
            )
    for table in ("group_seats", "board_seats"):
        # more seats than a group has actors seats the whole group (a shrunken population
        # for a quick look keeps the forum's seat numbers), so only the keys are checked
        for g in getattr(f, table):
            _check_choice(f"{key}.{table} key", g, GROUPS)
    if (
        "board_seats" in describe("ratification", f.ratification).params
        and sum(f.board_seats.values()) < 1
    ):
        raise ConfigError(f"{key}.ratification=board needs {key}.board_seats (at least one seat)")
    for issue in f.scope_issues:
        _check_choice(f"{key}.scope_issues", issue, cfg.issues)
    if f.scope == "listed" and not f.scope_issues:
        raise ConfigError(f"{key}.scope=listed needs {key}.scope_issues (issue names)")
    if not f.meeting_months:
        raise ConfigError(f"{key}.meeting_months is empty; give at least one month 1-12")
    if len(set(f.meeting_months)) != len(f.meeting_months):
        raise ConfigError(f"{key}.meeting_months={f.meeting_months} names a month twice")
    for p in f.support_priority:
        _check_choice(f"{key}.support_priority", p, ("sids", "ldc", *INCOMES))
    for g in f.support_groups:
        _check_choice(f"{key}.support_groups", g, GROUPS)
    if f.term_years % f.cohorts:
        raise ConfigError(
            f"{key}.term_years={f.term_years} must be divisible by {key}.cohorts={f.cohorts} "
            f"(cohorts: 1 to {min(f.term_years, MAX_COHORTS)}, dividing the term)"
        )
    if f.start_year > cfg.years:
        raise ConfigError(
            f"{key}.start_year={f.start_year} is after the horizon years={cfg.years}: the forum "
            f"would never meet; allowed: 1 to {cfg.years}"
        )
    if f.end_year and f.end_year < f.start_year:
        raise ConfigError(
            f"{key}.end_year={f.end_year} is before {key}.start_year={f.start_year}: the forum "
            f"would never meet; allowed: 0 (until the horizon) or {f.start_year} to {MAX_YEARS}"
        )
    seated = sum(f.seats.values()) + sum(f.group_seats.values()) + len(f.fixed_members)
    has_seats = f.membership != "open" and seated > 0
    roles = {f.roles.get(g, "none") for g in GROUPS if sizes[g] > 0}
    if not has_seats and roles <= {"none"}:
        raise ConfigError(
            f"{key} has no one to take part: every group's role is none and no seats; set "
            f"{key}.roles.GROUP to one of: {', '.join(ROLES[1:])}"
        )
    if f.decision != DECISIONAL_NONE and not has_seats and "member" not in roles:
        raise ConfigError(
            f"{key}.decision={f.decision} needs members, but no group's role is member and no "
            f"seats are given; set {key}.roles.GROUP=member, seats, or {key}.decision=none"
        )


def validate(cfg: GovsimConfig) -> GovsimConfig:
    """Check everything the schema's types cannot; raise :class:`ConfigError` on the first problem.

    Rule names are checked against the registries in :mod:`sim.model.forums`, so a new
    rule becomes valid by registering it, with no change here.
    """
    if not isinstance(cfg, GovsimConfig):
        raise ConfigError(f"a run config must be a GovsimConfig, not {type(cfg).__name__}")
    check_ranges(cfg)
    pop = cfg.population
    _check_choice("population.developing_rule", pop.developing_rule, DEVELOPING_RULES)
    for table, names in REQUIRED_KEYS.items():
        section, attr = table.split(".")
        keys = getattr(getattr(cfg, section), attr)
        missing = [k for k in names if k not in keys]
        if missing:
            raise ConfigError(f"{table} needs a value for every one of {', '.join(names)}; "
                              f"missing: {', '.join(missing)}")  # fmt: skip
        for k in keys:
            _check_choice(f"{table} key", k, names)
    for g in pop.counts:
        _check_choice(f"population.counts.{g}", g, GROUPS[2:])
    for g, mix in pop.region_mix.items():
        _check_choice("population.region_mix key", g, GROUPS[2:])
        for r in mix:
            _check_choice(f"population.region_mix.{g} key", r, REGIONS)
        if mix and sum(mix.values()) <= 0:
            raise ConfigError(f"population.region_mix.{g} weights sum to 0; give some region a "
                              "positive weight")  # fmt: skip
    sizes = group_sizes(cfg)
    if not cfg.issues:
        raise ConfigError("issues is empty; give at least one issue (see configs/issues/)")
    for name, issue in cfg.issues.items():
        _check_choice(f"issues.{name}.kind", issue.kind, ISSUE_KINDS)
        for g in {**issue.position, **issue.salience}:
            _check_choice(f"issues.{name} group", g, GROUPS)
        missing = [g for g in GROUPS if g not in issue.position or g not in issue.salience]
        if missing:
            raise ConfigError(
                f"issues.{name} needs position and salience for every group; missing: {missing}"
            )
    if not cfg.forum:
        raise ConfigError("forum is empty; a scenario must include at least one forum")
    for name in cfg.forum:
        _check_forum(cfg, name, sizes)
    for name, link in cfg.links.items():
        _check_choice(f"links.{name}.kind", link.kind, LINK_KINDS)
        _check_choice(f"links.{name}.target", link.target, cfg.forum)
        if link.kind in ("feeds", "recommends"):
            _check_choice(f"links.{name}.source", link.source, cfg.forum)
            if link.source == link.target:
                raise ConfigError(f"links.{name} feeds forum {link.target!r} into itself")
        if link.decided_by:
            _check_choice(f"links.{name}.decided_by", link.decided_by, cfg.forum)
            _check_choice(f"links.{name}.issue", link.issue, cfg.issues)
    parents = [(v.source, v.target) for v in cfg.links.values() if v.kind == "recommends"]
    sources = [s for s, _ in parents]
    for s in set(sources):
        if sources.count(s) > 1:
            raise ConfigError(f"links: forum {s!r} recommends to more than one parent")
    return cfg
