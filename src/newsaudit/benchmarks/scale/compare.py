"""Our near-duplicate stage and Gopher statistics next to other implementations, on the same pages.

Why: the ``duplicates`` stage uses its own vectorised MinHash (:mod:`newsaudit.lib.minhash`)
and its own Gopher statistics (:mod:`newsaudit.lib.gopher`). A reader deciding whether to
trust or replace them needs one table per run: time, peak memory and agreement with the libraries
people use, measured on the same texts with the same parameters.

* :func:`compare_near_duplicates`: ours, datasketch (``MinHash`` + ``MinHashLSH``), rensa
  (``RMinHash`` + ``RMinHashLSH``) and datatrove's three MinHash dedup steps. The frequent-line
  filter of the stage runs once, untimed, so every implementation sees identical input (as
  :func:`newsaudit.benchmarks.syndication.time_implementations` does). Agreement: ARI against our labels
  and ARI / pair precision / pair recall against the planted truth.
* :func:`compare_gopher`: our statistics (regex tokenizer and datatrove's spaCy tokenizer) against
  every statistic computed with datatrove's own helper functions, plus datatrove's
  ``GopherRepetitionFilter`` verdict against ours.

An implementation that is not installed or raises is reported with ``available: False`` and the
reason, never dropped. Each runs once, under :func:`newsaudit.lib.measure.measure`: the caller
controls the size. Imports and spaCy's one-time model set-up happen before the clock starts, so
the figures are per-page work, not start-up.

Caveat on memory: all implementations share one process, one after another. Memory an earlier one
freed but the allocator kept is reused by the next without raising the RSS, so
``peak_rss_above_start_mb`` is a lower bound for all but the first; compare it across runs of the
same order, or select one implementation per call for a clean figure.

The datasketch and rensa runners repeat the short closures of
:func:`~newsaudit.benchmarks.syndication.time_implementations` at module level (closures cannot be
imported); the clustering step, :func:`~newsaudit.benchmarks.syndication.verified_clusters`, is shared.
"""

from __future__ import annotations

import functools
import gc
import importlib
import importlib.util
import math
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from newsaudit.lib.measure import measure
from newsaudit.steps.dedup.step import DuplicatesParams
from newsaudit.benchmarks.syndication import pair_scores, verified_clusters
from newsaudit.lib.gopher import (
    GOPHER_THRESHOLDS,
    STAT_COLUMNS,
    datatrove_words,
    gopher_stats_batch,
    regex_words,
)
from newsaudit.lib.minhash import drop_frequent_lines, near_duplicate_clusters, s_curve_midpoint
from newsaudit.core.errors import NewsauditError

IMPLEMENTATIONS = ("ours", "datasketch", "rensa", "datatrove")
DATATROVE_LANGUAGE = "en"  # datatrove's default; its English word tokenizer is spaCy's
AGREE_TOL = 1e-9
DATATROVE_MINHASH = "datatrove.pipeline.dedup.minhash"
PRIVATE_MINHASH = "_newsaudit_datatrove_minhash"  # the module name when loaded from its file
# Same shingles for datasketch and rensa as duplicates_bench's timing (lowercase, non-word runs split).
FAST_WORDS = re.compile(r"[\W_]+")
Runner = Callable[[list[str], DuplicatesParams], np.ndarray]


# ----------------------------------------------------------------------------- small helpers


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def _signif(x: float) -> float:
    """Four significant digits: a difference of 1e-12 must stay visible, unlike with ``round``."""
    return float(f"{x:.4g}")


def select_implementations(names: Sequence[str] | str | None) -> list[str]:
    """The requested implementations in table order; unknown names are an error, not ignored."""
    if names is None:
        return list(IMPLEMENTATIONS)
    names = [names] if isinstance(names, str) else list(names)
    bad = [n for n in names if n not in IMPLEMENTATIONS]
    if bad:
        raise NewsauditError(
            f"unknown implementation(s) {', '.join(map(repr, bad))}; valid: {', '.join(IMPLEMENTATIONS)}"
        )
    return [n for n in IMPLEMENTATIONS if n in names]


