"""Blocs: the G77 and China, the EU, the African Group — membership as data, coordination as rules.

Membership comes from ``sim/data/blocs.csv`` (sources in ``blocs.SOURCES.md``). A forum
lists the blocs that coordinate in it (``forum.blocs``, in precedence order: a state in
two listed blocs acts in the first). Three things follow, each a pure function here:

- **coordination** (:func:`coordinate`): a bloc adopts a common position, the
  capability × salience weighted mean of its members' positions (the compromise model
  applied inside the bloc), and each member moves a share ``c`` (``behaviour.bloc_cohesion``)
  of the way to it before the decision: ``x'_i = (1 - c) x_i + c x̄_bloc``;
- **objection** (``forum.bloc_objection``): "each" — members object for themselves on
  their coordinated positions; "one" — a bloc's members become one row at the common
  position, which objects (or votes yes or no) once, casting its members' votes;
- **statements** (:func:`add_statements`): a bloc statement is a speaking turn worth
  ``forum.bloc_voice`` times the largest present member delegation's weight, shared by
  the members present. UN practice: statements "on behalf of" a group are taken before
  national ones; the G77 delivered the group statement on the ICT item of the Second
  Committee in 2007, 2010, 2013 and 2014 (research notes voice_un.md, S104, S105, S78, S82);
  GA res. 65/276 lets the EU speak "in conditions similar to" major groups (S102).

Measures (:func:`bloc_stats`): a bloc's *cohesion* at a meeting is
``1 - mean_i mean_k |x_ik - x̄_k|`` over its deciding members after coordination; its
*voice* is the share of the meeting's speaking weight held by its members, statement
included.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources as importlib_resources

import numpy as np
import pandas as pd

BLOC_OBJECTION = ("each", "one")


@cache
def bloc_members() -> dict[str, frozenset[str]]:
    """ISO3 codes per bloc name from the bundled ``blocs.csv`` (read once per process)."""
    path = importlib_resources.files("sim") / "data" / "blocs.csv"
    with importlib_resources.as_file(path) as p:
        df = pd.read_csv(p, usecols=["iso3", "bloc"])
    return {b: frozenset(g["iso3"]) for b, g in df.groupby("bloc", sort=False)}


_CODES: dict[tuple[int, tuple[str, ...]], tuple[np.ndarray, np.ndarray]] = {}


def population_blocs(iso3_all: np.ndarray, blocs: Sequence[str]) -> np.ndarray:
    """:func:`bloc_of` for a whole population's ISO3 array, cached while that array lives."""
    key = (id(iso3_all), tuple(blocs))
    hit = _CODES.get(key)
    if hit is None or hit[0] is not iso3_all:
        if len(_CODES) > 64:
            _CODES.clear()
        hit = _CODES[key] = (iso3_all, bloc_of(iso3_all, blocs))
    return hit[1]


def bloc_of(iso3: np.ndarray, blocs: Sequence[str]) -> np.ndarray:
    """Per actor, the index into ``blocs`` of the first listed bloc it belongs to (-1: none)."""
    out = np.full(len(iso3), -1, np.intp)
    table = bloc_members()
    for j in range(len(blocs) - 1, -1, -1):  # first listed wins
        out[np.isin(iso3, list(table[blocs[j]]))] = j
    return out


def add_statements(weight: np.ndarray, bloc: np.ndarray, bloc_voice: float) -> np.ndarray:
    """Speaking weights plus each present bloc's statement, shared equally by its members present.

    A statement weighs ``bloc_voice × max`` of its present members' own weights.
    """
    if bloc_voice <= 0 or not (bloc >= 0).any():
        return weight
    out = weight.astype(float).copy()
    for j in np.unique(bloc[bloc >= 0]):
        members = np.flatnonzero((bloc == j) & (weight > 0))
        if len(members):
            out[members] += bloc_voice * weight[members].max() / len(members)
    return out


def common_positions(position, weight, salience, bloc, n_blocs):
    """(n_blocs, k) capability × salience weighted mean position of each bloc (nan: absent)."""
    k = position.shape[1]
    out = np.full((n_blocs, k), np.nan)
    for j in range(n_blocs):
        rows = bloc == j
        if rows.any():
            ws = weight[rows, None] * salience[rows]
            total = ws.sum(axis=0)
            plain = position[rows].mean(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[j] = np.where(total > 0, (ws * position[rows]).sum(axis=0) / total, plain)
    return out


def coordinate(position, weight, salience, bloc, n_blocs, cohesion, objection="each"):
    """Members' positions after bloc coordination, and the rows the decision rule sees.

    Returns ``(position, weight, salience, votes, common, moved)``: with ``objection="each"``
    one row per member (positions moved toward their bloc's common position, one vote
    each); with ``"one"`` the non-bloc members' rows plus one row per bloc present at
    its common position, with its members' summed weight, mean salience and their
    number of votes. ``common`` is the (n_blocs, k) common positions, ``moved`` the
    members' coordinated positions (one row per member, for :func:`bloc_stats`).
    """
    common = common_positions(position, weight, salience, bloc, n_blocs)
    in_bloc = bloc >= 0
    moved = position.copy()
    moved[in_bloc] = (1 - cohesion) * position[in_bloc] + cohesion * common[bloc[in_bloc]]
    votes = np.ones(len(weight))
    if objection != "one" or not in_bloc.any():
        return moved, weight, salience, votes, common, moved
    present = [j for j in range(n_blocs) if (bloc == j).any()]
    keep = ~in_bloc
    pos = [moved[keep]] + [common[j][None] for j in present]
    sal = [salience[keep]] + [salience[bloc == j].mean(axis=0)[None] for j in present]
    w = [weight[keep]] + [np.array([weight[bloc == j].sum()]) for j in present]
    v = [votes[keep]] + [np.array([float((bloc == j).sum())]) for j in present]
    return np.vstack(pos), np.concatenate(w), np.vstack(sal), np.concatenate(v), common, moved


def bloc_stats(moved, bloc_deciding, common, voice, bloc_present) -> list[tuple[int, float, float]]:
    """Per bloc present: (bloc index, cohesion, voice share) — see the module docstring."""
    out = []
    for j in range(len(common)):
        share = float(voice[bloc_present == j].sum())
        rows = bloc_deciding == j
        if not rows.any() and share == 0:
            continue
        cohesion = 1.0 - float(np.abs(moved[rows] - common[j]).mean()) if rows.any() else np.nan
        out.append((j, cohesion, share))
    return out
