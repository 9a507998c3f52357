"""Actor agents: Mesa handles onto the population's arrays.

The state of every actor lives in :class:`sim.model.population.Population` (a struct
of numpy arrays) so that a meeting is array operations. An :class:`Actor` is
the object a Mesa user sees in ``model.agents``: its attributes read and write
its row of those arrays, so ``actor.engagement`` and the vectorized core never
disagree.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model.config import GROUPS, INCOMES, REGIONS


class Actor(mesa.Agent):
    """A stakeholder taking part in forums. ``index`` is its row in ``model.pop``."""

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def _pop(self):
        return self.model.pop

    @property
    def group(self) -> str:
        return GROUPS[self._pop.group[self.index]]

    @property
    def region(self) -> str:
        return REGIONS[self._pop.region[self.index]]

    @property
    def resources(self) -> float:
        """Yearly participation budget (budget units)."""
        return float(self._pop.resources[self.index])

    @property
    def capacity(self) -> float:
        """Delegation size."""
        return float(self._pop.capacity[self.index])

    @property
    def expertise(self) -> float:
        return float(self._pop.expertise[self.index])

    @expertise.setter
    def expertise(self, value: float) -> None:
        self._pop.expertise[self.index] = value

    @property
    def position(self) -> np.ndarray:
        """Current position on each issue (a view: writes go to the model's state)."""
        return self._pop.position[self.index]

    @property
    def salience(self) -> np.ndarray:
        return self._pop.salience[self.index]

    @property
    def engagement(self) -> np.ndarray:
        """Engagement with each forum, in the order of ``model.forum_names`` (a view)."""
        return self._pop.engagement[self.index]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.unique_id}, {self.group}, {self.region})"


class Government(Actor):
    """A UN member state's government."""

    @property
    def iso3(self) -> str:
        return str(self._pop.iso3[self.index])

    @property
    def income_group(self) -> str:
        return INCOMES[self._pop.income[self.index]]

    @property
    def developing(self) -> bool:
        return self.group == "developing_gov"

    @property
    def ldc(self) -> bool:
        return bool(self._pop.ldc[self.index])

    @property
    def sids(self) -> bool:
        return bool(self._pop.sids[self.index])


class Company(Actor):
    """A private-sector organisation."""


class CivilSociety(Actor):
    """A civil-society organisation."""


class TechnicalOrg(Actor):
    """A technical-community or academic organisation."""


class IGO(Actor):
    """An intergovernmental organisation (observer in most forums)."""


AGENT_CLASSES = (Government, Government, Company, CivilSociety, TechnicalOrg, IGO)
"""Agent class by group code (see :data:`sim.model.config.GROUPS`)."""
