"""Voice rules: how speaking weight is shared among those present.

``rule(capacity, expertise, present_factor, stakeholder, **context) -> weights`` over the
attendees, where ``present_factor`` already folds in the role (member 1,
participant ``forum.participant_voice``, observer 0) and the remote discount;
``context`` may carry ``remote`` ((n,) bool: attending remotely), which rules ignore
unless they give remote participants a queue of their own.
Weights are normalised to voice shares (summing to 1) by the caller. ``capacity`` is the
delegation each actor actually sent in its mode (``Attendance.delegates``: a chosen size,
issue 13), not its maximum delegation.
"""

from __future__ import annotations

import numpy as np

from sim.model.forums.registry import register


@register(
    "voice",
    "capacity",
    source="Klöck, Baatz & Wendler 2025",
)
def capacity_voice(capacity, expertise, present_factor, stakeholder, **context):
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
def equal_voice(capacity, expertise, present_factor, stakeholder, **context):
    """One actor, one voice (up to the remote discount and role)."""
    return present_factor.astype(float)


@register(
    "voice",
    "equal_per_group",
    source="NetMundial 2014 (a microphone per group)",
)
def equal_per_group(capacity, expertise, present_factor, stakeholder, **context):
    """Each stakeholder group present has the same total voice, equal per actor within it.

    A design option: one queue per stakeholder group (governments, private sector, civil
    society, technical/academic, IGOs), five in all. NetMundial 2014 itself had four
    microphones with governments and IGOs sharing one, plus remote slots
    (:func:`microphones`).
    """
    w = present_factor.astype(float)
    totals = np.bincount(stakeholder, weights=w, minlength=stakeholder.max(initial=0) + 1)
    present = totals > 0
    share = np.divide(1.0, totals, out=np.zeros_like(totals), where=present) / max(present.sum(), 1)
    return w * share[stakeholder]


FULL_DELEGATION = 5.0
"""Delegates a mission needs to cover every meeting of a UN negotiation: Panke's study of
the General Assembly contrasts missions of fewer than five diplomats with ones "more than
ten times their size" (University of Freiburg project page; research notes voice_un.md,
S108)."""


@register(
    "voice",
    "speaking_list",
    source="UN GA rules and practice: speaking lists, equal time limits; Panke 2025",
)
def speaking_list(capacity, expertise, present_factor, stakeholder, **context):
    """One turn per delegation on the chair's speaking list, taken if the delegation can cover it.

    UN intergovernmental bodies give the floor in list order under equal time limits
    (GA general debate: 15 minutes, res. decision 34/401 Annex V: explanations of vote
    10 minutes; research notes voice_un.md, S98-S100), so speaking weight does not grow
    with delegation size once a delegation is there. Small missions are absent from more
    meetings ("size directly affects participation, but not success": Panke 2025,
    S107): a delegation of ``c`` takes its turn with weight ``min(1, c / 5)``
    (:data:`FULL_DELEGATION`). Bloc statements come on top (:mod:`sim.model.forums.blocs`).
    """
    return present_factor * np.minimum(1.0, capacity / FULL_DELEGATION)


MICROPHONE = np.array([0, 1, 2, 3, 0])
"""Microphone of each stakeholder code (governments, business, civil society, technical,
IGOs): governments and IGOs share one. NETmundial, "NETmundial announces dynamics for
working sessions", 20 Apr 2014 (netmundial.br): "four microphones ... Each microphone will be
used by one sector ... (i.e., Academia/Technical Community, Private Sector, Civil Society,
Government/IGO's)"."""

SLOTS = np.array([1.0, 1.0, 1.0, 1.0, 2.0])
"""Two-minute slots per round: one per microphone, two for remote participants ("6 slots
of 2 minutes: 4 from the microphones + 2 from remote participants"; same source)."""


@register(
    "voice",
    "microphones",
    source="NETmundial, 'announces dynamics for working sessions', 20 Apr 2014",
)
def microphones(capacity, expertise, present_factor, stakeholder, remote=None, **context):
    """Four microphones and a remote queue, taken in turn: NetMundial 2014 as it was.

    Onsite speakers queue at their sector's microphone (:data:`MICROPHONE`: governments
    and IGOs share one); remote participants (hubs, video and chat) share the remote
    slots. The chair alternates: each round gives every queue with somebody in it its
    :data:`SLOTS` (1 per microphone, 2 remote, of 6), so with all queues filled each
    microphone has 1/6 of the floor and the remote participants 2/6; a queue nobody stands
    in gives its slots to the others. Within a queue, turns are shared in proportion to
    the presence factor (role, and the remote discount).
    """
    w = present_factor.astype(float)
    queue = MICROPHONE[stakeholder]
    if remote is not None:
        queue = np.where(np.asarray(remote, bool), len(SLOTS) - 1, queue)
    totals = np.bincount(queue, weights=w, minlength=len(SLOTS))
    slots = np.where(totals > 0, SLOTS, 0.0)
    floor = slots / max(slots.sum(), 1e-12)
    per_unit = np.divide(floor, totals, out=np.zeros_like(totals), where=totals > 0)
    return w * per_unit[queue]
