"""Scenario discovery: in which region of the assumptions does a design fail (or succeed)?

PRIM, the patient rule induction method (Friedman & Fisher, "Bump hunting in
high-dimensional data", *Statistics and Computing* 9, 1999), as used for
scenario discovery by Bryant & Lempert ("Thinking inside the box", *Technological
Forecasting & Social Change* 77, 2010): peel the assumption space, one thin slice
at a time, toward a box in which the cases of interest are dense. Each box on the
peeling trajectory trades **coverage** (share of all cases of interest that fall
inside) against **density** (share of the cases inside that are of interest).

The peeling itself is the EMA Workbench's implementation
(:class:`ema_workbench.analysis.prim.Prim`, Kwakkel 2017), a well-kept and widely
used one; this module chooses a box on its trajectory and returns plain tables.
A CART tree (scikit-learn) is offered as the alternative the literature compares
PRIM with (Lempert et al., "Comparing algorithms for scenario discovery", RAND
WR-557, 2008).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

with warnings.catch_warnings():  # the workbench warns about optional parallel back ends
    warnings.simplefilter("ignore")
    from ema_workbench.analysis import prim as ema_prim

from sklearn.tree import DecisionTreeClassifier, export_text

logging.getLogger("EMA").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Box:
    """A PRIM box: its limits on the restricted assumptions and its quality.

    ``trajectory`` has one row per peeling step (``coverage``, ``density``,
    ``mass``, ``res_dim``); ``chosen`` is the row of the box reported;
    ``limits`` has one row per restricted assumption with ``low`` and ``high``.
    """

    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    cases_of_interest: int

    def contains(self, x: pd.DataFrame) -> np.ndarray:
        """Whether each row of ``x`` lies inside the box."""
        inside = np.ones(len(x), bool)
        for name, lim in self.limits.iterrows():
            inside &= (x[name] >= lim["low"]).to_numpy() & (x[name] <= lim["high"]).to_numpy()
        return inside


def prim_box(
    x: pd.DataFrame,
    y: np.ndarray,
    min_coverage: float = 0.8,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Box:
    """Find the densest PRIM box that keeps at least ``min_coverage`` of the cases of interest.

    Parameters
    ----------
    x
        The assumptions (numeric columns), one row per case.
    y
        Boolean: whether the case is of interest (e.g. the design failed).
    min_coverage
        The coverage the chosen box must keep; among such boxes the densest is taken
        (ties: the one with fewer restricted dimensions, then the larger).
    peel_alpha, mass_min
        PRIM's peeling fraction and smallest box mass (Friedman & Fisher 1999).

    Raises
    ------
    ValueError
        If no case is of interest (there is nothing to find).
    """
    y = np.asarray(y, bool)
    if not y.any():
        raise ValueError("no case of interest: nothing for PRIM to find")
    x = x.astype(float).reset_index(drop=True)
    finder = ema_prim.Prim(x, y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
    found = finder.find_box()
    traj = found.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
    ok = traj[traj["coverage"] >= min_coverage - 1e-12]
    pool = ok if len(ok) else traj
    best = pool.sort_values(["density", "res_dim", "mass"], ascending=[False, True, False])
    chosen = int(best.index[0])
    lims = found.box_lims[chosen]
    full = found.box_lims[0]
    restricted = [c for c in lims.columns if not np.allclose(lims[c], full[c])]
    limits = pd.DataFrame(
        {
            "low": [float(lims[c].iloc[0]) for c in restricted],
            "high": [float(lims[c].iloc[1]) for c in restricted],
        },  # fmt: skip
        index=pd.Index(restricted, name="assumption"),
    )
    row = traj.loc[chosen]
    return Box(
        trajectory=traj.reset_index(drop=True),
        chosen=chosen,
        limits=limits,
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        cases_of_interest=int(y.sum()),
    )


def cart_rules(x: pd.DataFrame, y: np.ndarray, max_depth: int = 3, seed: int = 0) -> str:
    """The rules of a shallow classification tree separating the cases of interest (text)."""
    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=max(5, len(x) // 50), random_state=seed
    )
    tree.fit(x.astype(float), np.asarray(y, bool))
    return export_text(tree, feature_names=[str(c) for c in x.columns], decimals=3)
