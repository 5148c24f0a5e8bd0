"""Our Gopher repetition statistics next to datatrove's, on the same pages.

:func:`compare_gopher`: our statistics (regex tokenizer and datatrove's spaCy tokenizer) against
every statistic computed with datatrove's own helper functions, plus datatrove's
``GopherRepetitionFilter`` verdict against ours. Each runs once, measured by
:mod:`newsaudit.benchmarks.scale.harness`; datatrove missing or failing is reported, not raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from newsaudit.benchmarks.scale.harness import (
    DATATROVE_LANGUAGE,
    import_module,
    measured_call,
    prepared,
    round_or_none,
    signif,
    unmeasured,
    warm_datatrove_tokenizer,
)
from newsaudit.lib.gopher import (
    GOPHER_THRESHOLDS,
    STAT_COLUMNS,
    datatrove_words,
    gopher_stats_batch,
    regex_words,
)

AGREE_TOL = 1e-9


def _prepare_datatrove_gopher() -> None:
    import_module("datatrove.pipeline.filters.gopher_repetition_filter")
    warm_datatrove_tokenizer()


def datatrove_gopher_rows(texts: list[str]) -> np.ndarray:
    """Every Gopher statistic (``STAT_COLUMNS`` order) computed with datatrove's own helper
    functions and tokenizer, as its filter computes them.

    The filter itself stops at the first failed threshold, so it cannot give all statistics; this
    is its code path without the early exit. Empty texts get NaN rows, like ours.
    """
    from datatrove.pipeline.filters import gopher_repetition_filter as g
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    flt = g.GopherRepetitionFilter(language=DATATROVE_LANGUAGE)
    tokenizer = load_word_tokenizer(DATATROVE_LANGUAGE)
    out = np.full((len(texts), len(STAT_COLUMNS)), np.nan)
    for i, text in enumerate(texts):
        if not text:
            continue
        n = len(text)
        lines = flt._line_splitter.split(text)
        l_dup, l_chars = g.find_duplicates(lines)
        paragraphs = flt.paragraph_exp.split(text.strip())
        p_dup, p_chars = g.find_duplicates(paragraphs)
        words = tokenizer.word_tokenize(text)
        top = []
        for k in (2, 3, 4):
            grams = g.get_n_grams(words, k)
            top.append(g.find_top_duplicate(grams) / n if grams else 0.0)
        dup = [g.find_all_duplicate(words, k) / n for k in range(5, 11)]
        out[i] = [l_dup / len(lines), p_dup / len(paragraphs), l_chars / n, p_chars / n, *top, *dup]
    return out


def datatrove_filter_keeps(texts: list[str]) -> np.ndarray:
    """``GopherRepetitionFilter.filter`` as shipped (default thresholds): True = page kept."""
    from datatrove.data import Document
    from datatrove.pipeline.filters.gopher_repetition_filter import GopherRepetitionFilter

    flt = GopherRepetitionFilter(language=DATATROVE_LANGUAGE)
    return np.asarray([flt.filter(Document(text=t or "", id=str(i))) is True for i, t in enumerate(texts)])


def our_keeps(stats: np.ndarray) -> np.ndarray:
    """Our verdict with the filter's rule: kept unless a statistic is above its threshold.

    A NaN row (empty text) is dropped, as datatrove drops empty documents.
    """
    limits = np.asarray([GOPHER_THRESHOLDS[c] for c in STAT_COLUMNS])
    return ~np.isnan(stats).all(axis=1) & ~(np.nan_to_num(stats, nan=0.0) > limits).any(axis=1)


def stat_agreement(ours: np.ndarray, ref: np.ndarray, tol: float = AGREE_TOL) -> dict[str, Any]:
    """Per statistic: the share of pages whose values agree within ``tol`` (NaN agrees with NaN
    only) and the largest absolute difference; plus the share of pages agreeing on all of them."""
    both_nan = np.isnan(ours) & np.isnan(ref)
    diff = np.abs(ours - ref)
    equal = both_nan | (diff <= tol)
    n = max(len(ours), 1)
    per_stat = {
        c: {
            "share_equal": round_or_none(equal[:, j].sum() / n),
            "max_abs_diff": signif(float(np.nanmax(diff[:, j], initial=0.0))),
        }
        for j, c in enumerate(STAT_COLUMNS)
    }
    return {"statistics": per_stat, "share_pages_all_equal": round_or_none(equal.all(axis=1).sum() / n)}


GOPHER_NOTES = {
    "ours_regex": "gopher_stats_batch with the regex tokenizer (\\w+|[^\\w\\s]), the stage's default",
    "ours_datatrove_tokenizer": (
        "gopher_stats_batch with datatrove's spaCy word tokenizer (word_tokenizer: datatrove)"
    ),
    "datatrove": "every statistic through datatrove's helper functions and spaCy tokenizer (no early exit)",
    "datatrove_filter": "GopherRepetitionFilter.filter as shipped: stops at the first failed threshold",
}


def _gopher_agreement(
    stats: np.ndarray | None, ref: np.ndarray | None, keeps: np.ndarray | None, why: str | None
) -> dict[str, Any]:
    if stats is None or ref is None:
        return {"available": False, "reason": why or "one side failed (see implementations)"}
    out: dict[str, Any] = {"available": True, "reason": None, **stat_agreement(stats, ref)}
    agree = round_or_none((our_keeps(stats) == keeps).mean()) if keeps is not None else None
    out["verdict_share_equal"] = agree
    return out


def compare_gopher(texts: list[str], max_pages: int = 5000) -> dict[str, Any]:
    """Our Gopher repetition statistics against datatrove's on the first ``max_pages`` texts.

    Two of ours: the regex tokenizer (the default) and datatrove's spaCy tokenizer, so a reader
    sees whether a difference comes from tokenization (regex vs spaCy) or from the statistics
    (which should then agree exactly). spaCy passes are slow, hence ``max_pages``.
    """
    given = len(texts)
    texts = [t if isinstance(t, str) else "" for t in list(texts)[:max_pages]]
    n = len(texts)
    missing = prepared(_prepare_datatrove_gopher)[0]
    calls: dict[str, Callable[[], np.ndarray]] = {
        "ours_regex": lambda: gopher_stats_batch(texts, regex_words),
        "ours_datatrove_tokenizer": lambda: gopher_stats_batch(texts, datatrove_words),
        "datatrove": lambda: datatrove_gopher_rows(texts),
        "datatrove_filter": lambda: datatrove_filter_keeps(texts),
    }
    entries: dict[str, dict[str, Any]] = {}
    results: dict[str, np.ndarray | None] = {}
    for name, fn in calls.items():
        if missing is not None and name != "ours_regex":
            entries[name], results[name] = {**unmeasured(), "reason": missing}, None
        else:
            entries[name], results[name] = measured_call(fn, n)
        entries[name]["notes"] = GOPHER_NOTES[name]
    ref, keeps = results["datatrove"], results["datatrove_filter"]
    agreement = {
        name: _gopher_agreement(results[name], ref, keeps, missing)
        for name in ("ours_regex", "ours_datatrove_tokenizer")
    }
    return {
        "pages": n,
        "pages_given": given,
        "max_pages": max_pages,
        "tolerance": AGREE_TOL,
        "implementations": entries,
        "agreement_vs_datatrove": agreement,
    }
