"""Membership rules: who may attend a forum, and in which role.

Roles are integer codes into :data:`sim.model.config.ROLES`: 0 none, 1 observer
(listens), 2 participant (speaks), 3 member (speaks and decides).

Every membership rule has the signature
``rule(pop, forum, seats, year, rng) -> (roles, seats)`` where ``seats`` is an
int8 array with the seat cohort each actor holds (-1: no seat), carried by the
model from one meeting to the next. Actors without a seat take the role their
group has in ``forum.roles`` (default: none).

Sources for the presets: CSTD — 43 seats by regional quota, four-year terms,
ECOSOC elections (ECOSOC res. 2006/46); GAC — open to every national
government (GAC Operating Principles); WGEC — 22 governments plus five from
each other stakeholder group (UNGA res. 67/195 and 70/125).
"""

from __future__ import annotations

import numpy as np

from sim.model.config import GROUPS, REGIONS, ROLES, ForumConfig
from sim.model.forums.registry import register
from sim.model.population import Population

NONE, OBSERVER, PARTICIPANT, MEMBER = range(len(ROLES))
GOVERNMENTS = (GROUPS.index("developed_gov"), GROUPS.index("developing_gov"))


def default_roles(pop: Population, forum: ForumConfig) -> np.ndarray:
    """Role of each actor by its group alone, from ``forum.roles`` (missing groups: none)."""
    table = np.array([ROLES.index(forum.roles.get(g, "none")) for g in GROUPS], np.int8)
    return table[pop.group]


def weighted_sample(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with probability ∝ ``weights``.

    Efraimidis & Spirakis (2006): keep the k largest keys ``u ** (1 / w)``, computed
    as ``log(u) / w`` for stability; O(n), one uniform draw per item.
    """
    k = min(k, len(weights))
    if k <= 0:
        return np.empty(0, np.intp)
    w = np.maximum(np.asarray(weights, float), 1e-12)
    keys = np.log(rng.random(len(w))) / w
    return np.argpartition(-keys, k - 1)[:k]


def _election_weights(pop: Population, forum_index: int) -> np.ndarray:
    """Chance of being elected: engagement with the forum times a mild resource advantage."""
    return pop.engagement[:, forum_index] * np.sqrt(pop.resources)


@register("membership", "open", source="GAC Operating Principles; IGF", params=("roles",))
def open_membership(pop, forum, seats, year, rng, forum_index=0):
    """Everyone takes the role of their group (``forum.roles``); there are no seats."""
    return default_roles(pop, forum), seats


@register(
    "membership",
    "regional_quota",
    source="ECOSOC res. 2006/46 (CSTD: 43 seats, four-year terms)",
    params=("seats", "term_years", "cohorts", "start_year", "roles"),
)
def regional_quota(pop, forum, seats, year, rng, forum_index=0):
    """Government seats by UN regional group, elected for staggered terms.

    ``forum.seats`` gives the seats per region; ``forum.term_years`` the term and
    ``forum.cohorts`` how many staggered cohorts share the seats (CSTD: 4-year
    terms, 2 cohorts, so about half the seats are renewed every two years).
    Outgoing members may be re-elected. Seat holders are members; everyone
    else takes the role of their group. The model calls membership rules once a
    year, at the forum's first meeting of the year.
    """
    first = seats is None
    seats = np.full(pop.n, -1, np.int8) if first else seats.copy()
    period = forum.term_years // forum.cohorts
    since = year - forum.start_year
    if first or since % period == 0:
        cohorts = range(forum.cohorts) if first else [(since // period) % forum.cohorts]
        is_gov = np.isin(pop.group, GOVERNMENTS)
        weights = _election_weights(pop, forum_index)
        for cohort in cohorts:
            seats[seats == cohort] = -1
            for r, quota in forum.seats.items():
                n_cohort = quota // forum.cohorts + (cohort < quota % forum.cohorts)
                pool = np.flatnonzero(is_gov & (pop.region == REGIONS.index(r)) & (seats < 0))
                chosen = pool[weighted_sample(weights[pool], n_cohort, rng)]
                seats[chosen] = cohort
    roles = default_roles(pop, forum)
    roles[seats >= 0] = MEMBER
    return roles, seats


@register(
    "membership",
    "fixed_composition",
    source="UNGA res. 67/195 and 70/125 (WGEC)",
    params=("seats", "fixed_members", "group_seats", "roles"),
)
def fixed_composition(pop, forum, seats, year, rng, forum_index=0):
    """A working group chosen once: governments per region, named states, seats per group.

    ``forum.seats`` (per region, governments), ``forum.fixed_members`` (ISO3 codes,
    e.g. the two WSIS host countries CHE and TUN) and ``forum.group_seats`` (per
    non-state group) are filled at the forum's first meeting by engagement-weighted
    draws and kept for the mandate.
    """
    if seats is None:
        seats = np.full(pop.n, -1, np.int8)
        seats[np.isin(pop.iso3, list(forum.fixed_members))] = 0
        weights = _election_weights(pop, forum_index)
        is_gov = np.isin(pop.group, GOVERNMENTS)
        pools = [(is_gov & (pop.region == REGIONS.index(r)), n) for r, n in forum.seats.items()] + [
            ((pop.group == GROUPS.index(g)) & ~pop.local, n)  # locals hold no seats
            for g, n in forum.group_seats.items()
        ]
        for mask, n in pools:
            pool = np.flatnonzero(mask & (seats < 0))
            seats[pool[weighted_sample(weights[pool], n, rng)]] = 0
    roles = default_roles(pop, forum)
    roles[seats >= 0] = MEMBER
    return roles, seats