def singletons_for_missing(labels: np.ndarray) -> np.ndarray:
    """Negative labels (ours: a text without words) become one cluster each.

    Otherwise every empty page would count as one big cluster and inflate or deflate the ARI.
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    neg = np.flatnonzero(labels < 0)
    labels[neg] = labels.max(initial=0) + 1 + np.arange(neg.size)
    return labels


def shingles(text: str, k: int) -> list[str]:
    """Distinct word ``k``-grams (a text shorter than ``k`` words is one shingle), for the
    libraries that take shingles as strings."""
    w = FAST_WORDS.sub(" ", text.lower()).split()
    return list({" ".join(w[i : i + k]) for i in range(max(len(w) - k + 1, 1))})


@contextmanager
def _quiet_datatrove() -> Iterator[None]:
    """Silence datatrove's loguru messages (dozens of lines per bucket) for the duration."""
    from loguru import logger

    for name in ("datatrove", PRIVATE_MINHASH):
        logger.disable(name)
    try:
        yield
    finally:
        for name in ("datatrove", PRIVATE_MINHASH):
            logger.enable(name)


def _warm_datatrove_tokenizer() -> None:
    """Build datatrove's cached spaCy tokenizer once, untimed (a one-time set-up, not per page)."""
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    load_word_tokenizer(DATATROVE_LANGUAGE).word_tokenize("warm up")


@functools.cache
def load_datatrove_minhash() -> tuple[ModuleType, str]:
    """datatrove's MinHash module and a note on how it was loaded.

    ``datatrove.pipeline.dedup``'s ``__init__`` imports every dedup method, including
    ``exact_substrings``, which needs Hugging Face ``tokenizers`` — a package datatrove does not
    install and its MinHash code does not use. When only that import fails, ``minhash.py`` (absolute
    imports only) is executed on its own under a private name, leaving ``sys.modules``' datatrove
    package untouched; the note says so. Without datatrove itself the ImportError propagates.
    Cached: the timed run must not pay for the (failing) package import again.
    """
    try:
        return importlib.import_module(DATATROVE_MINHASH), ""
    except ImportError as exc:
        import datatrove  # no datatrove at all: ImportError, reported as "not installed"

        path = Path(datatrove.__file__).parent / "pipeline" / "dedup" / "minhash.py"
        spec = importlib.util.spec_from_file_location(PRIVATE_MINHASH, path)
        if spec is None or spec.loader is None:
            raise
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module, f"loaded {path.name} directly: importing its package failed ({exc})"


@functools.cache
def datatrove_hash_fc() -> str:
    """The n-gram hash for datatrove's MinHash: its default ``xxhash`` when that works, else ``sha1``.

    datatrove 0.10 hands ``str`` to ``xxhash.xxh32_intdigest``, which xxhash >= 4 rejects
    ("Strings must be encoded before hashing"); ``sha1`` is datatrove's other built-in choice and
    encodes first. The hash function changes speed, not the method.
    """
    from datatrove.utils.hashing import HashConfig, create_hash_func

    try:
        create_hash_func(HashConfig(precision=32, hash_fc="xxhash"))("probe")
    except TypeError:
        return "sha1"
    return "xxhash"


def _prepare_datatrove_minhash() -> str:
    notes = [load_datatrove_minhash()[1]]
    if datatrove_hash_fc() != "xxhash":
        notes.append("n-gram hash sha1 instead of its default xxhash (its xxhash call fails on xxhash >= 4)")
    _warm_datatrove_tokenizer()
    return "; ".join(n for n in notes if n)


def _import(module: str) -> None:
    importlib.import_module(module)


def _prepare_datatrove_gopher() -> None:
    _import("datatrove.pipeline.filters.gopher_repetition_filter")
    _warm_datatrove_tokenizer()


def _failure(exc: Exception) -> str:
    """The reason shown for an unavailable implementation: a missing module is "not installed"."""
    if isinstance(exc, ImportError):
        return f"not installed: {exc}"
    return f"failed: {type(exc).__name__}: {exc}"


