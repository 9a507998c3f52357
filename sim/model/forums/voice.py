"""Voice rules: how speaking weight is shared among those present.

``rule(capacity, expertise, present_factor, stakeholder) -> weights`` over the
attendees, where ``present_factor`` already folds in the role (member 1,
participant ``forum.participant_voice``, observer 0) and the remote discount.
Weights are normalised to voice shares (summing to 1) by the caller.
"""

from __future__ import annotations

import numpy as np

from sim.model.forums.registry import register


@register(
    "voice",
    "capacity",
    source="Klöck, Baatz & Wendler 2025",
)
def capacity_voice(capacity, expertise, present_factor, stakeholder):
    """Voice ∝ delegation size × expertise × presence: large, expert delegations speak most.

    Delegation size matters for fair participation in multilateral negotiations
    (Klöck, Baatz & Wendler 2025: about 15 delegates are needed).
    """
    return capacity * expertise * present_factor


@register(
    "voice",
    "equal",
    source="ASSUMPTION (one actor, one voice)",
)
def equal_voice(capacity, expertise, present_factor, stakeholder):
    """One actor, one voice (up to the remote discount and role)."""
    return present_factor.astype(float)


@register(
    "voice",
    "equal_per_group",
    source="NetMundial 2014 (a microphone per group)",
)
def equal_per_group(capacity, expertise, present_factor, stakeholder):
    """Each stakeholder group present has the same total voice, equal per actor within it.

    NetMundial 2014: speakers queued at one microphone per stakeholder group
    (governments, private sector, civil society, technical/academic, IGOs).
    """
    w = present_factor.astype(float)
    totals = np.bincount(stakeholder, weights=w, minlength=stakeholder.max(initial=0) + 1)
    present = totals > 0
    share = np.divide(1.0, totals, out=np.zeros_like(totals), where=present) / max(present.sum(), 1)
    return w * share[stakeholder]
