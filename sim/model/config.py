"""The configuration schema: structured configs, registered with Hydra, validated once.

Every knob of a run lives in :class:`GovsimConfig`. Hydra composes the YAML
files under ``configs/`` onto these dataclasses, so a misspelt key is rejected
by OmegaConf before anything runs; :func:`validate` then checks what types
cannot (rule names against the registries, ranges, quotas against the
population) and raises :class:`ConfigError` naming the key and the allowed
values.

Positions on every issue run from 0 to 1; by convention 0 is the
market-led / multistakeholder end and 1 the binding intergovernmental end.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.errors import ConfigError  # noqa: F401  (re-exported: sim.model.config.ConfigError)

GROUPS = ("developed_gov", "developing_gov", "business", "civil_society", "technical", "igo")
"""Stakeholder groups, in the order of the integer group codes used in the arrays."""

GROUP_LABELS = {
    "developed_gov": "developed governments",
    "developing_gov": "developing governments",
    "business": "business",
    "civil_society": "civil society",
    "technical": "technical community",
    "igo": "intergovernmental organisations",
    "governments": "governments",
}
"""Readable names of the groups, for tables, figures and the dashboard."""

REGIONS = ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG")
"""UN regional groups, in the order of the integer region codes."""

INCOMES = ("low", "lower-middle", "upper-middle", "high", "unclassified")
"""World Bank income groups (FY2025), in the order of the integer income codes."""

ROLES = ("none", "observer", "participant", "member")
"""Roles in a forum: observers listen, participants speak, members speak and decide."""

ISSUE_KINDS = ("public_policy", "technical")

MODES = ("none", "remote", "onsite")


def _by_group(**values: float) -> dict[str, float]:
    return {g: float(values[g]) for g in GROUPS}


@dataclass
class ResourceConfig:
    """Yearly participation budget of one stakeholder group (budget units per year).

    Governments: ``income_factor[income] * (population / 10M) ** population_elasticity``
    times log-normal noise. Non-state actors: log-normal with median ``median`` and
    log-sd ``sigma`` (heavy right tail), times ``region_factor[region]``.
    """

    median: float = 1.0
    sigma: float = 0.8


@dataclass
class PopulationConfig:
    """Who exists: 193 governments from the bundled UN table plus synthetic non-state actors."""

    developing_rule: str = "not_high_income"
    counts: dict[str, int] = field(
        default_factory=lambda: {"business": 120, "civil_society": 160, "technical": 60, "igo": 20}
    )
    region_mix: dict[str, dict[str, float]] = field(default_factory=dict)
    income_factor: dict[str, float] = field(
        default_factory=lambda: {
            "low": 1.0,
            "lower-middle": 1.5,
            "upper-middle": 3.0,
            "high": 8.0,
            "unclassified": 1.5,
        }
    )
    population_elasticity: float = 0.2
    government_sigma: float = 0.3
    nonstate: dict[str, ResourceConfig] = field(
        default_factory=lambda: {
            "business": ResourceConfig(median=2.0, sigma=1.2),
            "civil_society": ResourceConfig(median=0.5, sigma=0.8),
            "technical": ResourceConfig(median=1.0, sigma=0.8),
            "igo": ResourceConfig(median=2.0, sigma=0.5),
        }
    )
    region_factor: dict[str, float] = field(
        default_factory=lambda: {
            "African": 0.6,
            "Asia-Pacific": 1.0,
            "Eastern European": 1.0,
            "GRULAC": 0.8,
            "WEOG": 1.5,
        }
    )
    capacity_scale: float = 2.0
    capacity_exponent: float = 0.6
    max_delegation: float = 50.0
    expertise: dict[str, float] = field(
        default_factory=lambda: _by_group(
            developed_gov=0.6,
            developing_gov=0.4,
            business=0.6,
            civil_society=0.45,
            technical=0.75,
            igo=0.6,
        )
    )
    multistakeholder_preference: dict[str, float] = field(
        default_factory=lambda: _by_group(
            developed_gov=0.6,
            developing_gov=0.35,
            business=0.85,
            civil_society=0.7,
            technical=0.85,
            igo=0.45,
        )
    )
    stubbornness: dict[str, float] = field(
        default_factory=lambda: _by_group(
            developed_gov=0.8,
            developing_gov=0.8,
            business=0.7,
            civil_society=0.6,
            technical=0.6,
            igo=0.5,
        )
    )
    initial_engagement: float = 0.6
    extra_actors: int = 0
    """Synthetic non-state actors added on top of ``counts`` (split like them); for scale tests."""
    # --- host countries and local participants (issue 13; sim/model/forums/venue.py) ---
    local_counts: dict[str, float] = field(
        default_factory=lambda: {"business": 3.0, "civil_society": 4.0, "technical": 2.0}
    )
    """Local organisations of a host country of 10 million people, per group (host-size rule:
    ``round(local_counts[g] * local_scale * (population / 10M) ** local_elasticity)``, at
    least 1). ASSUMPTION, scaled by ``local_scale`` (calibrated) so that the host country
    makes ~40% of onsite participants (sourced range 25-56%: sim/data/distance_rule.SOURCES.md)."""
    local_scale: float = 1.0
    local_elasticity: float = 0.3
    """ASSUMPTION (range 0.2-0.5): larger hosts field more local organisations, less than
    proportionally (Hyderabad 2008: India 56% of onsite participants)."""


@dataclass
class IssueConfig:
    """One policy issue: its kind, the current policy (status quo) and group positions."""

    kind: str = "public_policy"
    label: str = ""
    status_quo: float = 0.3
    position: dict[str, float] = field(default_factory=dict)
    salience: dict[str, float] = field(default_factory=dict)
    spread: float = 0.12


@dataclass
class BehaviourConfig:
    """How actors decide to attend, learn and object. Units: utility per meeting."""

    logit_noise: float = 0.15
    benefit_scale: float = 1.0
    networking_value: float = 0.3
    travel_cost_scale: float = 0.1
    cost_aversion: float = 2.0
    remote_cost: float = 0.05
    remote_cost_trend: float = 0.0
    """Calendar time in remote participation: the remote cost in calendar year ``y`` is
    ``remote_cost * exp(remote_cost_trend * (y - remote_cost_year))`` (negative: joining
    remotely gets cheaper; :func:`sim.model.forums.attendance.remote_cost_in`). 0 by default
    and in every shipped config (no calendar time): fitted on the IGF meetings of 2014-2017
    it lost on fresh streams (docs/participation.md §2.0). ASSUMPTION, range -0.3 to 0.3
    per year."""
    remote_cost_year: int = 2014
    """The calendar year in which the remote cost is ``remote_cost`` (Istanbul 2014, the
    first fitted meeting with a registered remote count)."""
    timezone_penalty: float = 0.5
    polarization: float = 1.0
    engagement_rate: float = 0.2
    expertise_gain: float = 0.05
    expertise_decay: float = 0.05
    objection_tolerance: float = 0.05
    reservation: float = 0.2
    """Largest salience-weighted distance to a proposal a member accepts (else it objects).
    ASSUMPTION, range 0.15-0.35; 0.2 (was 0.3) is what the 2005-2025 replay needs for
    neither WGEC to adopt a report (docs/ODD.md, "History replay")."""
    concession_step: float = 0.25
    soft_law_weight: float = 0.5
    # --- negotiation (issue 14): blocs ---------------------------------------------------
    bloc_cohesion: float = 0.5
    """Weight a bloc member puts on its bloc's common position (0: none, 1: speaks only
    through the bloc). ASSUMPTION, range 0.2-0.9 (docs/ODD.md, blocs)."""
    role_influence: dict[str, float] = field(
        default_factory=lambda: {"none": 0.0, "observer": 0.1, "participant": 0.5, "member": 1.0}
    )
    # --- venue, distance and delegation size (issue 13; sim/model/forums/venue.py) ---
    distance_exponent: float = 0.5
    """beta in travel index = (distance / 13,830 km) ** beta: ASSUMPTION, range 0.3-0.8
    (airline yield falls with haul length; sim/data/distance_rule.SOURCES.md, rule C1)."""
    local_cost: float = 0.02
    """Travel index of a participant whose home country hosts the meeting (near zero;
    ASSUMPTION, range 0-0.05; 1 = the longest trip)."""
    mission_cost: float = 0.05
    """Travel index of a state's delegate at a meeting in a city where it keeps a permanent
    mission (mission staff's time, no airfare; ASSUMPTION, range 0.02-0.15)."""
    mission_duty: float = 0.0
    """Utility a **member** state adds to attending onsite when its permanent mission sits in
    the meeting's city: covering its own bodies' meetings is the mission's routine work, not
    a trip weighed against a modest benefit. Small states still stay away more, as their
    benefit is smaller (Panke: in the GA "smaller states are absent more often", research
    notes voice_un.md S107). Form: ASSUMPTION; value per behaviour: the least on a 0.05 grid
    at which the mean General Assembly attendance reaches its highest recorded vote
    (sim/data/unga_votes.csv; docs/participation.md §3b), ECOSOC's votes left as the check;
    chosen in turn with ``reservation`` (sim.analysis.records)."""
    home_capacity: float = 1.0
    """Delegation cap at home (host country) as a multiple of ``capacity``: staff who need
    no travel can join (local offices of organisations). ASSUMPTION, range 1-10; applies to
    non-state actors of the host country (the host government: ``host_delegation``)."""
    host_delegation: float = 5.0
    """Delegates the **host government** sends to its own meeting (``forum.host_attends``) if
    it has 10 million people; scaled by ``(population / 10M) ** host_elasticity``, the
    host-size rule of the local organisations: a host fields organisers, ministries,
    regulators and legislators who need no travel, in numbers that follow the country's size,
    not its travel budget (Hyderabad 2008: government 23% of 1,280 onsite while India alone
    was 56% of them). ASSUMPTION, range 1-40; fitted by the calibration on the fitted
    meetings' group shares (never on the held-out or test meetings)."""
    host_elasticity: float = 0.3
    """Exponent of the host government's delegation in population: ASSUMPTION, range 0.2-0.5
    (as ``population.local_elasticity``)."""
    delegation_returns: float = 0.5
    """alpha: benefit of a delegation of d grows as d ** alpha (diminishing returns;
    ASSUMPTION, range 0.3-0.7). Kaya & Schofield (2020): size rises with resources, falls
    with distance."""


@dataclass
class ForumConfig:
    """A forum as a composition of named rules (see ``sim.model.forums``) and their parameters."""

    label: str = ""
    venue_type: str = "multilateral"
    authority: float = 0.5
    binding: bool = False
    start_year: int = 1
    end_year: int = 0
    """Last year the forum meets (0 = until the horizon)."""
    max_meetings: int = 0
    """Stop after this many meetings (0 = no limit): a working group's mandate."""
    # membership
    membership: str = "open"
    roles: dict[str, str] = field(default_factory=dict)
    seats: dict[str, int] = field(default_factory=dict)
    group_seats: dict[str, int] = field(default_factory=dict)
    fixed_members: list[str] = field(default_factory=list)
    term_years: int = 4
    cohorts: int = 1
    participant_voice: float = 0.5
    # scope and calendar
    scope: str = "all"
    scope_issues: list[str] = field(default_factory=list)
    """Issue names for the ``listed`` scope rule."""
    meeting_months: list[int] = field(default_factory=lambda: [5])
    venue: str = "rotate"
    host_regions: list[str] = field(default_factory=lambda: list(REGIONS))
    remote: bool = False
    remote_voice: float = 0.6
    remote_access: str = "open"
    """Who may join remotely: ``open`` (any eligible actor) or ``fallback`` (only an actor that
    cannot attend onsite: no budget for one delegate and no grant). ``fallback`` is the GAC
    before 2020: remote attendance by members was the exception (3 members remote in 2010 and
    2011 against 38-46 onsite: sim/data/gac_attendance.csv)."""
    remote_fixed_cost: float = 0.0
    """Utility cost of taking part remotely at all, whatever the delegation size (a
    remote-specific constant of the attendance choice). 0 where remote participation is a
    programme of the meeting (the IGF's registered remote participants); positive where a
    member who cannot travel rarely joins remotely (the GAC before 2020: fitted to its
    communiques, docs/participation.md §3)."""
    # --- host country, locals and missions (issue 13; sim/model/forums/venue.py) ---
    host_country: str = ""
    """ISO3 of a fixed host country (sets the venue's region); empty: rotate."""
    host_calendar: str = ""
    """A host calendar in sim/data (``igf``: igf_meetings.csv, 2006-2025): meeting m is held in
    the calendar's m-th host (cycling); empty: ``host_countries`` or one per host region."""
    host_countries: list[str] = field(default_factory=list)
    """ISO3 host rotation for presets without a calendar (empty: a default per host region)."""
    local_participants: bool = False
    """Local organisations of the host country take part (only at meetings in their country)."""
    host_attends: bool = False
    """The host government co-organises and co-chairs the meeting, so it attends onsite with a
    delegation set by its size (``behaviour.host_delegation``), whatever its own attendance
    choice would be (IGF: each annual meeting has a host-country co-chair)."""
    mission_city: str = ""
    """``geneva`` or ``new_york``: states with a permanent mission there pay mission staff's
    time (``behaviour.mission_cost``) instead of airfare; empty: none."""
    # attendance and support
    attendance: str = "logit"
    support: str = "none"
    funded_slots: int = 0
    support_priority: list[str] = field(
        default_factory=lambda: ["sids", "ldc", "low", "lower-middle", "upper-middle"]
    )
    support_groups: list[str] = field(default_factory=lambda: ["developing_gov"])
    # voice, deliberation, decision
    voice: str = "capacity"
    deliberation: str = "hegselmann_krause"
    confidence: float = 0.25
    rounds: int = 3
    decision: str = "consensus"
    threshold: float = 0.5
    concession_rounds: int = 3
    blocking_objections: int = 1
    ratification: str = "none"
    board_seats: dict[str, int] = field(
        default_factory=lambda: {"business": 6, "technical": 6, "civil_society": 4}
    )
    supermajority: float = 0.6
    board_deference: float = 0.1
    # --- ICANN and NetMundial as they are (issue 15): the board by its bylaws -------------
    board_data: str = ""
    """Seats from data (``sim/data/<name>_board.csv`` via ``forums.board.BOARD_DATA``);
    "": one seat per ``board_seats`` count."""
    board_term_years: int = 0
    """Directors' terms (years); staggered, about 1/term of the seats re-drawn each year
    (0: the board never changes). ICANN: three-year terms (Bylaws Art. 7)."""
    board_noise: float = 0.0
    """``board_vote``: scale σ of a director's logit vote to decline (0: deterministic)."""
    oversight: str = "none"
    """``board_vote_overseen``: who may block after the board — "none", "government_veto"
    (one government approves, the IANA functions before Oct 2016) or "empowered_community"
    (after; ``sim.model.forums.oversight``)."""
    oversight_government: str = "USA"
    """ISO3 code of the government holding the veto (NTIA, before 2016)."""
    oversight_tolerance: float = 0.05
    """Loss an overseer accepts before blocking. ASSUMPTION (0.015-0.1): NTIA's role was
    "largely clerical" (NTIA blog, Aug 2015)."""
    oversight_support: int = 3
    """Empowered Community: participants that must support a rejection (UNVERIFIED: 3)."""
    oversight_max_objecting: int = 1
    """Empowered Community: most participants that may object to it (UNVERIFIED: 1)."""
    oversight_gac_carveout: bool = True
    """The GAC does not take part when the community challenges the Board's implementation
    of GAC advice (UNVERIFIED detail)."""
    # --- negotiation (issue 14): texts, chains of authority, blocs --------------------------
    package_drop: bool = False
    """Package rules: the chair may drop contested items from the text (they go to a
    non-binding chair's summary) — the annual resolution that "notes divergent views"."""
    package_required: list[str] = field(default_factory=list)
    """Package rules: issues the text must address (a working group's mandate); never dropped."""
    written_objections: bool = False
    """Members absent from a meeting may still object to the text (drafts circulated for
    written comments, as the WGEC 2 Chair's drafts were: UNCTAD, WGEC 2 fourth meeting)."""
    vote_request: float = 0.0
    """``package_consensus_or_vote``: chance a member requests a vote when consensus fails."""
    takes_up: str = "own"
    """"own": its scope's issues; "referred": only texts recommended to it (ECOSOC, the GA)."""
    blocs: list[str] = field(default_factory=list)
    """Blocs that coordinate here, in precedence order (names in ``sim/data/blocs.csv``)."""
    bloc_objection: str = "each"
    """"each": every bloc member objects for itself; "one": a bloc objects once."""
    bloc_voice: float = 0.0
    """Weight of a bloc statement, as a multiple of the largest member delegation's weight."""


@dataclass
class LinkConfig:
    """A link between forums: ``feeds``, ``reports_to``, ``mandate`` or ``recommends``
    (see ``forums.links``)."""

    kind: str = "feeds"
    source: str = ""
    target: str = ""
    weight: float = 0.3
    # --- negotiation (issue 14): a mandate decided by a forum ------------------------------
    decided_by: str = ""
    """A ``mandate`` takes effect only once this forum adopts it ("": from the start)."""
    issue: str = ""
    """The issue axis a decided mandate is judged on (e.g. new_mechanism)."""
    stance: float = 0.5
    """Where the mandate sits on that axis (what members compare with the status quo)."""


@dataclass
class GovsimConfig:
    """A whole run: the world (population, issues, forums, links), behaviour and seed."""

    scenario: str = "status_quo"
    seed: int = 0
    years: int = 10
    first_year: int = 2025
    """Calendar year of simulated year 1 (2025: the WSIS+20 review the scenarios address).
    Only the remote cost's calendar trend reads it (``behaviour.remote_cost_trend``); the
    calibration and :func:`sim.analysis.predict.predict_meeting` set it to the meeting's year."""
    population: PopulationConfig = field(default_factory=PopulationConfig)
    issues: dict[str, IssueConfig] = field(default_factory=dict)
    forum: dict[str, ForumConfig] = field(default_factory=dict)
    links: dict[str, LinkConfig] = field(default_factory=dict)
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    out_dir: str = ""
    """Where ``govsim run`` writes; empty means Hydra's run directory."""
    quiet: bool = False


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (idempotent)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="govsim_schema", node=GovsimConfig)
    cs.store(group="forum", name="forum_schema", node=ForumConfig)


