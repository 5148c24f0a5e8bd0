"""Wall time and peak memory of a block of code, for the benchmarks (never for tests).

Peak memory is the resident set size of this process *and its child processes* (the process pools
of ingest, boilerplate and duplicates), sampled by a background thread; ``resource.ru_maxrss``
would miss the children and cannot be reset between stages. The sampling interval bounds what a
short spike can hide; the figures are labelled as sampled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

SAMPLE_SECONDS = 0.02


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and all its descendants (processes that vanish are skipped)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


@dataclass
class Measurement:
    seconds: float = 0.0
    start_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0  # process tree, sampled

    @property
    def peak_above_start_mb(self) -> float:
        return max(0.0, self.peak_rss_mb - self.start_rss_mb)


@contextmanager
def measure(interval: float = SAMPLE_SECONDS) -> Iterator[Measurement]:
    """``with measure() as m: ...`` fills ``m.seconds`` and the sampled peak RSS (MB) of the tree."""
    proc = psutil.Process()
    m = Measurement()
    m.start_rss_mb = m.peak_rss_mb = tree_rss(proc) / 2**20
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            m.peak_rss_mb = max(m.peak_rss_mb, tree_rss(proc) / 2**20)

    thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    thread.start()
    t0 = time.perf_counter()
    try:
        yield m
    finally:
        m.seconds = time.perf_counter() - t0
        stop.set()
        thread.join()
        m.peak_rss_mb = max(m.peak_rss_mb, tree_rss(proc) / 2**20)
