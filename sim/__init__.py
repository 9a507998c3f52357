"""govsim: participation, voice and power in internet-governance forums (Mesa 3.5).

>>> from sim import GovernanceModel
>>> model = GovernanceModel(scenario="status_quo", rng=1).run()
>>> tables = model.tables()
"""

from sim.model import GovernanceModel

__all__ = ["GovernanceModel"]
__version__ = "0.1.0"
