"""Ordered, bounded parallel map over batches: how the streaming stages use both cores.

Each worker process receives its heavy state (a model, an index) once, through the pool
initializer, not with every batch. Results come back in input order, with at most ``window``
batches in flight, so memory holds a few batches whatever the corpus size. Workers are spawned, not
forked: the parent may run threads (pyarrow, the benchmark's RSS sampler) that a fork would copy
mid-state. Each worker runs native code single-threaded: the process pool is the parallelism, and
OpenMP threads on top would oversubscribe the cores.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

# Per-process state set by the initializer; read by the mapped function.
STATE: dict[str, Any] = {}


def _init(state: dict[str, Any]) -> None:
    from threadpoolctl import threadpool_limits

    STATE.clear()
    STATE.update(state)
    STATE["_limits"] = threadpool_limits(1)


def ordered_map(
    fn: Callable[[Any], Any], items: Iterable[Any], workers: int, state: dict[str, Any], window: int = 0
) -> Iterator[Any]:
    """``fn(item)`` for each item, in order; ``fn`` reads its state from :data:`STATE`.

    ``workers <= 1`` runs in this process (same results, no pool).
    """
    if workers <= 1:
        from threadpoolctl import threadpool_limits

        STATE.clear()
        STATE.update(state)
        with threadpool_limits(1):
            for item in items:
                yield fn(item)
        return
    window = window or 2 * workers
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_init, initargs=(state,)
    ) as pool:
        pending: list[Future] = []
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= window:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()
