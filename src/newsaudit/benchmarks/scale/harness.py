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
import math
from collections.abc import Callable
from typing import Any

import numpy as np

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
