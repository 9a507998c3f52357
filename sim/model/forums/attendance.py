"""Attendance and support rules: who comes, how (remote or onsite), and who is funded.

Attendance rules have the signature
``rule(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok, noise, rng) -> modes``
over the eligible actors, returning int8 modes (0 none, 1 remote, 2 onsite,
as in :data:`sim.model.config.MODES`). Utilities are ``U_none = 0``,
``U_remote = benefit_remote - remote_cost`` and ``U_onsite = benefit - onsite_cost``;
the benefits and costs are built in :mod:`sim.model.forums.meeting`.

Support rules have the signature ``rule(pop, idx, roles, forum) -> funded`` (a
bool mask over ``idx``, the eligible actors).
"""

from __future__ import annotations

import numpy as np

from sim.model.config import GROUPS, INCOMES, ForumConfig
from sim.model.forums.membership import MEMBER
from sim.model.forums.registry import register
from sim.model.population import Population


def _utilities(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok):
    """(m, 3) utilities of none / remote / onsite, -inf where a mode is unavailable."""
    benefit_onsite, benefit_remote = benefit
    u = np.zeros((len(benefit_onsite), 3))
    u[:, 1] = np.where(remote_ok, benefit_remote - remote_cost, -np.inf)
    u[:, 2] = np.where(onsite_ok, benefit_onsite - onsite_cost, -np.inf)
    return u


@register("attendance", "logit")
def logit_choice(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok, noise, rng):
    """Multinomial logit choice: ``P(mode) ∝ exp(U_mode / noise)``.

    Drawn as the argmax of utilities plus Gumbel noise of scale ``noise``
    (McFadden 1974), which needs one (m, 3) draw and no normalisation.
    """
    u = _utilities(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok)
    u += noise * rng.gumbel(size=u.shape)
    return np.argmax(u, axis=1).astype(np.int8)


@register("attendance", "best_response")
def best_response(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok, noise, rng):
    """Deterministic choice of the highest-utility mode (ties go to the cheaper mode)."""
    u = _utilities(benefit, onsite_cost, remote_cost, onsite_ok, remote_ok)
    return np.argmax(u, axis=1).astype(np.int8)


@register("attendance", "everyone_onsite")
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


@register("support", "none")
def no_support(pop: Population, idx: np.ndarray, roles: np.ndarray, forum: ForumConfig):
    """No travel funding."""
    return np.zeros(len(idx), bool)


@register("support", "funded_slots")
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
    ok = np.isin(pop.group[idx], groups) & (tier < len(forum.support_priority))
    order = np.lexsort((pop.resources[idx], tier, roles != MEMBER))
    order = order[ok[order]][: forum.funded_slots]
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
