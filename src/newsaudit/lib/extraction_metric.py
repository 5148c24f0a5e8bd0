"""Scores for main-text extraction, re-implemented from the benchmarks' published definitions.

* Scrapinghub article-extraction-benchmark: per document, precision and recall over 4-gram token
  shingles (``\\w+`` tokens, case kept, multiset counts, tp/fp/fn normalised per document); precision
  is averaged over documents with a prediction, recall over documents with a gold text; F1 is the
  harmonic mean of the averages; uncertainty is a bootstrap over documents.
* trafilatura-eval: a "with" segment found in the output is a true positive, a missing one a false
  negative, a "without" segment found is a false positive; counts are summed over the corpus.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
_WS = re.compile(r"\s+")


def shingles(text: str | None, n: int = 4) -> Counter:
    toks = _TOKEN_RE.findall(text or "")
    # A text shorter than n tokens is one (short) shingle, as in the benchmark.
    return Counter(tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i : i + n])


def doc_tp_fp_fn(gold: str | Counter | None, pred: str | None, n: int = 4) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of one document; ``gold`` may be its precomputed shingle Counter."""
    g = gold if isinstance(gold, Counter) else shingles(gold, n)
    p = shingles(pred, n)
    tp = float(sum((g & p).values()))
    fp = float(sum((p - g).values()))
    fn = float(sum((g - p).values()))
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s > 0 else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def prf_from_counts(counts: Sequence[tuple[float, float, float]]) -> dict[str, float]:
    precisions = [_precision(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [_recall(*c) for c in counts if c[0] + c[2] > 0]
    p = float(np.mean(precisions)) if precisions else 0.0
    r = float(np.mean(recalls)) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"f1": f1, "precision": p, "recall": r}


def shingle_scores(
    golds: Sequence[str] | Sequence[Counter],
    preds: Sequence[str | None],
    n_bootstrap: int = 1000,
    seed: int = 0,
    ngram: int = 4,
) -> dict[str, float]:
    """Benchmark metric with bootstrap standard deviations (``<key>_std``) over documents."""
    counts = [doc_tp_fp_fn(g, p, ngram) for g, p in zip(golds, preds, strict=True)]
    out = prf_from_counts(counts)
    if golds and isinstance(golds[0], str):
        same = [
            _TOKEN_RE.findall(g or "") == _TOKEN_RE.findall(p or "")
            for g, p in zip(golds, preds, strict=True)
        ]
        out["accuracy"] = float(np.mean(same))
    if n_bootstrap > 0 and counts:
        rng = np.random.default_rng(seed)
        boot: dict[str, list[float]] = {"f1": [], "precision": [], "recall": []}
        for _ in range(n_bootstrap):
            idx = rng.integers(0, len(counts), len(counts))
            m = prf_from_counts([counts[i] for i in idx])
            for k in boot:
                boot[k].append(m[k])
        for k, vals in boot.items():
            out[f"{k}_std"] = float(np.std(vals, ddof=1))
    out["n_docs"] = len(counts)
    return out


def _norm_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()


def segment_counts(pred: str | None, with_segs: Sequence[str], without_segs: Sequence[str]) -> dict[str, int]:
    """trafilatura-eval counts for one document (a missing output counts as a full miss)."""
    text = _norm_ws(pred or "")
    tp = sum(1 for s in with_segs if _norm_ws(s) in text) if text else 0
    fp = sum(1 for s in without_segs if _norm_ws(s) in text) if text else 0
    return {"tp": tp, "fn": len(with_segs) - tp, "fp": fp, "tn": len(without_segs) - fp}


def segment_scores(per_doc: Sequence[dict[str, int]]) -> dict[str, float]:
    tp = sum(d["tp"] for d in per_doc)
    fp = sum(d["fp"] for d in per_doc)
    fn = sum(d["fn"] for d in per_doc)
    tn = sum(d["tn"] for d in per_doc)
    total = tp + fp + fn + tn
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "accuracy": (tp + tn) / total if total else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "n_docs": len(per_doc),
    }
