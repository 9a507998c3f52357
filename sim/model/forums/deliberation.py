"""Deliberation rules: how positions move during a meeting.

``rule(position, weight, stubbornness, confidence, rounds) -> position`` over
the attendees. ``position`` is either 1-D (one issue, one entry per attendee)
or 2-D, shape ``(k, m)``: one row per agenda issue, each deliberated
independently with the same weights (a meeting passes its whole agenda at
once, so the per-call cost of numpy is paid once per round, not once per issue
and round). Speakers are the attendees with ``weight > 0``; every attendee
listens.

Three interchangeable implementations of Hegselmann–Krause give the same
window sums, hence the same positions bit for bit (checked in
``tests/test_reference.py``):

- :func:`_hk_rows` (few attendees): per round, one stable ``argsort`` and one
  ``cumsum`` over all agenda rows, and one binary search per row;
- :func:`_hk_sorted` (numpy, many speakers): everyone kept sorted by position;
- :func:`_hk_compiled` (numba, :mod:`sim.model.forums.hk_kernel`; at least
  :data:`COMPILED_MIN` attendees): the same
  sorted state, but each round one two-pointer sweep (O(n), no binary search)
  and a radix sort (O(n)) back into position order. numba is imported
  and the kernel compiled (or loaded from its on-disk cache) only the first time
  a meeting that large deliberates, so small runs never pay for it; without
  numba the numpy paths are used.
"""

from __future__ import annotations

import os

import numpy as np

from sim.model.forums.registry import register

COMPILED_MIN = 5_000
"""Attendees from which the compiled kernel is used (when numba is available)."""

_kernel = None  # the compiled kernel once loaded; False if numba is unavailable or disabled


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


def _hk_rows(x: np.ndarray, weight: np.ndarray, stubbornness, confidence: float, rounds: int):
    """Hegselmann–Krause on every row of ``x`` (shape (k, m)) at once.

    Per round: the speakers' positions of all rows are sorted with one
    ``argsort(axis=1)``, their prefix sums taken with one ``cumsum(axis=1)`` (a
    sequential sum along each row, the same additions in the same order as
    :func:`neighbour_means` on that row) and both window bounds found with one
    binary search per row. Results equal :func:`neighbour_means` row by row,
    bit for bit.
    """
    k, m = x.shape
    speak = np.flatnonzero(weight > 0)
    s = len(speak)
    ws = weight[speak]
    base = (np.arange(k) * (s + 1))[:, None]  # row offsets into the flattened prefix sums
    cw = np.zeros((k, s + 1))
    cwx = np.zeros((k, s + 1))
    cw_flat, cwx_flat = cw.ravel(), cwx.ravel()  # views
    rows = np.arange(k)[:, None]
    bounds = np.empty((k, 2 * m), np.intp)  # [lo | hi] per row
    queries = np.empty((k, 2 * m))
    keep = 1.0 - stubbornness
    for _ in range(rounds):
        xs = x[:, speak]
        order = np.argsort(xs, axis=1, kind="stable")
        xs = xs[rows, order]
        wo = ws[order]
        np.cumsum(wo, axis=1, out=cw[:, 1:])
        np.cumsum(wo * xs, axis=1, out=cwx[:, 1:])
        # one binary search per row for both bounds: #{x_j <= q} = #{x_j < next float after q}
        np.subtract(x, confidence, out=queries[:, :m])
        np.nextafter(x + confidence, np.inf, out=queries[:, m:])
        for j in range(k):
            bounds[j] = xs[j].searchsorted(queries[j], side="left")
        bounds += base
        lo, hi = bounds[:, :m], bounds[:, m:]
        w = cw_flat[hi] - cw_flat[lo]
        # the window mean where some speaker is in range; elsewhere the listener's own position
        mean = np.divide(cwx_flat[hi] - cwx_flat[lo], w, out=x.copy(), where=w > 1e-300)
        x = stubbornness * x + keep * mean
    return x


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


def _compile_kernel():
    """The numba kernel (compiled once, cached on disk), or None without numba."""
    try:
        from sim.model.forums.hk_kernel import hk_rows_sorted
    except ImportError:  # pragma: no cover - numba is pinned in requirements.txt
        return None
    return hk_rows_sorted


def compiled_kernel():
    """The compiled Hegselmann–Krause kernel, loading it on first use; None if unavailable.

    Set the environment variable ``GOVSIM_NO_NUMBA=1`` to use the numpy paths only.
    """
    global _kernel
    if _kernel is None:
        compiled = None if os.environ.get("GOVSIM_NO_NUMBA") else _compile_kernel()
        _kernel = compiled or False
    return _kernel or None


def _hk_compiled(x, weight, stubbornness, confidence, rounds, kernel):
    """Hegselmann–Krause on every row of ``x`` (k, n) with the compiled kernel."""
    return kernel(
        np.ascontiguousarray(x, float),
        np.ascontiguousarray(np.where(weight > 0, weight, 0.0), float),
        np.ascontiguousarray(np.broadcast_to(stubbornness, x.shape[1:]), float),
        float(confidence),
        int(rounds),
    )


@register("deliberation", "none", source="benchmark")
def no_deliberation(position, weight, stubbornness, confidence, rounds):
    """Positions do not move."""
    return position


@register(
    "deliberation",
    "hegselmann_krause",
    source="Hegselmann & Krause 2002",
    params=("confidence", "rounds"),
)
def hegselmann_krause(position, weight, stubbornness, confidence, rounds):
    """Weighted bounded-confidence averaging with stubbornness (Hegselmann & Krause 2002).

    Each round, synchronously: ``x_i <- s_i x_i + (1 - s_i) m_i`` with
    ``m_i = Σ_{j: |x_j - x_i| <= ε} w_j x_j / Σ_{j: |x_j - x_i| <= ε} w_j`` over
    speakers j. With ``s = 0``, equal weights and a wide bound ε all reach one
    consensus; with a narrow bound opinions split into clusters (Fortunato 2005).
    ``position`` is 1-D (one issue) or (k, m): k issues deliberated independently.
    """
    x = np.array(position, float, order="C")  # a copy
    one_issue = x.ndim == 1
    x = x.reshape(1, -1) if one_issue else x
    weight = np.asarray(weight, float)
    speak = weight > 0
    n = x.shape[1]
    if not speak.any() or x.shape[0] == 0 or rounds <= 0:
        out = x
    elif n >= COMPILED_MIN and (kernel := compiled_kernel()) is not None:
        out = _hk_compiled(x, weight, stubbornness, confidence, rounds, kernel)
    elif n >= 2048 and 4 * np.count_nonzero(speak) >= n:  # many speakers: keep sorted
        s = np.broadcast_to(np.asarray(stubbornness, float), (n,))
        w = np.where(speak, weight, 0.0)
        out = np.stack([_hk_sorted(row, w, s, confidence, rounds) for row in x])
    else:
        out = _hk_rows(x, weight, np.asarray(stubbornness, float), confidence, rounds)
    return out[0] if one_issue else out