def _prepared(prepare: Callable[[], str | None]) -> tuple[str | None, str]:
    """Run an implementation's untimed set-up: (reason it is unavailable or None, extra note).

    Imports and one-time model set-up happen here, before the clock starts, so they are not
    charged to the implementation, and "not installed" is told apart from "failed while running".
    """
    try:
        note = prepare()
    except Exception as exc:  # a broken library is a result to report, not a crash of the benchmark
        return _failure(exc), ""
    return None, note or ""


def _unmeasured() -> dict[str, Any]:
    return {
        "available": False,
        "reason": None,
        "seconds": None,
        "pages_per_s": None,
        "peak_rss_above_start_mb": None,
    }


def _measured_call(fn: Callable[[], np.ndarray], pages: int) -> tuple[dict[str, Any], np.ndarray | None]:
    """Run ``fn`` once under :func:`measure`; an exception becomes ``available: False``."""
    entry = _unmeasured()
    gc.collect()  # garbage of the previous run must not count as this one's memory
    try:
        with measure() as m:
            result = fn()
    except Exception as exc:  # reported, not raised: the other columns of the table are still useful
        entry["reason"] = _failure(exc)
        return entry, None
    entry.update(
        available=True,
        seconds=round(m.seconds, 3),
        pages_per_s=_round(pages / m.seconds if m.seconds > 0 else math.inf),
        peak_rss_above_start_mb=_round(m.peak_above_start_mb),
    )
    return entry, result


# ----------------------------------------------------------------------------- near-duplicate runners


def run_ours(texts: list[str], p: DuplicatesParams) -> np.ndarray:
    """The stage's clustering call itself (frequent lines already dropped by the caller)."""
    return near_duplicate_clusters(texts, [f"{i:07d}" for i in range(len(texts))], **p.lsh_kwargs()).labels


def run_datasketch(texts: list[str], p: DuplicatesParams) -> np.ndarray:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=p.num_perm, params=(p.bands, p.rows))
    minhashes = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=p.num_perm, seed=p.seed)
        m.update_batch([s.encode() for s in shingles(text, p.shingle)])
        lsh.insert(i, m)
        minhashes.append(m)
    return verified_clusters(minhashes, lsh, p.threshold)


def run_rensa(texts: list[str], p: DuplicatesParams) -> np.ndarray:
    import rensa

    # rensa needs num_perm divisible by the bands: it gets bands x rows values
    num_perm = p.bands * p.rows
    lsh = rensa.RMinHashLSH(threshold=p.threshold, num_perm=num_perm, num_bands=p.bands)
    minhashes = []
    for i, text in enumerate(texts):
        m = rensa.RMinHash(num_perm=num_perm, seed=p.seed)
        m.update(shingles(text, p.shingle))
        lsh.insert(i, m)
        minhashes.append(m)
    return verified_clusters(minhashes, lsh, p.threshold)


def datatrove_config(p: DuplicatesParams) -> Any:
    """datatrove's ``MinhashConfig`` closest to ours: same n-gram size, bands, rows and seed, 32-bit
    signature values like our bins. Its normalisation and tokenizer stay its own (see notes)."""
    from datatrove.utils.hashing import HashConfig

    return load_datatrove_minhash()[0].MinhashConfig(
        n_grams=p.shingle,
        num_buckets=p.bands,
        hashes_per_bucket=p.rows,
        seed=p.seed,
        hash_config=HashConfig(precision=32, hash_fc=datatrove_hash_fc()),
    )


def read_datatrove_clusters(path: Path, n: int) -> np.ndarray:
    """Labels from ``MinhashDedupCluster(save_cluster_id=True)``'s ``.clusters`` file.

    The file holds little-endian uint32 pairs ``(doc index, cluster id)`` for every document that
    is in at least one duplicate pair; the others (no file at all when nothing matched) are
    singletons. Cluster ids are shifted past ``n`` so they never clash with a singleton's index.
    """
    labels = np.arange(n, dtype=np.int64)
    if path.is_file():
        pairs = np.frombuffer(path.read_bytes(), dtype="<u4").reshape(-1, 2).astype(np.int64)
        labels[pairs[:, 0]] = n + pairs[:, 1]
    return labels


