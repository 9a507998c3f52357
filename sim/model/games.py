"""A priori power in decision chains that are not one weighted vote.

A chain such as "the ICANN Board adopts by majority **and** the US government
approves" (before the 2016 IANA transition), or "the Board adopts **and** the
Empowered Community does not reject" (after it), is a *simple game*: a set of
players and a rule saying which coalitions can carry a decision. It is not a
weighted voting game, so :mod:`sim.model.power`'s generating functions do not
apply; these games are small (a board of 16 plus at most five community
participants or one veto player), so every coalition is enumerated.

Player ``i`` *swings* for coalition ``S`` (``i ∉ S``) when ``S`` loses and
``S ∪ {i}`` wins; the normalized Banzhaf index is ``η_i / Σ_j η_j`` (Banzhaf
1965). A *veto player* swings in every winning coalition that contains it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_PLAYERS = 24
"""Coalitions are enumerated: 2^24 rows of booleans is the most this does."""


@dataclass(frozen=True)
class SimpleGame:
    """Players (with labels) and the rule that says which coalitions win.

    ``wins(members)`` takes a boolean array of shape ``(c, n)`` (one coalition per
    row) and returns a boolean array of shape ``(c,)``.
    """

    labels: tuple[str, ...]
    wins: Callable[[np.ndarray], np.ndarray]

    @property
    def n(self) -> int:
        return len(self.labels)


def coalitions(n: int) -> np.ndarray:
    """Every coalition of ``n`` players as a ``(2^n, n)`` boolean array (row = bit pattern)."""
    if not 0 < n <= MAX_PLAYERS:
        raise ValueError(f"a simple game needs 1 to {MAX_PLAYERS} players, got {n}")
    codes = np.arange(2**n, dtype=np.int64)[:, None]
    return ((codes >> np.arange(n)) & 1).astype(bool)


def swing_counts(game: SimpleGame) -> np.ndarray:
    """``η_i``: for each player, the number of coalitions of the others it turns into winners."""
    members = coalitions(game.n)
    win = np.asarray(game.wins(members), bool)
    counts = np.zeros(game.n, dtype=np.int64)
    for i in range(game.n):
        without = ~members[:, i]  # coalitions S not containing i; S ∪ {i} is row + 2^i
        rows = np.flatnonzero(without)
        counts[i] = int((~win[rows] & win[rows + (1 << i)]).sum())
    return counts


def banzhaf(game: SimpleGame) -> np.ndarray:
    """Normalized Banzhaf index of every player (sums to 1; zeros if nobody ever swings)."""
    eta = swing_counts(game).astype(float)
    total = eta.sum()
    return eta / total if total > 0 else eta


def quota_vote(members: np.ndarray, quota: int) -> np.ndarray:
    """Whether at least ``quota`` of the given columns are in each coalition."""
    return members.sum(axis=1) >= quota


def majority_quota(n: int, share: float = 0.5) -> int:
    """Votes needed: more than half, and at least ``ceil(share × n)``."""
    return max(n // 2 + 1, int(np.ceil(share * n - 1e-9)))
