"""Compiled (numba) Hegselmann–Krause kernel for large meetings.

Imported by :func:`sim.model.forums.deliberation.compiled_kernel` only when a meeting
has at least ``COMPILED_MIN`` attendees, so that runs of the default size never
import numba. The functions are compiled on first use and cached on disk
(``cache=True``: ``__pycache__`` next to this file, or ``NUMBA_CACHE_DIR``); later
processes load the machine code instead of compiling. Both must give exactly
the window sums of the numpy paths (``tests/test_reference.py``).
"""

from __future__ import annotations

import numba
import numpy as np

RADIX_BITS = 11  # bits per radix-sort pass: 6 passes over 64-bit keys
RADIX_PASSES = (64 + RADIX_BITS - 1) // RADIX_BITS
RADIX_MASK = (1 << RADIX_BITS) - 1

jit = numba.njit(cache=True, nogil=True)


@jit
def radix_argsort(values, keys, perm, key_tmp, perm_tmp, hist):
    # Stable argsort of float64 ``values`` (no nan) into ``perm``: LSD radix sort on
    # order-preserving integer keys, RADIX_BITS bits a pass, passes with one digit skipped.
    # Equal values keep index order, exactly as np.argsort(kind="stable").
    n = len(values)
    bits = values.view(np.uint64)
    top = np.uint64(1) << np.uint64(63)
    hist[:, :] = 0
    for i in range(n):
        u = bits[i]
        if u == top:  # -0.0 sorts with +0.0
            u = np.uint64(0)
        k = ~u if u & top else u | top
        keys[i] = k
        perm[i] = i
        for d in range(RADIX_PASSES):
            hist[d, (k >> np.uint64(RADIX_BITS * d)) & np.uint64(RADIX_MASK)] += 1
    for d in range(RADIX_PASSES):
        skip = False
        for c in range(RADIX_MASK + 1):
            if hist[d, c] == n:
                skip = True
                break
        if skip:
            continue
        total = 0
        for c in range(RADIX_MASK + 1):
            count = hist[d, c]
            hist[d, c] = total
            total += count
        shift = np.uint64(RADIX_BITS * d)
        for i in range(n):
            k = keys[i]
            c = (k >> shift) & np.uint64(RADIX_MASK)
            dst = hist[d, c]
            hist[d, c] = dst + 1
            key_tmp[dst] = k
            perm_tmp[dst] = perm[i]
        keys, key_tmp = key_tmp, keys
        perm, perm_tmp = perm_tmp, perm
    return perm


@jit
def _gather(perm, x, weight, stubbornness, idx, xo, wo, so):
    """Lay positions, weights and stubbornness out in the sorted order ``perm``."""
    for i in range(len(perm)):
        a = perm[i]
        idx[i] = a
        xo[i] = x[a]
        wo[i] = weight[a]
        so[i] = stubbornness[a]


@jit
def hk_rows_sorted(x, weight, stubbornness, confidence, rounds):
    # x: (k, n) positions, one row per issue; weight and stubbornness: (n,).
    k, n = x.shape
    out = np.empty_like(x)
    xo = np.empty(n)
    wo = np.empty(n)
    so = np.empty(n)
    cw = np.zeros(n + 1)
    cwx = np.zeros(n + 1)
    by_index = np.empty(n)
    idx = np.empty(n, np.int64)
    keys = np.empty(n, np.uint64)
    key_tmp = np.empty(n, np.uint64)
    perm_a = np.empty(n, np.int64)
    perm_b = np.empty(n, np.int64)
    hist = np.zeros((RADIX_PASSES, RADIX_MASK + 1), np.int64)
    for j in range(k):
        by_index[:] = x[j]
        perm = radix_argsort(by_index, keys, perm_a, key_tmp, perm_b, hist)
        _gather(perm, by_index, weight, stubbornness, idx, xo, wo, so)
        for r in range(rounds):
            # prefix sums: the same sequential additions as np.cumsum
            acc_w = 0.0
            acc_wx = 0.0
            for i in range(n):
                acc_w += wo[i]
                acc_wx += wo[i] * xo[i]
                cw[i + 1] = acc_w
                cwx[i + 1] = acc_wx
            # two pointers: lo = #{x < x_i - eps}, hi = #{x <= x_i + eps} (sorted queries)
            lo = 0
            hi = 0
            for i in range(n):
                below = xo[i] - confidence
                above = xo[i] + confidence
                while lo < n and xo[lo] < below:
                    lo += 1
                while hi < n and xo[hi] <= above:
                    hi += 1
                w = cw[hi] - cw[lo]
                if w > 1e-300:
                    m = (cwx[hi] - cwx[lo]) / w
                else:
                    m = xo[i]
                by_index[idx[i]] = so[i] * xo[i] + (1.0 - so[i]) * m
            if r == rounds - 1:
                break
            # back into order by (position, index) for the next round
            perm = radix_argsort(by_index, keys, perm_a, key_tmp, perm_b, hist)
            _gather(perm, by_index, weight, stubbornness, idx, xo, wo, so)
        out[j, :] = by_index
    return out
