"""Deliberation rules: how positions move during a meeting.

``rule(position, weight, stubbornness, confidence, rounds) -> position`` over
the attendees, one issue at a time (position is 1-D). Speakers are the
attendees with ``weight > 0``; every attendee listens.
"""

from __future__ import annotations

import numpy as np

from sim.forums.registry import register


def neighbour_means(x: np.ndarray, xs: np.ndarray, ws: np.ndarray, eps: float) -> np.ndarray:
    """Weighted mean of the speakers within ``eps`` of each listener, in O((m + s) log s).

    ``xs``/``ws`` are the speakers' positions and weights. Sorting the speakers
    and taking prefix sums of ``w`` and ``w·x`` gives every window sum with two
    binary searches, so no m × s matrix is built. Listeners with no speaker in
    range keep their own position (returned as nan, filled by the caller).
    """
    order = np.argsort(xs, kind="stable")
    xs, ws = xs[order], ws[order]
    cw = np.concatenate(([0.0], np.cumsum(ws)))
    cwx = np.concatenate(([0.0], np.cumsum(ws * xs)))
    lo = np.searchsorted(xs, x - eps, side="left")
    hi = np.searchsorted(xs, x + eps, side="right")
    w = cw[hi] - cw[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 1e-300, (cwx[hi] - cwx[lo]) / w, np.nan)


def _hk_sorted(x, weight, stubbornness, confidence, rounds):
    """Hegselmann–Krause rounds kept in position order (for many speakers).

    Every attendee is kept sorted by position, with non-speakers at weight 0, so
    each round is prefix sums plus binary searches of sorted queries, and the
    re-sort after a round is a timsort of nearly sorted data (often skipped).
    Ties stay in index order and zero weights add exact zeros, so the window
    sums — hence the positions — are bit-identical to :func:`neighbour_means`
    over the speakers alone.
    """
    order = np.argsort(x, kind="stable")
    xo = x[order]
    wo = weight[order]
    so = stubbornness[order]
    for _ in range(rounds):
        cw = np.concatenate(([0.0], np.cumsum(wo)))
        cwx = np.concatenate(([0.0], np.cumsum(wo * xo)))
        lo = np.searchsorted(xo, xo - confidence, side="left")  # sorted queries: cache-friendly
        hi = np.searchsorted(xo, xo + confidence, side="right")
        w = cw[hi] - cw[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(w > 1e-300, (cwx[hi] - cwx[lo]) / w, np.nan)
        m = np.where(np.isnan(m), xo, m)
        xo = so * xo + (1.0 - so) * m
        step = np.diff(xo)
        perm = np.argsort(xo, kind="stable") if (step < 0).any() else None
        new_order = order if perm is None else order[perm]
        xs = xo if perm is None else xo[perm]
        tie = np.flatnonzero(np.diff(xs) == 0)
        if len(tie) and (new_order[tie] > new_order[tie + 1]).any():
            perm = np.lexsort((order, xo))  # ties back into index order
            new_order = order[perm]
        if perm is not None:
            xo, wo, so, order = xo[perm], wo[perm], so[perm], new_order
    out = np.empty_like(x)
    out[order] = xo
    return out


@register("deliberation", "none")
def no_deliberation(position, weight, stubbornness, confidence, rounds):
    """Positions do not move."""
    return position


@register("deliberation", "hegselmann_krause")
def hegselmann_krause(position, weight, stubbornness, confidence, rounds):
    """Weighted bounded-confidence averaging with stubbornness (Hegselmann & Krause 2002).

    Each round, synchronously: ``x_i <- s_i x_i + (1 - s_i) m_i`` with
    ``m_i = Σ_{j: |x_j - x_i| <= ε} w_j x_j / Σ_{j: |x_j - x_i| <= ε} w_j`` over
    speakers j. With ``s = 0``, equal weights and a wide bound ε all reach one
    consensus; with a narrow bound opinions split into clusters (Fortunato 2005).
    """
    x = np.asarray(position, float).copy()
    speak = weight > 0
    if not speak.any():
        return x
    if len(x) >= 2048 and 4 * np.count_nonzero(speak) >= len(x):  # many speakers: keep sorted
        s = np.broadcast_to(np.asarray(stubbornness, float), x.shape)
        return _hk_sorted(x, np.where(speak, weight, 0.0), s, confidence, rounds)
    ws = weight[speak]
    for _ in range(rounds):
        m = neighbour_means(x, x[speak], ws, confidence)
        m = np.where(np.isnan(m), x, m)
        x = stubbornness * x + (1.0 - stubbornness) * m
    return x
