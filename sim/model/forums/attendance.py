"""Attendance and support rules: who comes, how (remote or onsite), and who is funded.

:func:`attend` is the whole attendance step of a meeting: it builds each eligible
actor's benefit and cost of each mode, asks the forum's support rule who is funded
and its attendance rule who comes how, and charges onsite travel to budgets.

Attendance rules have the signature
``rule(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok, noise, rng) -> modes``
over the eligible actors, returning int8 modes (0 none, 1 remote, 2 onsite,
as in :data:`sim.model.config.MODES`). Utilities are ``U_none = 0``,
``U_remote = benefit_remote - remote_cost`` and ``U_onsite = benefit - onsite_cost``.

Support rules have the signature ``rule(pop, idx, roles, forum) -> funded`` (a
bool mask over ``idx``, the eligible actors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.model import venue as venues
from sim.model.config import GROUPS, INCOMES, REGIONS, ROLES, BehaviourConfig, ForumConfig
from sim.model.forums.links import ForumLinks
from sim.model.forums.membership import MEMBER
from sim.model.forums.registry import register, rule
from sim.model.metrics import row_means
from sim.model.population import Population

ONSITE, REMOTE = 2, 1
REMOTE_ACCESS = ("open", "fallback")
"""``forum.remote_access``: anyone may join remotely, or only those who cannot come onsite."""

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


@dataclass
class Attendance:
    """Who came and how, over the eligible actors: modes, funded (grants offered), what the
    trip cost (0 unless onsite), the remote factor (voice kept when remote) and the
    delegation size each actor sent in its mode."""

    modes: np.ndarray
    funded: np.ndarray
    cost: np.ndarray
    remote_factor: np.ndarray
    delegates: np.ndarray


def remote_cost_in(behaviour: BehaviourConfig, calendar_year: int) -> float:
    """The remote cost per delegate in ``calendar_year``: ``remote_cost`` in
    ``remote_cost_year``, changed by ``exp(remote_cost_trend)`` a year (calendar time in
    remote participation: webcasts and chat in 2006, remote hubs from 2009, registered
    online participation as a mode of its own by 2014)."""
    b = behaviour
    return b.remote_cost * math.exp(b.remote_cost_trend * (calendar_year - b.remote_cost_year))


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


def attend(
    pop: Population,
    idx: np.ndarray,
    roles: np.ndarray,
    forum: ForumConfig,
    fi: int,
    links: ForumLinks,
    host: int,
    agenda: np.ndarray,
    behaviour: BehaviourConfig,
    rng: np.random.Generator,
    venue: venues.Venue,
) -> Attendance:
    """The attendance step of a meeting of forum ``fi`` over the eligible actors ``idx``.

    Benefit of attending onsite ``B = scale · E_if · s̄ · (0.5 + fit) · (ν + A_f · I)``
    (engagement, mean agenda salience, venue fit, networking value, effective
    authority × expected influence ``I = role_influence · p / (p + median p)`` with
    ``p`` = capacity × expertise); remote benefit ``B · R`` with the remote factor
    ``R = remote_voice (1 − π · TIMEZONE[region, host])``.

    Cost per onsite delegate ``u = τ · travel_index(home country → venue)`` times the
    links' cost factor (reporting duties): near zero at home, mission staff's time at a
    mission city (:func:`sim.model.venue.travel_index`), where a member's onsite gain also
    carries ``behaviour.mission_duty`` (its mission's routine). The support rule offers grants
    (one traveller each); each actor then chooses its delegation size per mode within
    its budget (:func:`delegation_choice`), and the attendance rule picks the mode from
    the best size's gain. With ``forum.remote_access == "fallback"`` only actors that
    cannot come onsite may join remotely, and ``forum.remote_fixed_cost`` is subtracted from
    the remote utility whatever the size; with ``forum.host_attends`` the host government
    attends onsite with ``round(host_delegation · (population / 10M) ** host_elasticity)``
    delegates. Onsite attendees pay ``u × (delegates − grants)`` from their budget
    (``pop.budget``, in place).
    """
    b = behaviour
    region = pop.region[idx]
    capacity, expertise = pop.capacity[idx], pop.expertise[idx]
    is_member = roles == MEMBER

    potential = capacity * expertise
    influence = np.array([b.role_influence[x] for x in ROLES])[roles] * potential
    influence /= potential + _median(potential)
    fit = pop.ms_preference[idx]
    if forum.venue_type == "multilateral":
        fit = 1.0 - fit
    agenda_salience = row_means(pop.salience[idx[:, None], agenda])
    benefit = (
        b.benefit_scale
        * pop.engagement[idx, fi]
        * agenda_salience
        * (0.5 + fit)
        * (b.networking_value + links.authority * influence)
    )
    remote_factor = forum.remote_voice * (1.0 - b.timezone_penalty * TIMEZONE[region, host])
    cost_factor = links.cost_factor(is_member)

    funded = rule("support", forum.support)(pop, idx, roles, forum)
    country = pop.country[idx]
    is_state = pop.group[idx] <= 1
    unit = b.travel_cost_scale * cost_factor  # money per onsite delegate
    unit = unit * venues.travel_index(country, is_state, venue, forum, b)
    payable = funded + np.floor(pop.budget[idx] / np.maximum(unit, 1e-12))
    cap_on = np.where(country == venue.country, b.home_capacity * capacity, capacity)
    d_on, gain_on, cost_on = delegation_choice(
        benefit, b.cost_aversion * unit / pop.resources[idx], cap_on, funded, payable,
        b.delegation_returns,
    )  # fmt: skip
    d_re, gain_re, cost_re = delegation_choice(
        benefit * remote_factor, np.full(len(idx), b.remote_cost * 1.0) * cost_factor,
        capacity, 0.0, np.inf, b.delegation_returns,
    )  # fmt: skip
    cost_re = cost_re + forum.remote_fixed_cost  # a cost of joining remotely at all
    # a member's mission covers its own body's meetings in its city as routine work
    gain_on = gain_on + b.mission_duty * (is_member & venues.has_mission(country, is_state, forum))
    remote_ok = np.full(len(idx), forum.remote)
    if forum.remote_access == "fallback":  # remote only for those who cannot come onsite
        remote_ok &= payable < 1
    modes = rule("attendance", forum.attendance)(
        (gain_on, gain_re),
        cost_on,
        cost_re,
        payable >= 1,
        remote_ok,
        b.logit_noise,
        rng,
    )
    if forum.host_attends:  # the host government co-chairs: onsite, a delegation by its size
        host = np.flatnonzero(is_state & (country == venue.country))
        size = (pop.population[idx[host]] / 1e7) ** b.host_elasticity  # its rows only
        modes[host] = ONSITE
        d_on = d_on.copy()
        d_on[host] = np.maximum(np.rint(b.host_delegation * size), 1.0)
    cost = np.where(modes == ONSITE, unit * np.maximum(d_on - funded, 0.0), 0.0)
    pop.budget[idx] -= cost
    delegates = np.where(modes == ONSITE, d_on, np.where(modes == REMOTE, d_re, 0.0))
    return Attendance(modes, funded, cost, remote_factor, delegates)


def _utilities(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok):
    """(m, 3) utilities of none / remote / onsite, -inf where a mode is unavailable."""
    benefit_onsite, benefit_remote = benefit
    u = np.zeros((len(benefit_onsite), 3))
    u[:, 1] = np.where(remote_ok, benefit_remote - remote_cost, -np.inf)
    u[:, 2] = np.where(onsite_ok, benefit_onsite - onsite_cost, -np.inf)
    return u


@register("attendance", "logit", source="McFadden 1974 (multinomial logit)")
def logit_choice(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok, noise, rng):
    """Multinomial logit choice: ``P(mode) ∝ exp(U_mode / noise)``.

    Drawn as the argmax of utilities plus Gumbel noise of scale ``noise``
    (McFadden 1974), which needs one (m, 3) draw and no normalisation.
    """
    u = _utilities(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok)
    u += noise * rng.gumbel(size=u.shape)
    return np.argmax(u, axis=1).astype(np.int8)


@register("attendance", "best_response", source="ASSUMPTION (noise-free logit)")
def best_response(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok, noise, rng):
    """Deterministic choice of the highest-utility mode (ties go to the cheaper mode)."""
    u = _utilities(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok)
    return np.argmax(u, axis=1).astype(np.int8)


@register("attendance", "everyone_onsite", source="benchmark")
def everyone_onsite(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok, noise, rng):
    """Every eligible actor attends onsite, whatever it costs (a benchmark for voice rules)."""
    return np.full(len(benefit[0]), 2, np.int8)


def support_tier(pop: Population, idx: np.ndarray, priority: list[str]) -> np.ndarray:
    """Position of each actor in a funding priority list (len(priority) = not eligible).

    ``priority`` holds "sids", "ldc" and income groups, e.g. the GAC travel-support
    order: SIDS, then LDCs, then low, lower-middle and upper-middle income. An actor is
    ranked by its home country (a government: its own state; an organisation: the state
    it is based in), as the IGF's calls fund individuals "from" such countries.
    """
    home = pop.country[idx]  # governments come first: state c is row c
    tier = np.full(len(idx), len(priority), np.int16)
    for t, key in reversed(list(enumerate(priority))):
        if key in ("sids", "ldc"):
            hit = getattr(pop, key)[home]
        else:
            hit = pop.income[home] == INCOMES.index(key)
        tier[hit] = t
    return tier


@register("support", "none", source="–")
def no_support(pop: Population, idx: np.ndarray, roles: np.ndarray, forum: ForumConfig):
    """No travel funding."""
    return np.zeros(len(idx), bool)


@register(
    "support",
    "funded_slots",
    source="GAC travel-support rules (2017, 2020)",
    params=("funded_slots", "support_priority", "support_groups"),
)
def funded_slots(pop: Population, idx: np.ndarray, roles: np.ndarray, forum: ForumConfig):
    """``forum.funded_slots`` travel grants per meeting, offered in priority order.

    Only actors of ``forum.support_groups`` are eligible; members come before
    other roles, then the tiers of ``forum.support_priority`` (GAC rules of 2017
    and 2020: small island developing states, then LDCs, then low-, lower-middle-
    and upper-middle-income countries), then fewer resources first. A grant pays
    exactly one traveller (:func:`delegation_choice`, ``free=1``); the actor pays
    for any further delegates.
    """

    tier = support_tier(pop, idx, list(forum.support_priority))
    groups = [GROUPS.index(g) for g in forum.support_groups]
    ok = np.flatnonzero(tier < len(forum.support_priority))
    ok = ok[np.isin(pop.group[idx[ok]], groups)]
    # sort only the eligible (a stable sort of a subset keeps its order in the whole)
    order = np.lexsort((pop.resources[idx[ok]], tier[ok], roles[ok] != MEMBER))
    order = ok[order][: forum.funded_slots]
    funded = np.zeros(len(idx), bool)
    funded[order] = True
    return funded


def delegation_choice(
    benefit: np.ndarray,
    unit_cost: np.ndarray,
    cap: np.ndarray,
    free: np.ndarray,
    payable: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Delegation size each actor would send in one mode, its benefit and its cost.

    An actor sending ``d`` delegates gets ``benefit * d ** alpha`` (diminishing returns)
    and pays ``unit_cost * max(d - free, 0)`` (``free``: delegates a grant pays, 0 or 1).
    The best size is ``d* = (alpha * benefit / unit_cost) ** (1 / (1 - alpha))``, rounded
    and kept within ``1 <= d <= min(cap, payable)`` (``payable``: delegates the budget
    covers, grants included; at least 1 so that an unaffordable mode still has a size,
    which the caller marks unavailable).

    Returns
    -------
    (d, gross_benefit, cost): int delegation sizes, ``benefit * d ** alpha`` and the cost.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        best = (alpha * benefit / unit_cost) ** (1.0 / (1.0 - alpha))
    best = np.where(unit_cost > 0, best, np.inf)
    best = np.where(np.isfinite(best), best, cap)
    upper = np.maximum(np.minimum(np.floor(cap), payable), 1.0)
    d = np.clip(np.rint(best), 1.0, upper)
    return d, benefit * d**alpha, unit_cost * np.maximum(d - free, 0.0)
