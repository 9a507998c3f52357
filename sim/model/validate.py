"""Validation of a composed run config: everything the schema's types cannot check.

Rule names are checked against the registries in :mod:`sim.model.forums`, so a new
rule becomes valid by registering it, with no change here.
"""

from __future__ import annotations

from typing import Any

from sim.errors import ConfigError
from sim.model.config import GROUPS, INCOMES, ISSUE_KINDS, REGIONS, ROLES, GovsimConfig
from sim.model.forums import RULES
from sim.model.forums.blocs import BLOC_OBJECTION, bloc_members
from sim.model.forums.board import BOARD_DATA
from sim.model.forums.chain import TAKES_UP
from sim.model.forums.links import LINK_KINDS
from sim.model.forums.oversight import OVERSIGHT_KINDS
from sim.model.population import DEVELOPING_RULES


def _check_choice(key: str, value: str, allowed: Any) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; choose one of: {', '.join(allowed)}")


def _check_range(key: str, value: float, lo: float, hi: float) -> None:
    if not (lo <= value <= hi):
        raise ConfigError(f"{key}={value!r} is out of range; allowed: {lo} to {hi}")


def validate(cfg: GovsimConfig) -> GovsimConfig:
    """Check everything the schema's types cannot; raise :class:`ConfigError` on the first problem.

    Rule names are checked against the registries in :mod:`sim.model.forums`, so a new
    rule becomes valid by registering it, with no change here.
    """
    if cfg.years < 1:
        raise ConfigError(f"years={cfg.years} must be at least 1")
    if cfg.seed < 0:
        raise ConfigError(f"seed={cfg.seed} must be a non-negative integer")
    pop = cfg.population
    _check_choice("population.developing_rule", pop.developing_rule, DEVELOPING_RULES)
    for g, n in pop.counts.items():
        _check_choice(f"population.counts.{g}", g, GROUPS[2:])
        if n < 0:
            raise ConfigError(f"population.counts.{g}={n} must be >= 0")
    for g, mix in pop.region_mix.items():
        _check_choice("population.region_mix key", g, GROUPS[2:])
        for r, w in mix.items():
            _check_choice(f"population.region_mix.{g} key", r, REGIONS)
            if w < 0:
                raise ConfigError(f"population.region_mix.{g}.{r}={w} must be >= 0")
    if not cfg.issues:
        raise ConfigError("issues is empty; give at least one issue (see configs/issues/)")
    for name, issue in cfg.issues.items():
        _check_choice(f"issues.{name}.kind", issue.kind, ISSUE_KINDS)
        _check_range(f"issues.{name}.status_quo", issue.status_quo, 0.0, 1.0)
        for g, v in {**issue.position, **issue.salience}.items():
            _check_choice(f"issues.{name} group", g, GROUPS)
            _check_range(f"issues.{name}.{g}", v, 0.0, 1.0)
        missing = [g for g in GROUPS if g not in issue.position or g not in issue.salience]
        if missing:
            raise ConfigError(
                f"issues.{name} needs position and salience for every group; missing: {missing}"
            )
    if not cfg.forum:
        raise ConfigError("forum is empty; a scenario must include at least one forum")
    b = cfg.behaviour
    if b.logit_noise <= 0:
        raise ConfigError(f"behaviour.logit_noise={b.logit_noise} must be > 0")
    _check_range("behaviour.polarization", b.polarization, 0.0, 3.0)
    _check_range("behaviour.bloc_cohesion", b.bloc_cohesion, 0.0, 1.0)
    for name, f in cfg.forum.items():
        key = f"forum.{name}"
        for rule_kind, registry in RULES.items():
            _check_choice(f"{key}.{rule_kind}", getattr(f, rule_kind), registry)
        _check_choice(f"{key}.venue_type", f.venue_type, ("multilateral", "multistakeholder"))
        _check_choice(f"{key}.venue", f.venue, ("rotate", *REGIONS))
        for r in f.host_regions:
            _check_choice(f"{key}.host_regions", r, REGIONS)
        for g, role in f.roles.items():
            _check_choice(f"{key}.roles key", g, GROUPS)
            _check_choice(f"{key}.roles.{g}", role, ROLES)
        for r, n in f.seats.items():
            _check_choice(f"{key}.seats key", r, REGIONS)
            if n < 0:
                raise ConfigError(f"{key}.seats.{r}={n} must be >= 0")
        for g in f.group_seats:
            _check_choice(f"{key}.group_seats key", g, GROUPS)
        for g in f.board_seats:
            _check_choice(f"{key}.board_seats key", g, GROUPS)
        if f.board_data:
            _check_choice(f"{key}.board_data", f.board_data, BOARD_DATA)
        _check_choice(f"{key}.oversight", f.oversight, OVERSIGHT_KINDS)
        if f.oversight != "none" and f.ratification != "board_vote_overseen":
            raise ConfigError(
                f"{key}.oversight={f.oversight} needs {key}.ratification=board_vote_overseen"
            )
        if f.board_noise < 0:
            raise ConfigError(f"{key}.board_noise={f.board_noise} must be >= 0")
        for issue in f.scope_issues:
            _check_choice(f"{key}.scope_issues", issue, cfg.issues)
        if f.scope == "listed" and not f.scope_issues:
            raise ConfigError(f"{key}.scope=listed needs {key}.scope_issues (issue names)")
        for m in f.meeting_months:
            _check_range(f"{key}.meeting_months", m, 1, 12)
        if not f.meeting_months:
            raise ConfigError(f"{key}.meeting_months is empty; give at least one month 1-12")
        for p in f.support_priority:
            _check_choice(f"{key}.support_priority", p, ("sids", "ldc", *INCOMES))
        for g in f.support_groups:
            _check_choice(f"{key}.support_groups", g, GROUPS)
        _check_range(f"{key}.authority", f.authority, 0.0, 1.0)
        _check_range(f"{key}.threshold", f.threshold, 0.0, 1.0)
        _check_range(f"{key}.supermajority", f.supermajority, 0.0, 1.0)
        _check_range(f"{key}.remote_voice", f.remote_voice, 0.0, 1.0)
        _check_range(f"{key}.participant_voice", f.participant_voice, 0.0, 1.0)
        _check_range(f"{key}.confidence", f.confidence, 0.0, 1.0)
        # negotiation (issue 14): texts, chains, blocs
        _check_choice(f"{key}.takes_up", f.takes_up, TAKES_UP)
        _check_choice(f"{key}.bloc_objection", f.bloc_objection, BLOC_OBJECTION)
        for bloc in f.blocs:
            _check_choice(f"{key}.blocs", bloc, bloc_members())
        for issue in f.package_required:
            _check_choice(f"{key}.package_required", issue, cfg.issues)
        _check_range(f"{key}.vote_request", f.vote_request, 0.0, 1.0)
        if f.bloc_voice < 0:
            raise ConfigError(f"{key}.bloc_voice={f.bloc_voice} must be >= 0")
        if f.funded_slots < 0:
            raise ConfigError(f"{key}.funded_slots={f.funded_slots} must be >= 0")
        if f.term_years < 1 or f.cohorts < 1 or f.term_years % f.cohorts:
            raise ConfigError(
                f"{key}.term_years={f.term_years} must be >= 1 and divisible by "
                f"{key}.cohorts={f.cohorts}"
            )
    for name, link in cfg.links.items():
        _check_choice(f"links.{name}.kind", link.kind, LINK_KINDS)
        _check_choice(f"links.{name}.target", link.target, cfg.forum)
        if link.kind in ("feeds", "recommends"):
            _check_choice(f"links.{name}.source", link.source, cfg.forum)
        _check_range(f"links.{name}.weight", link.weight, 0.0, 1.0)
        if link.decided_by:
            _check_choice(f"links.{name}.decided_by", link.decided_by, cfg.forum)
            _check_choice(f"links.{name}.issue", link.issue, cfg.issues)
            _check_range(f"links.{name}.stance", link.stance, 0.0, 1.0)
    parents = [(v.source, v.target) for v in cfg.links.values() if v.kind == "recommends"]
    sources = [s for s, _ in parents]
    for s in set(sources):
        if sources.count(s) > 1:
            raise ConfigError(f"links: forum {s!r} recommends to more than one parent")
    return cfg
