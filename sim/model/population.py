"""Build the actor population as a struct of arrays.

Governments come from the bundled table of the 193 UN member states
(``sim/data/un_member_states.csv``; sources in ``un_member_states.SOURCES.md``):
UN regional group, World Bank FY2025 income group, LDC and SIDS flags, 2024
population. Companies, civil-society organisations, technical-community
organisations and intergovernmental organisations are synthetic: counts and
home-region mix from config, heavy-tailed (log-normal) resources.

All randomness comes from the ``rng`` passed in; nothing here reads global state.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from importlib import resources as importlib_resources

import numpy as np
import pandas as pd

from sim.model import venue
from sim.model.config import GROUPS, INCOMES, REGIONS, GovsimConfig

DEVELOPED, DEVELOPING, BUSINESS, CIVIL, TECHNICAL, IGO = range(len(GROUPS))

_UNCLASSIFIED = INCOMES.index("unclassified")
DEVELOPING_RULES = {
    "not_high_income": lambda income: income != INCOMES.index("high"),
    "low_or_lower_middle": lambda income: (
        (income <= INCOMES.index("lower-middle")) | (income == _UNCLASSIFIED)
    ),
    "low_income_only": lambda income: (income == INCOMES.index("low")) | (income == _UNCLASSIFIED),
}
"""How "developing" is read off the income group (default: not high income). A state the
World Bank leaves unclassified (Venezuela since 2021) counts as developing under every rule."""

DEFAULT_REGION_MIX = {
    # Home regions of non-state actors. Assumption, shaped on IGF attendance by
    # region (Hyderabad 2008: Western Europe and North America over-represented
    # relative to Africa and GRULAC; see docs/FACTS.md).
    "business": {"African": 0.1, "Asia-Pacific": 0.25, "Eastern European": 0.08, "GRULAC": 0.1,
                 "WEOG": 0.47},
    "civil_society": {"African": 0.2, "Asia-Pacific": 0.22, "Eastern European": 0.08,
                      "GRULAC": 0.15, "WEOG": 0.35},
    "technical": {"African": 0.1, "Asia-Pacific": 0.22, "Eastern European": 0.1, "GRULAC": 0.1,
                  "WEOG": 0.48},
    "igo": {"African": 0.15, "Asia-Pacific": 0.15, "Eastern European": 0.05, "GRULAC": 0.1,
            "WEOG": 0.55},
}  # fmt: skip


@cache
def member_states() -> pd.DataFrame:
    """The bundled table of UN member states (193 rows), read once per process."""
    path = importlib_resources.files("sim") / "data" / "un_member_states.csv"
    with importlib_resources.as_file(path) as p:
        df = pd.read_csv(p, keep_default_na=False, dtype={"notes": str})
    df["wb_income_group"] = df["wb_income_group"].replace("", "unclassified")
    for col in ("ldc", "sids"):
        df[col] = df[col].astype(str).str.lower().eq("true")
    return df


@dataclass
class Population:
    """Actor state as parallel numpy arrays, one entry per actor (governments first).

    ``position``/``salience`` are (n, k) for k issues; ``engagement`` is (n, F)
    for F forums. ``position0`` keeps the initial positions that attainment is
    measured against; ``position`` moves through deliberation.
    """

    group: np.ndarray  # int8 code into GROUPS
    region: np.ndarray  # int8 code into REGIONS
    income: np.ndarray  # int8 code into INCOMES (non-state: -1)
    ldc: np.ndarray
    sids: np.ndarray
    population: np.ndarray  # persons (governments), 0 otherwise
    resources: np.ndarray  # budget units per year
    capacity: np.ndarray  # delegation size
    expertise: np.ndarray  # in [0, 1]
    expertise0: np.ndarray
    ms_preference: np.ndarray  # preference for multistakeholder venues, [0, 1]
    stubbornness: np.ndarray  # weight on own position in deliberation, [0, 1]
    position: np.ndarray
    position0: np.ndarray
    salience: np.ndarray
    engagement: np.ndarray
    engagement0: np.ndarray
    budget: np.ndarray  # budget left this year
    iso3: np.ndarray  # str, "" for non-state actors
    country: np.ndarray  # int16 home country (row of the member-state table); issue 13
    local: np.ndarray  # bool: a local organisation, takes part only when its country hosts

    @property
    def n(self) -> int:
        return len(self.group)

    def subset(self, idx: np.ndarray) -> Population:
        """A copy restricted to the actors ``idx`` (for tests and small examples)."""
        return Population(**{f.name: getattr(self, f.name)[idx].copy() for f in fields(self)})


def _beta(rng: np.random.Generator, mean: np.ndarray, concentration: float = 10.0) -> np.ndarray:
    """Beta draws with the given means (clipped away from 0 and 1) and fixed concentration."""
    m = np.clip(mean, 0.02, 0.98)
    return rng.beta(m * concentration, (1 - m) * concentration)


def _positions(cfg: GovsimConfig, group: np.ndarray, rng: np.random.Generator):
    """Initial positions and saliences of actors of the given groups, issue by issue.

    Group means as configured, the developed/developing gap scaled by
    ``behaviour.polarization`` around its midpoint; positions normal with the issue's
    spread (clipped to [0, 1]); saliences beta around the group's salience.
    """
    n = len(group)
    k = len(cfg.issues)
    position = np.empty((n, k))
    salience = np.empty((n, k))
    pol = cfg.behaviour.polarization
    for j, issue in enumerate(cfg.issues.values()):
        means = np.array([issue.position[g] for g in GROUPS])
        mid = 0.5 * (means[DEVELOPED] + means[DEVELOPING])
        half = 0.5 * (means[DEVELOPED] - means[DEVELOPING])
        means[DEVELOPED], means[DEVELOPING] = mid + pol * half, mid - pol * half
        position[:, j] = np.clip(means[group] + issue.spread * rng.standard_normal(n), 0.0, 1.0)
        salience[:, j] = _beta(rng, np.array([issue.salience[g] for g in GROUPS])[group])
    return position, salience


def build_population(cfg: GovsimConfig, n_forums: int, rng: np.random.Generator) -> Population:
    """Draw a population for ``cfg``.

    The order of random draws is fixed (governments, then non-state actors, then
    positions and saliences issue by issue), so the same config and seed give the
    same population.
    """
    pc = cfg.population
    states = member_states()
    n_gov = len(states)
    income = states["wb_income_group"].map(INCOMES.index).to_numpy(np.int8)
    developing = DEVELOPING_RULES[pc.developing_rule](income)
    gov_group = np.where(developing, DEVELOPING, DEVELOPED).astype(np.int8)
    gov_region = states["un_regional_group"].map(REGIONS.index).to_numpy(np.int8)
    gov_pop = states["population"].to_numpy(float)
    factor = np.array([pc.income_factor[i] for i in INCOMES])[income]
    gov_res = (
        factor
        * (gov_pop / 1e7) ** pc.population_elasticity
        * rng.lognormal(0.0, pc.government_sigma, n_gov)
    )

    # synthetic non-state actors, group by group in GROUPS order
    counts = {g: int(pc.counts.get(g, 0)) for g in GROUPS[2:]}
    total = sum(counts.values())
    if pc.extra_actors and total:
        base = dict(counts)
        for g in counts:
            counts[g] += int(round(pc.extra_actors * base[g] / total))
    ns_group, ns_region, ns_res = [], [], []
    for g in GROUPS[2:]:
        n = counts[g]
        mix = pc.region_mix.get(g) or DEFAULT_REGION_MIX[g]
        p = np.array([mix.get(r, 0.0) for r in REGIONS], float)
        region = rng.choice(len(REGIONS), size=n, p=p / p.sum())
        rc = pc.nonstate[g]
        res = rc.median * rng.lognormal(0.0, rc.sigma, n)
        res *= np.array([pc.region_factor[r] for r in REGIONS])[region]
        ns_group.append(np.full(n, GROUPS.index(g), np.int8))
        ns_region.append(region.astype(np.int8))
        ns_res.append(res)

    group = np.concatenate([gov_group, *ns_group])
    region = np.concatenate([gov_region, *ns_region])
    resources = np.concatenate([gov_res, *ns_res])
    n = len(group)
    n_ns = n - n_gov
    capacity = np.clip(pc.capacity_scale * resources**pc.capacity_exponent, 1.0, pc.max_delegation)
    by_group = lambda table: np.array([table[g] for g in GROUPS])[group]  # noqa: E731
    expertise = _beta(rng, by_group(pc.expertise))
    ms_pref = _beta(rng, by_group(pc.multistakeholder_preference))
    stubborn = _beta(rng, by_group(pc.stubbornness), concentration=20.0)

    position, salience = _positions(cfg, group, rng)

    engagement = np.full((n, n_forums), pc.initial_engagement)
    pop = Population(
        group=group,
        region=region,
        income=np.concatenate([income, np.full(n_ns, -1, np.int8)]),
        ldc=np.concatenate([states["ldc"].to_numpy(bool), np.zeros(n_ns, bool)]),
        sids=np.concatenate([states["sids"].to_numpy(bool), np.zeros(n_ns, bool)]),
        population=np.concatenate([gov_pop, np.zeros(n_ns)]),
        resources=resources,
        capacity=capacity,
        expertise=expertise,
        expertise0=expertise.copy(),
        ms_preference=ms_pref,
        stubbornness=stubborn,
        position=position,
        position0=position.copy(),
        salience=salience,
        engagement=engagement,
        engagement0=engagement.copy(),
        budget=resources.copy(),
        iso3=np.concatenate([states["iso3"].to_numpy(str), np.full(n_ns, "")]),
        country=np.concatenate([np.arange(n_gov, dtype=np.int16), np.zeros(n_ns, np.int16)]),
        local=np.zeros(n, bool),
    )
    # issue 13, drawn after everything above so that earlier draws keep their streams:
    # non-state actors' home countries, then the local organisations of host countries
    pop.country[n_gov:] = venue.home_countries(region[n_gov:], rng)
    hosts = venue.local_hosts(cfg)
    if hosts:
        pop = _with_locals(pop, cfg, hosts, n_forums, rng)
    return pop


def _with_locals(
    pop: Population, cfg: GovsimConfig, hosts: list[str], n_forums: int, rng: np.random.Generator
) -> Population:
    """``pop`` plus the local organisations of each host country (:func:`venue.local_counts`).

    A local organisation is drawn like a non-state actor of its group (resources,
    expertise, preferences, positions) with the host as home country and region.
    """
    pc = cfg.population
    group, country = [], []
    for iso3 in hosts:
        for g, k in venue.local_counts(cfg, iso3).items():
            group += [GROUPS.index(g)] * k
            country += [venue.country_index(iso3)] * k
    group = np.array(group, np.int8)
    country = np.array(country, np.int16)
    m = len(group)
    region = pop.region[country]  # governments come first: row c is state c
    median = np.array([pc.nonstate[GROUPS[g]].median for g in group])
    sigma = np.array([pc.nonstate[GROUPS[g]].sigma for g in group])
    res = median * rng.lognormal(0.0, 1.0, m) ** sigma
    res *= np.array([pc.region_factor[r] for r in REGIONS])[region]
    by_group = lambda table: np.array([table[g] for g in GROUPS])[group]  # noqa: E731
    expertise = _beta(rng, by_group(pc.expertise))
    position, salience = _positions(cfg, group, rng)
    capacity = np.clip(pc.capacity_scale * res**pc.capacity_exponent, 1.0, pc.max_delegation)
    engagement = np.full((m, n_forums), pc.initial_engagement)
    new = dict(
        group=group, region=region, income=np.full(m, -1, np.int8), ldc=np.zeros(m, bool),
        sids=np.zeros(m, bool), population=np.zeros(m), resources=res, capacity=capacity,
        expertise=expertise, expertise0=expertise.copy(),
        ms_preference=_beta(rng, by_group(pc.multistakeholder_preference)),
        stubbornness=_beta(rng, by_group(pc.stubbornness), concentration=20.0),
        position=position, position0=position.copy(), salience=salience,
        engagement=engagement, engagement0=engagement.copy(), budget=res.copy(),
        iso3=np.full(m, ""), country=country, local=np.ones(m, bool),
    )  # fmt: skip
    return Population(
        **{f.name: np.concatenate([getattr(pop, f.name), new[f.name]]) for f in fields(pop)}
    )
