"""Measured runs of optional implementations, for the side-by-side comparisons of ``newsaudit bench``.

Each implementation runs once, under :func:`newsaudit.lib.measure.measure`: the caller controls the
size. An implementation that is not installed or raises is reported with ``available: False`` and
the reason, never dropped. Imports and one-time model set-up (datatrove's spaCy tokenizer) happen
before the clock starts, so the figures are per-page work, not start-up.

Caveat on memory: all implementations share one process, one after another. Memory an earlier one
freed but the allocator kept is reused by the next without raising the RSS, so
``peak_rss_above_start_mb`` is a lower bound for all but the first; compare it across runs of the
same order, or select one implementation per call for a clean figure.
"""

from __future__ import annotations

import gc
import importlib
import logging
import math
import multiprocessing as mp
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.measure import measure

DATATROVE_LANGUAGE = "en"  # datatrove's default; its English word tokenizer is spaCy's


def round_or_none(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def signif(x: float) -> float:
    """Four significant digits: a difference of 1e-12 must stay visible, unlike with ``round``."""
    return float(f"{x:.4g}")


def warm_datatrove_tokenizer() -> None:
    """Build datatrove's cached spaCy tokenizer once, untimed (a one-time set-up, not per page)."""
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    load_word_tokenizer(DATATROVE_LANGUAGE).word_tokenize("warm up")


def import_module(module: str) -> None:
    importlib.import_module(module)


def failure(exc: Exception) -> str:
    """The reason shown for an unavailable implementation: a missing module is "not installed"."""
    if isinstance(exc, ImportError):
        return f"not installed: {exc}"
    return f"failed: {type(exc).__name__}: {exc}"


def prepared(prepare: Callable[[], str | None]) -> tuple[str | None, str]:
    """Run an implementation's untimed set-up: (reason it is unavailable or None, extra note).

    Imports and one-time model set-up happen here, before the clock starts, so they are not
    charged to the implementation, and "not installed" is told apart from "failed while running".
    """
    try:
        note = prepare()
    except Exception as exc:  # a broken library is a result to report, not a crash of the benchmark
        return failure(exc), ""
    return None, note or ""


def unmeasured() -> dict[str, Any]:
    return {
        "available": False,
        "reason": None,
        "seconds": None,
        "pages_per_s": None,
        "peak_rss_above_start_mb": None,
    }


def measured_call(fn: Callable[[], np.ndarray], pages: int) -> tuple[dict[str, Any], np.ndarray | None]:
    """Run ``fn`` once under :func:`measure`; an exception becomes ``available: False``."""
    entry = unmeasured()
    gc.collect()  # garbage of the previous run must not count as this one's memory
    try:
        with measure() as m:
            result = fn()
    except Exception as exc:  # reported, not raised: the other columns of the table are still useful
        entry["reason"] = failure(exc)
        return entry, None
    entry.update(
        available=True,
        seconds=round(m.seconds, 3),
        pages_per_s=round_or_none(pages / m.seconds if m.seconds > 0 else math.inf),
        peak_rss_above_start_mb=round_or_none(m.peak_above_start_mb),
    )
    return entry, result


def in_fresh_process(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a spawned process of its own, its result sent back (it must pickle).

    Each size of the benchmark is audited this way: in one long-lived process, the memory the
    allocators kept from the 100k run (RSS is a high-water mark: glibc and Arrow's pool rarely give
    pages back) sat under the 1M run's figures and made them grow with the sizes run before, not
    with the pages (measured: after the 100k run the parent held 815-842 MB through the 1M ingest,
    beside two 457 MB workers). ``what`` names the job in the error raised if it fails or dies.
    """
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    root = logging.getLogger()
    # the child logs as this process does (spawned processes start with logging unconfigured)
    style = root.handlers[0].formatter if root.handlers and root.handlers[0].formatter else None
    fmt = getattr(style, "_fmt", None)  # logging has no public getter for a formatter's format
    proc = ctx.Process(target=_run_child, args=(send, fn, args, root.level, fmt), name=what)
    proc.start()
    send.close()  # only the child writes: EOF if it dies without sending
    try:
        status, value = receive.recv()
    except EOFError:
        status, value = "died", None
    finally:
        proc.join()
        receive.close()
    if status == "ok":
        return value
    if status == "error":
        raise NewsauditError(f"{what} failed in its process:\n{value}")
    raise NewsauditError(f"{what}: its process died (exit code {proc.exitcode}) without a result")


def _run_child(send: Any, fn: Callable[..., Any], args: tuple, level: int, fmt: str | None) -> None:
    logging.basicConfig(level=level, format=fmt)
    try:
        result = ("ok", fn(*args))
    except BaseException:  # reported to the parent, which raises it with the traceback
        result = ("error", traceback.format_exc())
    send.send(result)
    send.close()