def run_datatrove(texts: list[str], p: DuplicatesParams) -> np.ndarray:
    """datatrove's signature, bucket and cluster steps called in-process on in-memory documents.

    One rank writes the signatures; the bucket step runs once per band (its ``world_size`` must be
    a multiple of the bands); the cluster step unions the matches. Files go to a temporary folder.
    """
    from datatrove.data import Document

    mh = load_datatrove_minhash()[0]
    cfg = datatrove_config(p)
    with tempfile.TemporaryDirectory(prefix="datatrove-minhash-") as tmp, _quiet_datatrove():
        root = Path(tmp)
        docs = (Document(text=t, id=str(i)) for i, t in enumerate(texts))
        mh.MinhashDedupSignature(
            output_folder=str(root / "sigs"), config=cfg, language=DATATROVE_LANGUAGE
        ).run(docs, rank=0, world_size=1)
        buckets = mh.MinhashDedupBuckets(
            input_folder=str(root / "sigs"), output_folder=str(root / "dups"), config=cfg
        )
        for band in range(cfg.num_buckets):
            buckets.run(rank=band, world_size=cfg.num_buckets)
        mh.MinhashDedupCluster(
            input_folder=str(root / "dups"),
            output_folder=str(root / "clusters"),
            config=cfg,
            save_cluster_id=True,
        ).run()
        return read_datatrove_clusters(root / "clusters" / "000000.clusters", len(texts))


RUNNERS: dict[str, Runner] = {
    "ours": run_ours,
    "datasketch": run_datasketch,
    "rensa": run_rensa,
    "datatrove": run_datatrove,
}
# Untimed set-up of each implementation (imports, tokenizer models); may return a note.
PREPARE: dict[str, Callable[[], str | None]] = {
    "ours": lambda: None,
    "datasketch": lambda: _import("datasketch"),
    "rensa": lambda: _import("rensa"),
    "datatrove": _prepare_datatrove_minhash,
}


def implementation_notes(p: DuplicatesParams) -> dict[str, str]:
    """What each implementation does differently, so a reader can explain the agreement figures."""
    mid = s_curve_midpoint(p.bands, p.rows)
    return {
        "ours": (
            f"one-permutation MinHash ({p.num_perm} bins, rotation densification) of word {p.shingle}-grams "
            f"(pyarrow lowercase + non-alphanumeric split), LSH {p.bands}x{p.rows}, candidate pairs kept at "
            f"estimated Jaccard >= {p.threshold}, union-find; {p.workers} signature threads"
        ),
        "datasketch": (
            f"classic {p.num_perm}-permutation MinHash of the same word {p.shingle}-grams "
            f"(regex lowercase split), MinHashLSH params=({p.bands}, {p.rows}), pairs verified at "
            f"estimated Jaccard >= {p.threshold}, union-find; single thread"
        ),
        "rensa": (
            f"RMinHash with num_perm = bands x rows = {p.bands * p.rows} (rensa needs num_perm divisible "
            f"by the bands), RMinHashLSH {p.bands} bands, same shingles and verification as datasketch"
        ),
        "datatrove": (
            f"MinhashConfig(n_grams={p.shingle}, num_buckets={p.bands}, hashes_per_bucket={p.rows}, "
            f"seed={p.seed}, 32-bit values): {p.bands * p.rows} permutations; its own normalisation "
            "(simplify_text: lowercase, numbers -> 0, punctuation removed, diacritics stripped) and "
            "spaCy English word tokenizer, a 32-bit hash of each n-gram; a pair is any identical band, with "
            f"NO Jaccard verification (links pairs down to the S-curve, midpoint {mid:.3f}, instead of "
            f"{p.threshold}); a text of fewer than {p.shingle} words gets no signature (stays alone); "
            "signatures and buckets go through files in a temporary folder; one process"
        ),
    }


