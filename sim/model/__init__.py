"""The model layer: the world and its rules.

Config schema and validation (:mod:`.config`, :mod:`.compose`), the population
and its Mesa handles (:mod:`.population`, :mod:`.actors`), forums as rules
(:mod:`.forums`), :class:`GovernanceModel` (:mod:`.model`), and what is measured
(:mod:`.metrics`, :mod:`.power`, :mod:`.summary`). No files are written and
nothing is plotted here.
"""

from sim.model.model import GovernanceModel

__all__ = ["GovernanceModel"]
