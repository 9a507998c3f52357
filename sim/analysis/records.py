"""Inputs of a behaviour chosen against records the IGF calibration cannot see.

After ``govsim calibrate`` fits a behaviour to IGF attendance (which has no mission city
and no negotiation to speak of), two of its inputs are chosen at the estimate:

- ``behaviour.mission_duty``: the least that brings the General Assembly's mean attendance
  to its highest recorded vote (:func:`sim.analysis.predict.least_mission_duty`);
- ``behaviour.reservation``: the one at which the 2005-2025 replay meets every history
  target (:func:`sim.analysis.history.reservation_for`).

They interact (the reservation changes what reaches the GA, the duty who negotiates), so
they are chosen in turn until neither moves.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.analysis import history, predict


def choose(behaviour: str = "default", overrides: Sequence[str] = (), rounds: int = 4
           ) -> dict[str, float]:  # fmt: skip
    """``{"behaviour.mission_duty": d, "behaviour.reservation": r}``: each chosen at the
    other's value, alternately, until the reservation repeats (then the duty was chosen at
    it). Raises ``ValueError`` if ``rounds`` passes do not settle."""
    reservation: list[str] = []  # the first duty: at the behaviour's own reservation
    last = None
    for _ in range(rounds):
        duty = predict.least_mission_duty(behaviour, [*overrides, *reservation])
        value = history.reservation_for(behaviour, [*overrides, f"behaviour.mission_duty={duty}"])
        if value == last:
            return {"behaviour.mission_duty": duty, "behaviour.reservation": value}
        last, reservation = value, [f"behaviour.reservation={value}"]
    raise ValueError(f"mission duty and reservation did not settle in {rounds} rounds")