# ----------------------------------------------------------------------------- near-duplicate table


def _empty_entry(note: str) -> dict[str, Any]:
    scores = ("ari_vs_ours", "ari_vs_truth", "pair_precision", "pair_recall", "speedup_vs_datasketch")
    return {**_unmeasured(), **dict.fromkeys(scores), "notes": note}


def _run_implementation(
    name: str, texts: list[str], p: DuplicatesParams, note: str
) -> tuple[dict[str, Any], np.ndarray | None]:
    """One implementation timed once: its table entry (without scores) and its labels, or the reason
    it is unavailable."""
    entry = _empty_entry(note)
    entry["reason"], extra = _prepared(PREPARE[name])
    if extra:
        entry["notes"] += f"; {extra}"
    if entry["reason"] is not None:
        return entry, None
    timing, labels = _measured_call(lambda: singletons_for_missing(RUNNERS[name](texts, p)), len(texts))
    entry.update(timing)
    return entry, labels


def agreement_scores(labels: np.ndarray, truth: Sequence[Any], ours: np.ndarray | None) -> dict[str, Any]:
    """ARI / pair precision / pair recall against the truth, ARI against our labels (None without)."""
    s = pair_scores(truth, labels)
    return {
        "ari_vs_ours": _round(adjusted_rand_score(ours, labels)) if ours is not None else None,
        "ari_vs_truth": _round(s["ari"]),
        "pair_precision": _round(s["pair_precision"]),
        "pair_recall": _round(s["pair_recall"]),
    }


def compare_near_duplicates(
    texts: list[str],
    truth: Sequence[Any],
    dup_params: DuplicatesParams,
    implementations: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Time, peak memory and agreement of each near-duplicate implementation on the same pages.

    ``texts`` are the cleaned page texts, ``truth`` the planted origin of each. Returns a JSON-ready
    ``{"pages", "words", "implementations": {name: entry}}``; every requested name has an entry,
    with ``available: False`` and ``reason`` when it is not installed or failed.
    """
    names = select_implementations(implementations)
    texts = list(texts)
    if len(truth) != len(texts):
        raise NewsauditError(f"truth has {len(truth)} labels for {len(texts)} texts")
    p = dup_params
    # the same input for every implementation: the stage's frequent-line filter applied once, untimed
    prepared = drop_frequent_lines(texts, p.frequent_line_pages, p.frequent_line_min_keep)
    notes = implementation_notes(p)
    entries: dict[str, dict[str, Any]] = {}
    labels: dict[str, np.ndarray] = {}
    for name in names:
        entries[name], lab = _run_implementation(name, prepared, p, notes[name])
        if lab is not None:
            labels[name] = lab
    base = entries.get("datasketch", {}).get("seconds")
    for name, lab in labels.items():
        entries[name].update(agreement_scores(lab, truth, labels.get("ours")))
        secs = entries[name]["seconds"]
        entries[name]["speedup_vs_datasketch"] = _round(base / secs) if base and secs else None
    return {
        "pages": len(prepared),
        "words": int(sum(len(t.split()) for t in prepared)),
        "frequent_line_filter": {"min_pages": p.frequent_line_pages, "min_keep": p.frequent_line_min_keep},
        "implementations": entries,
    }


# ----------------------------------------------------------------------------- Gopher statistics


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
            "share_equal": _round(equal[:, j].sum() / n),
            "max_abs_diff": _signif(float(np.nanmax(diff[:, j], initial=0.0))),
        }
        for j, c in enumerate(STAT_COLUMNS)
    }
    return {"statistics": per_stat, "share_pages_all_equal": _round(equal.all(axis=1).sum() / n)}


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
    out["verdict_share_equal"] = _round((our_keeps(stats) == keeps).mean()) if keeps is not None else None
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
    missing = _prepared(_prepare_datatrove_gopher)[0]
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
            entries[name], results[name] = {**_unmeasured(), "reason": missing}, None
        else:
            entries[name], results[name] = _measured_call(fn, n)
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
