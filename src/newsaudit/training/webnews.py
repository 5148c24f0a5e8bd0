"""General web text for the classifier: the hand-labelled web-news dev set and the pool of other
gold texts from the boilerplate benchmarks (dragnet, CleanEval, trafilatura-eval).

The dev set (``data/annotations/webnews_dev/labels.csv``, see its ``PROTOCOL.md``) holds ids and
labels only; the texts are read here from the fetched datasets. The *pool* is every other English
gold text of the same collections: training data for "general web text is mostly not a conflict
event" (negatives, screened by the violence lexicon, or unlabelled for positive-unlabelled
learning). A pool text is never a dev-set text: dev ids are excluded by id and pool texts that are
near copies of a dev text (word 5-gram Jaccard) are dropped and counted, so a model trained on the
pool has never seen the dev set. trafilatura-eval has no full gold text (only must-keep segments),
so its pages' visible text is used. The scrapinghub benchmark is never read here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import HashingVectorizer

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.text import html_to_text, identify_language
from newsaudit.training.linemodel_gold import decode_html  # the line model reads these files so

DEV_COLUMNS = ("dataset", "doc_id", "sample", "label")
DEV_LABELS = ("conflict", "not", "unsure")
# dataset -> (folder under data/external, gold file for an id)
GOLD_FILES = {
    "dragnet": ("dragnet-data", "Corrected/{id}.html.corrected.txt"),
    "cleaneval-dev": ("cleaneval", "cleaneval-dev/GoldStandard/{id}.txt"),
    "cleaneval-final": ("cleaneval", "cleaneval-final/GoldStandard/{id}.txt"),
}
# pool source -> the dev-set datasets it shares texts with (for exclusion and grouped scoring)
POOL_SOURCES = {
    "dragnet": ("dragnet",),
    "cleaneval": ("cleaneval-dev", "cleaneval-final"),
    "trafilatura-eval": (),
}
_DRAGNET_COMMENTS = re.compile(r"^\s*[!@#$%^&*()\s]{4,}COMMENTS\s*$", re.MULTILINE)
_CLEANEVAL_TAG = re.compile(r"^\s*<[phl]>\s*", re.MULTILINE)


def gold_text(dataset: str, raw: bytes) -> str:
    """The article text of a gold file: dragnet without visitor comments (the readers ignored them),
    CleanEval without its URL line and paragraph tags."""
    text = decode_html(raw)
    if dataset == "dragnet":
        return _DRAGNET_COMMENTS.split(text, maxsplit=1)[0].strip()
    lines = text.split("\n")
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    return _CLEANEVAL_TAG.sub("", "\n".join(lines)).strip()


def gold_path(external: Path, dataset: str, doc_id: str) -> Path:
    folder, pattern = GOLD_FILES[dataset]
    return external / folder / pattern.format(id=doc_id)


# --- the dev set ---------------------------------------------------------------------------------


def read_devset(labels_csv: str | Path, external: str | Path) -> pd.DataFrame:
    """The dev set with its texts: ``dataset, doc_id, sample, label, y, text`` (``y`` 1/0, NaN unsure).

    Every row must name a known dataset, a known label and a gold file that exists; ids are unique.
    """
    labels_csv, external = Path(labels_csv), Path(external)
    if not labels_csv.is_file():
        raise NewsauditError(f"{labels_csv}: web-news dev labels not found")
    frame = pd.read_csv(labels_csv, dtype=str, keep_default_na=False)
    missing = [c for c in DEV_COLUMNS if c not in frame.columns]
    if missing:
        raise NewsauditError(f"{labels_csv}: missing columns {missing} (expected {list(DEV_COLUMNS)})")
    for i, (dataset, label) in enumerate(zip(frame["dataset"], frame["label"], strict=True)):
        if dataset not in GOLD_FILES:
            raise NewsauditError(
                f"{labels_csv} row {i + 2}: unknown dataset '{dataset}' ({sorted(GOLD_FILES)})"
            )
        if label not in DEV_LABELS:
            raise NewsauditError(
                f"{labels_csv} row {i + 2}: label '{label}' is not one of {list(DEV_LABELS)}"
            )
    dup = frame.duplicated(["dataset", "doc_id"], keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        raise NewsauditError(f"{labels_csv}: id {first['dataset']}/{first['doc_id']} is listed twice")
    texts = []
    for dataset, doc_id in zip(frame["dataset"], frame["doc_id"], strict=True):
        path = gold_path(external, dataset, doc_id)
        if not path.is_file():
            raise NewsauditError(
                f"{labels_csv}: text of {dataset}/{doc_id} not found at {path} (run `newsaudit fetch`)"
            )
        texts.append(gold_text(dataset, path.read_bytes()))
    out = frame[list(DEV_COLUMNS)].copy()
    out["y"] = out["label"].map({"conflict": 1.0, "not": 0.0, "unsure": np.nan})
    out["text"] = texts
    return out


# --- the pool ------------------------------------------------------------------------------------


def _pool_files(external: Path, source: str) -> list[tuple[str, str, Path]]:
    """(dataset, doc_id, path) of every text of a pool source, in a fixed order."""
    if source == "dragnet":
        root = external / "dragnet-data" / "Corrected"
        files = sorted(root.glob("*.html.corrected.txt"))
        return [("dragnet", p.name.removesuffix(".html.corrected.txt"), p) for p in files]
    if source == "cleaneval":
        return [
            (split, p.stem, p)
            for split in ("cleaneval-dev", "cleaneval-final")
            for p in sorted((external / "cleaneval" / split / "GoldStandard").glob("*.txt"))
        ]
    if source == "trafilatura-eval":
        root = external / "trafilatura-eval"
        data = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
        out = []
        for url in sorted(data):
            name = data[url]["file"]
            path = next(
                (
                    root / "tests" / s / name
                    for s in ("eval", "cache")
                    if (root / "tests" / s / name).is_file()
                ),
                None,
            )
            if path is not None:
                out.append(("trafilatura-eval", name, path))
        return out
    raise NewsauditError(
        f"params.yaml labels.web_pool.sources: unknown source '{source}' ({sorted(POOL_SOURCES)})"
    )


def read_pool(external: str | Path, sources: list[str], exclude: set[tuple[str, str]], languages: list[str]):
    """Pool texts of ``sources`` minus the ``exclude`` ids and other languages.

    Returns (frame ``source, dataset, doc_id, text, language``, counts per source).
    """
    external = Path(external)
    rows, counts = [], {}
    for source in sources:
        files = _pool_files(external, source)
        if not files:
            raise NewsauditError(f"web pool {source}: no texts under {external} (run `newsaudit fetch`)")
        c = {"files": len(files), "dev_set_ids": 0, "other_language": 0, "empty": 0}
        for dataset, doc_id, path in files:
            if (dataset, doc_id) in exclude:
                c["dev_set_ids"] += 1
                continue
            raw = path.read_bytes()
            text = html_to_text(decode_html(raw)) if source == "trafilatura-eval" else gold_text(dataset, raw)
            if not text.strip():
                c["empty"] += 1
                continue
            lang, _ = identify_language(text)
            if lang not in languages:
                c["other_language"] += 1
                continue
            rows.append((f"web_{source}", dataset, doc_id, text, lang))
        counts[source] = c
    frame = pd.DataFrame(rows, columns=["source", "dataset", "doc_id", "text", "language"])
    return frame, counts


def near_copies(texts: list[str], others: list[str], threshold: float, shingle: int = 5) -> np.ndarray:
    """For each of ``texts``: is it a near copy (word ``shingle``-gram Jaccard >= threshold) of one of
    ``others``? Shingles are hashed (2**22 buckets), so Jaccard is estimated from above, never missed."""
    if not texts or not others:
        return np.zeros(len(texts), dtype=bool)
    vec = HashingVectorizer(
        ngram_range=(shingle, shingle), n_features=2**22, alternate_sign=False, norm=None, binary=True
    )
    a, b = vec.transform(texts), vec.transform(others)
    inter = (a @ b.T).tocoo()
    size_a = np.asarray(a.sum(axis=1)).ravel()
    size_b = np.asarray(b.sum(axis=1)).ravel()
    jac = inter.data / np.maximum(size_a[inter.row] + size_b[inter.col] - inter.data, 1)
    out = np.zeros(len(texts), dtype=bool)
    out[inter.row[jac >= threshold]] = True
    return out
