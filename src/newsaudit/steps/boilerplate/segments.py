"""Per-page operations on a batch of concatenated pages' lines: shifts, windows and runs that never
cross a page boundary, so a line's features do not depend on which pages share its batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _max_subarray(values: np.ndarray) -> tuple[int, int]:
    """Inclusive bounds of the contiguous run with the largest sum (Kadane); (-1, -1) if all <= 0."""
    best, best_lo, best_hi = 0.0, -1, -1
    run, lo = 0.0, 0
    for i, v in enumerate(values):
        if run <= 0:
            run, lo = v, i
        else:
            run += v
        if run > best:
            best, best_lo, best_hi = run, lo, i
    return best_lo, best_hi


@dataclass(frozen=True)
class Segments:
    """Where each line's page starts and ends in a batch of concatenated pages (end exclusive)."""

    start: np.ndarray
    end: np.ndarray
    page: np.ndarray  # page index of each line

    @classmethod
    def of(cls, sizes: list[int] | np.ndarray) -> Segments:
        sizes = np.asarray(sizes, dtype=np.int64)
        ends = np.cumsum(sizes)
        page = np.repeat(np.arange(len(sizes)), sizes)
        return cls((ends - sizes)[page], ends[page], page)

    @property
    def idx(self) -> np.ndarray:
        return np.arange(len(self.page), dtype=np.int64)


def seg_shift(values: np.ndarray, offset: int, seg: Segments) -> np.ndarray:
    """values[i + offset] within the line's page, NaN outside it (the model handles NaN natively)."""
    j = seg.idx + offset
    ok = (j >= seg.start) & (j < seg.end)
    out = np.full(len(values), np.nan)
    out[ok] = values[j[ok]]
    return out


FIXED_POINT = float(2**30)


def seg_window_mean(values: np.ndarray, half: int, seg: Segments) -> np.ndarray:
    """Mean over lines i-half..i+half of the line's page, clipped at the page edges.

    Sums run in 2^-30 fixed point (int64), so a line's value does not depend on which other pages
    share its batch: the same page gives the same features alone, in a batch or on a cluster.
    """
    if len(values) == 0:
        return np.zeros(0)
    fixed = np.rint(np.asarray(values, dtype=float) * FIXED_POINT).astype(np.int64)
    csum = np.concatenate([[0], np.cumsum(fixed)])
    idx = seg.idx
    lo = np.maximum(idx - half, seg.start)
    hi = np.minimum(idx + half + 1, seg.end)
    return (csum[hi] - csum[lo]) / FIXED_POINT / (hi - lo)


def seg_max_subarray(values: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per page, inclusive bounds (page-local) of the run with the largest sum; -1 if all <= 0."""
    los, his = np.full(len(sizes), -1), np.full(len(sizes), -1)
    pos = 0
    for p, n in enumerate(sizes):
        los[p], his[p] = _max_subarray(values[pos : pos + n])
        pos += n
    return los, his


def seg_distance_to_run(seg: Segments, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Distance in lines from each line to its page's run (lo/hi page-local, -1: no run = page size)."""
    local = seg.idx - seg.start
    lo_l, hi_l = lo[seg.page], hi[seg.page]
    dist = np.where(local < lo_l, lo_l - local, np.where(local > hi_l, local - hi_l, 0)).astype(float)
    return np.where(lo_l < 0, (seg.end - seg.start).astype(float), dist)
