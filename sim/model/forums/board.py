"""A ratifying board by its bylaws: seats, staggered terms and a noisy vote on advice.

The ICANN Board has 16 voting directors — 8 selected by the Nominating Committee, 2 each
by the ASO and the ccNSO, one by each GNSO house, one by At-Large, and the President and
CEO (``sim/data/icann_board.csv``; sources in ``icann_board.SOURCES.md``). Each seat draws
its director from the stakeholder groups its selecting body stands for (an ASSUMPTION,
stated in the SOURCES file); terms are staggered, so about a third of the seats are
re-drawn each year and the board's positions move with the community's.

The board votes on each adopted item of advice (:func:`board_vote`): director ``d``
votes to decline item ``k`` with probability
``logistic((L_dk - δ) / σ)``, ``L_dk = s_dk (|x_dk - a_k| - |x_dk - q_k|)`` its
salience-weighted loss from the advice ``a`` against the status quo ``q``, ``δ`` the
board's deference (``forum.board_deference``) and ``σ`` the noise of its judgement
(``forum.board_noise``). The advice is declined when at least ``forum.supermajority`` of
the directors vote to decline (ICANN Bylaws 2016 §12.2(a)(x): 60% for GAC consensus
advice; a simple majority before October 2016). Declines are rare but real: ICANN
approved .xxx on 18 March 2011 against GAC advice (9-3) and left parts of the GAC's 2011
new-gTLD scorecard unaccepted (docs/FACTS.md).
"""

from __future__ import annotations

from functools import cache
from importlib import resources as importlib_resources

import numpy as np
import pandas as pd
from scipy.special import expit

from sim.model.config import GROUPS, ForumConfig
from sim.model.forums.decision import BOARD_GAME, objecting
from sim.model.forums.registry import register

BOARD_DATA = {"icann": "icann_board.csv"}
"""Boards described by data (``forum.board_data``), file names under ``sim/data``."""


@cache
def board_table(name: str) -> pd.DataFrame:
    """The seat table of board ``name``: one row per selecting body."""
    path = importlib_resources.files("sim") / "data" / BOARD_DATA[name]
    with importlib_resources.as_file(path) as p:
        return pd.read_csv(p)


def seat_groups(forum: ForumConfig) -> list[tuple[int, ...]]:
    """Per director (seat), the stakeholder-group codes it is drawn from.

    From ``forum.board_data`` when set (a table of selecting bodies), else one seat per
    ``forum.board_seats`` count, drawn from that group.
    """
    if forum.board_data:
        rows = board_table(forum.board_data).itertuples()
        return [
            tuple(GROUPS.index(g) for g in r.groups.split(";"))
            for r in rows
            for _ in range(int(r.directors))
        ]
    return [(GROUPS.index(g),) for g, n in forum.board_seats.items() for _ in range(n)]


def draw_directors(group: np.ndarray, seats: list[tuple[int, ...]], which: np.ndarray,
                   who: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Fill the seats in ``which`` with actors of their groups, none sitting twice.

    ``who`` holds the current directors (-1: empty); returns the new array.
    """
    who = who.copy()
    for s in np.flatnonzero(which):
        pool = np.flatnonzero(np.isin(group, seats[s]))
        pool = pool[~np.isin(pool, np.delete(who, s))]
        who[s] = pool[rng.integers(len(pool))] if len(pool) else -1
    return who


def expiring(n_seats: int, year: int, term: int) -> np.ndarray:
    """Seats whose term ends before ``year``: staggered, about ``1/term`` of them a year.

    Seat ``i`` turns over in the years with ``(year + i) % term == 0`` (ASSUMPTION: an even
    stagger; the bylaws stagger terms by selecting body). ``term <= 0``: nobody rotates.
    """
    if term <= 0:
        return np.zeros(n_seats, bool)
    return (year + np.arange(n_seats)) % term == 0


@register(
    "ratification",
    "board_vote",
    source="ICANN Bylaws 2016 Art. 7 (16 voting directors) and §12.2 (60% to decline GAC advice)",
    params=(
        "board_data",
        "board_seats",
        "board_term_years",
        "board_noise",
        "board_deference",
        "supermajority",
    ),
    game=BOARD_GAME,
)
def board_vote(adopted, outcome, status_quo, board_position, board_salience, forum, **context):
    """Each director votes on each adopted item; declined by a ``forum.supermajority``.

    Director ``d`` votes to decline item ``k`` with probability
    ``logistic((L_dk - δ) / σ)`` (see the module docstring), a draw from the model's
    generator ``context["rng"]``; without a generator, or with ``σ = 0``, a director
    declines exactly when ``L_dk > δ`` (the objection test). Returns (adopted, declined).
    """
    k = len(adopted)
    if len(board_position) == 0:
        return adopted, np.zeros(k, bool)
    rng, noise = context.get("rng"), forum.board_noise
    if rng is None or noise <= 0:
        against = objecting(board_position, board_salience, outcome, status_quo,
                            forum.board_deference)  # fmt: skip
    else:
        with np.errstate(invalid="ignore"):
            loss = board_salience * (
                np.abs(board_position - outcome) - np.abs(board_position - status_quo)
            )
        p = expit((np.nan_to_num(loss, nan=-np.inf) - forum.board_deference) / noise)
        against = rng.random(p.shape) < p
    share = against.mean(axis=0)
    declined = adopted & (share >= forum.supermajority - 1e-9)
    return adopted & ~declined, declined
