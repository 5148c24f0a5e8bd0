"""Our near-duplicate stage next to other MinHash implementations, on the same pages.

Why: the ``duplicates`` stage uses its own vectorised MinHash (:mod:`newsaudit.lib.minhash`). A
reader deciding whether to trust or replace it needs one table per run: time, peak memory and
agreement with the libraries people use, measured on the same texts with the same parameters.

:func:`compare_near_duplicates`: ours, datasketch (``MinHash`` + ``MinHashLSH``), rensa
(``RMinHash`` + ``RMinHashLSH``) and datatrove's three MinHash dedup steps. The frequent-line
filter of the stage runs once, untimed, so every implementation sees identical input (as
:func:`newsaudit.benchmarks.syndication.time_implementations` does). Agreement: ARI against our
labels and ARI / pair precision / pair recall against the planted truth. Each runs once, measured
by :mod:`newsaudit.benchmarks.scale.harness` (see there for the memory caveat).

The datasketch and rensa runners repeat the short closures of
:func:`~newsaudit.benchmarks.syndication.time_implementations` at module level (closures cannot be
imported); the clustering step, :func:`~newsaudit.benchmarks.syndication.verified_clusters`, is shared.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from newsaudit.benchmarks.scale.harness import (
    DATATROVE_LANGUAGE,
    import_module,
    measured_call,
    prepared,
    round_or_none,
    unmeasured,
    warm_datatrove_tokenizer,
)
from newsaudit.benchmarks.syndication import pair_scores, verified_clusters
from newsaudit.core.errors import NewsauditError
from newsaudit.lib.frequent_lines import drop_frequent_lines
from newsaudit.lib.minhash import near_duplicate_clusters, s_curve_midpoint
from newsaudit.steps.dedup.params import DuplicatesParams

IMPLEMENTATIONS = ("ours", "datasketch", "rensa", "datatrove")
DATATROVE_MINHASH = "datatrove.pipeline.dedup.minhash"
PRIVATE_MINHASH = "_newsaudit_datatrove_minhash"  # the module name when loaded from its file
# Same shingles for datasketch and rensa as bench_duplicates' timing (lowercase, non-word runs split).
FAST_WORDS = re.compile(r"[\W_]+")
# (texts, parameters, signature threads): only ours uses the threads, the others run in one.
Runner = Callable[[list[str], DuplicatesParams, int], np.ndarray]
DEFAULT_WORKERS = 2  # execution.workers.duplicates by default


# ----------------------------------------------------------------------------- small helpers


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
    warm_datatrove_tokenizer()
    return "; ".join(n for n in notes if n)


# ----------------------------------------------------------------------------- near-duplicate runners


def run_ours(texts: list[str], p: DuplicatesParams, workers: int = DEFAULT_WORKERS) -> np.ndarray:
    """The stage's clustering call itself (frequent lines already dropped by the caller)."""
    ids = [f"{i:07d}" for i in range(len(texts))]
    return near_duplicate_clusters(texts, ids, **p.lsh_kwargs(), workers=workers).labels


def run_datasketch(texts: list[str], p: DuplicatesParams, workers: int = 1) -> np.ndarray:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=p.num_perm, params=(p.bands, p.rows))
    minhashes = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=p.num_perm, seed=p.seed)
        m.update_batch([s.encode() for s in shingles(text, p.shingle)])
        lsh.insert(i, m)
        minhashes.append(m)
    return verified_clusters(minhashes, lsh, p.threshold)


def run_rensa(texts: list[str], p: DuplicatesParams, workers: int = 1) -> np.ndarray:
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


def run_datatrove(texts: list[str], p: DuplicatesParams, workers: int = 1) -> np.ndarray:
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
    "datasketch": lambda: import_module("datasketch"),
    "rensa": lambda: import_module("rensa"),
    "datatrove": _prepare_datatrove_minhash,
}


def implementation_notes(p: DuplicatesParams, workers: int = DEFAULT_WORKERS) -> dict[str, str]:
    """What each implementation does differently, so a reader can explain the agreement figures."""
    mid = s_curve_midpoint(p.bands, p.rows)
    return {
        "ours": (
            f"one-permutation MinHash ({p.num_perm} bins, rotation densification) of word {p.shingle}-grams "
            f"(pyarrow lowercase + non-alphanumeric split), LSH {p.bands}x{p.rows}, candidate pairs kept at "
            f"estimated Jaccard >= {p.threshold}, union-find; {workers} signature threads"
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
    return {**unmeasured(), **dict.fromkeys(scores), "notes": note}


def _run_implementation(
    name: str, texts: list[str], p: DuplicatesParams, note: str, workers: int
) -> tuple[dict[str, Any], np.ndarray | None]:
    """One implementation timed once: its table entry (without scores) and its labels, or the reason
    it is unavailable."""
    entry = _empty_entry(note)
    entry["reason"], extra = prepared(PREPARE[name])
    if extra:
        entry["notes"] += f"; {extra}"
    if entry["reason"] is not None:
        return entry, None
    timing, labels = measured_call(
        lambda: singletons_for_missing(RUNNERS[name](texts, p, workers)), len(texts)
    )
    entry.update(timing)
    return entry, labels


def agreement_scores(labels: np.ndarray, truth: Sequence[Any], ours: np.ndarray | None) -> dict[str, Any]:
    """ARI / pair precision / pair recall against the truth, ARI against our labels (None without)."""
    s = pair_scores(truth, labels)
    return {
        "ari_vs_ours": round_or_none(adjusted_rand_score(ours, labels)) if ours is not None else None,
        "ari_vs_truth": round_or_none(s["ari"]),
        "pair_precision": round_or_none(s["pair_precision"]),
        "pair_recall": round_or_none(s["pair_recall"]),
    }


def compare_near_duplicates(
    texts: list[str],
    truth: Sequence[Any],
    dup_params: DuplicatesParams,
    implementations: Sequence[str] | None = None,
    workers: int = DEFAULT_WORKERS,
) -> dict[str, Any]:
    """Time, peak memory and agreement of each near-duplicate implementation on the same pages.

    ``texts`` are the cleaned page texts, ``truth`` the planted origin of each; ``workers`` our
    signature threads (``execution.workers.duplicates``). Returns a JSON-ready
    ``{"pages", "words", "implementations": {name: entry}}``; every requested name has an entry,
    with ``available: False`` and ``reason`` when it is not installed or failed.
    """
    names = select_implementations(implementations)
    texts = list(texts)
    if len(truth) != len(texts):
        raise NewsauditError(f"truth has {len(truth)} labels for {len(texts)} texts")
    p = dup_params
    # the same input for every implementation: the stage's frequent-line filter applied once, untimed
    same_input = drop_frequent_lines(texts, p.frequent_line_pages, p.frequent_line_min_keep)
    notes = implementation_notes(p, workers)
    entries: dict[str, dict[str, Any]] = {}
    labels: dict[str, np.ndarray] = {}
    for name in names:
        entries[name], lab = _run_implementation(name, same_input, p, notes[name], workers)
        if lab is not None:
            labels[name] = lab
    base = entries.get("datasketch", {}).get("seconds")
    for name, lab in labels.items():
        entries[name].update(agreement_scores(lab, truth, labels.get("ours")))
        secs = entries[name]["seconds"]
        entries[name]["speedup_vs_datasketch"] = round_or_none(base / secs) if base and secs else None
    return {
        "pages": len(same_input),
        "words": int(sum(len(t.split()) for t in same_input)),
        "frequent_line_filter": {"min_pages": p.frequent_line_pages, "min_keep": p.frequent_line_min_keep},
        "implementations": entries,
    }
