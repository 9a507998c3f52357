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

from dataclasses import dataclass

import numpy as np

from sim.model.config import GROUPS, INCOMES, REGIONS, ROLES, BehaviourConfig, ForumConfig
from sim.model.forums.links import ForumLinks
from sim.model.forums.membership import MEMBER
from sim.model.forums.registry import register, rule
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


@dataclass
class Attendance:
    """Who came and how, over the eligible actors: modes, funded (offered a grant), what the
    trip cost (0 unless onsite), and the remote factor (voice kept when remote)."""

    modes: np.ndarray
    funded: np.ndarray
    cost: np.ndarray
    remote_factor: np.ndarray


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
) -> Attendance:
    """The attendance step of a meeting of forum ``fi`` over the eligible actors ``idx``.

    Benefit of attending onsite ``B = scale · E_if · s̄ · (0.5 + fit) · (ν + A_f · I)``
    (engagement, mean agenda salience, venue fit, networking value, effective
    authority × expected influence ``I = role_influence · p / (p + median p)`` with
    ``p`` = capacity × expertise); remote benefit ``B · R`` with the remote factor
    ``R = remote_voice (1 − π · TIMEZONE[region, host])``. Onsite cost
    ``κ C / r`` with travel ``C = τ · TRAVEL[region, host] · max(capacity − funded, 0)``
    times the links' cost factor (reporting duties); remote cost ``c_r`` times the
    same factor. The support rule funds first; the attendance rule then chooses;
    onsite attendees pay ``C`` from their budget (``pop.budget``, in place).
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
    agenda_salience = pop.salience[idx[:, None], agenda].mean(axis=1)
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
    cost = b.travel_cost_scale * TRAVEL[region, host] * np.maximum(capacity - funded, 0.0)
    cost *= cost_factor
    onsite_cost = b.cost_aversion * cost / pop.resources[idx]
    modes = rule("attendance", forum.attendance)(
        (benefit, benefit * remote_factor),
        onsite_cost,
        b.remote_cost * cost_factor,
        cost <= pop.budget[idx],
        np.full(len(idx), forum.remote),
        b.logit_noise,
        rng,
    )
    cost = np.where(modes == ONSITE, cost, 0.0)
    pop.budget[idx] -= cost
    return Attendance(modes, funded, cost, remote_factor)


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
    order: SIDS, then LDCs, then low, lower-middle and upper-middle income.
    """
    tier = np.full(len(idx), len(priority), np.int16)
    for t, key in reversed(list(enumerate(priority))):
        if key in ("sids", "ldc"):
            hit = getattr(pop, key)[idx]
        else:
            hit = pop.income[idx] == INCOMES.index(key)
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
    one delegate's travel.
    """

    tier = support_tier(pop, idx, list(forum.support_priority))
    groups = [GROUPS.index(g) for g in forum.support_groups]
    ok = np.isin(pop.group[idx], groups) & (tier < len(forum.support_priority))
    order = np.lexsort((pop.resources[idx], tier, roles != MEMBER))
    order = order[ok[order]][: forum.funded_slots]
    funded = np.zeros(len(idx), bool)
    funded[order] = True
    return funded