def to_container(cfg: DictConfig | GovsimConfig | dict[str, Any]) -> dict[str, Any]:
    """A plain, resolved ``dict`` of a config (what a run is a pure function of)."""
    if isinstance(cfg, dict):
        return cfg
    if not isinstance(cfg, DictConfig):
        cfg = OmegaConf.structured(cfg)
    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)  # type: ignore[return-value]


_SCALARS = {int: int, float: (int, float), bool: bool, str: str}


@functools.cache
def field_hints(cls: type) -> dict[str, Any]:
    """The resolved type hints of a config dataclass, once per class (resolving the string
    annotations with ``typing.get_type_hints`` costs milliseconds a call)."""
    return typing.get_type_hints(cls)


def copy_plain(value: Any) -> Any:
    """A copy of plain config data (dicts, lists and tuples copied all the way down,
    scalars shared): ``copy.deepcopy`` for what :func:`to_container` gives, without its memo."""
    if isinstance(value, dict):
        return {k: copy_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(copy_plain(v) for v in value)
    return value


def _build(cls: type, data: Any) -> Any:
    """Build dataclass ``cls`` from a plain dict, recursing into nested dataclass fields.

    Raises KeyError on a key the schema does not have (the caller then falls back to
    OmegaConf, whose error names the key).
    """
    hints = field_hints(cls)
    unknown = set(data) - set(hints)
    if unknown:
        raise KeyError(f"{cls.__name__} has no keys {sorted(unknown)}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        args = typing.get_args(hint)
        if dataclasses.is_dataclass(hint):
            value = _build(hint, value)
        elif typing.get_origin(hint) is dict and args and dataclasses.is_dataclass(args[1]):
            value = {k: _build(args[1], v) for k, v in value.items()}
        elif hint in _SCALARS and not isinstance(value, _SCALARS[hint]):
            raise TypeError(f"{cls.__name__}.{name}: {value!r} is not {hint.__name__}")
        elif isinstance(value, dict):
            value = dict(value)
        elif isinstance(value, list):
            value = list(value)
        kwargs[name] = value
    return cls(**kwargs)


def as_config(cfg: DictConfig | GovsimConfig | dict[str, Any]) -> GovsimConfig:
    """Any config form -> a typed :class:`GovsimConfig` (validated against the schema).

    A plain dict from :func:`to_container` (what studies store and send to worker
    processes) takes a fast path that builds the dataclasses directly — an OmegaConf
    merge costs several times a whole run. Anything else, or a dict the fast path
    cannot place, goes through OmegaConf, whose errors name the offending key.
    """
    if isinstance(cfg, GovsimConfig):
        return cfg
    if isinstance(cfg, dict):
        try:
            return _build(GovsimConfig, copy_plain(cfg))
        except (KeyError, TypeError, AttributeError):
            pass
    merged = OmegaConf.merge(OmegaConf.structured(GovsimConfig), cfg)
    return OmegaConf.to_object(merged)  # type: ignore[return-value]
