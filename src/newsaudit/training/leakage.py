"""Leakage audit of the labelled data (stage ``leakage``): duplicates within and across train/dev/test.

For every mirrored ConfliBERT dataset, every pair of rows whose texts are

* ``exact``: identical after trimming surrounding whitespace,
* ``normalized``: identical after lowercasing and turning every run of non-alphanumeric characters
  into one space (differ only by case, punctuation or spacing), but not exact,
* ``near``: word ``shingle``-gram Jaccard similarity >= ``threshold`` (MinHash LSH finds the
  candidates, the exact Jaccard of the shingle sets decides), but not normalized-equal,

is written to ``data/interim/leakage_pairs.parquet`` with columns
``dataset, split_a, row_a, split_b, row_b, kind, similarity`` (``a`` is the earlier of the two in
train, dev, test order, then row order; similarity 1.0 for exact and normalized). Pairs within a
split are included (``split_a == split_b``). The classifier stage builds leak-free splits from it.

``reports/metrics/leakage.json`` has, per dataset: the rows of each split involved in a duplicate
pair with another split, pair counts by split pair and kind, the distinct texts found in more than
one split (the issue's figures: satp_all 85 and insightCrime 25 exact; BBC_News 52 exact, 54 once
spacing and hyphen-vs-space variants count), the train texts that reappear in dev or test (all
cumulative over kinds), and a few short example pairs.
"""

from __future__ import annotations

import logging
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import Section
from newsaudit.datasets.conflibert import DATASETS, SPLITS, read_split
from newsaudit.lib.graph import connected_labels
from newsaudit.lib.minhash import near_duplicate_clusters, normalize_array, words_of

log = logging.getLogger(__name__)

PAIR_COLUMNS = ["dataset", "split_a", "row_a", "split_b", "row_b", "kind", "similarity"]
KINDS = ("exact", "normalized", "near")
SPLIT_ORDER = {s: i for i, s in enumerate(SPLITS)}


class LeakageParams(Section):
    """``params.yaml`` section ``leakage``."""

    conflibert: str = str(paths.EXTERNAL / "conflibert")
    datasets: list[str] = list(DATASETS)
    shingle: int = 5
    threshold: float = 0.8  # exact shingle Jaccard for a 'near' pair
    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    seed: int = 1
    examples: int = 3  # example pairs per dataset in leakage.json
    example_chars: int = 120


def _shingles(text: str, k: int) -> set[str]:
    w = words_of(text)
    return {" ".join(w[i : i + k]) for i in range(max(len(w) - k + 1, 1))} if w else set()


def _ordered(frame: pd.DataFrame, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Swap each pair so that ``a`` comes first in (split order, row) order."""
    key = frame["_order"].to_numpy()
    swap = key[i] > key[j]
    return np.where(swap, j, i), np.where(swap, i, j)


def leakage_pairs(frame: pd.DataFrame, params: LeakageParams) -> pd.DataFrame:
    """All duplicate pairs of one dataset's rows (``dataset, split, row, text``)."""
    frame = frame.reset_index(drop=True).copy()
    frame["_order"] = frame["split"].map(SPLIT_ORDER) * 10_000_000 + frame["row"]
    frame["_exact"] = frame["text"].str.strip()
    frame["_norm"] = normalize_array(frame["text"].tolist()).to_pylist()
    parts: list[pd.DataFrame] = []

    # exact and normalized: all pairs inside each normalized-text group
    groups = frame.groupby("_norm", sort=True).indices
    ii, jj = [], []
    for members in groups.values():
        if len(members) > 1:
            for a, b in combinations(sorted(members), 2):
                ii.append(a)
                jj.append(b)
    if ii:
        a, b = _ordered(frame, np.asarray(ii), np.asarray(jj))
        kind = np.where(frame["_exact"].to_numpy()[a] == frame["_exact"].to_numpy()[b], "exact", "normalized")
        parts.append(pd.DataFrame({"a": a, "b": b, "kind": kind, "similarity": 1.0}))

    # near: candidates among distinct normalized texts, exact Jaccard decides
    reps = {norm: int(members.min()) for norm, members in groups.items() if norm}
    rep_idx = np.asarray(sorted(reps.values()), dtype=np.int64)
    if rep_idx.size > 1:
        near = near_duplicate_clusters(
            frame["_norm"].to_numpy()[rep_idx].tolist(),
            [f"{i:09d}" for i in rep_idx],
            num_perm=params.num_perm,
            bands=params.bands,
            rows=params.rows,
            shingle=params.shingle,
            threshold=max(params.threshold - 0.2, 0.0),  # loose: the exact Jaccard below decides
            seed=params.seed,
        )
        cache: dict[int, set[str]] = {}
        ii, jj, sims = [], [], []
        for x, y in zip(near.pairs["id_a"].astype(int), near.pairs["id_b"].astype(int), strict=True):
            sx = cache.setdefault(x, _shingles(frame.at[x, "_norm"], params.shingle))
            sy = cache.setdefault(y, _shingles(frame.at[y, "_norm"], params.shingle))
            sim = len(sx & sy) / len(sx | sy) if sx and sy else 0.0
            if sim < params.threshold:
                continue
            # every row of one normalized group pairs with every row of the other
            for a in groups[frame.at[x, "_norm"]]:
                for b in groups[frame.at[y, "_norm"]]:
                    ii.append(a)
                    jj.append(b)
                    sims.append(sim)
        if ii:
            a, b = _ordered(frame, np.asarray(ii), np.asarray(jj))
            parts.append(pd.DataFrame({"a": a, "b": b, "kind": "near", "similarity": sims}))

    if not parts:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(
                    PAIR_COLUMNS,
                    ["object", "object", "int64", "object", "int64", "object", "float64"],
                    strict=True,
                )
            }
        )
    pairs = pd.concat(parts, ignore_index=True)
    out = pd.DataFrame(
        {
            "dataset": frame["dataset"].to_numpy()[pairs["a"]],
            "split_a": frame["split"].to_numpy()[pairs["a"]],
            "row_a": frame["row"].to_numpy()[pairs["a"]].astype("int64"),
            "split_b": frame["split"].to_numpy()[pairs["b"]],
            "row_b": frame["row"].to_numpy()[pairs["b"]].astype("int64"),
            "kind": pairs["kind"].to_numpy(),
            "similarity": pairs["similarity"].to_numpy().astype(float).round(4),
        }
    )
    out["_oa"] = out["split_a"].map(SPLIT_ORDER)
    out["_ob"] = out["split_b"].map(SPLIT_ORDER)
    out = out.sort_values(["_oa", "row_a", "_ob", "row_b"], kind="stable").drop(columns=["_oa", "_ob"])
    return out.reset_index(drop=True)


def _texts_across_splits(frame: pd.DataFrame, pairs: pd.DataFrame) -> dict[str, int]:
    """Distinct texts (groups of rows joined by duplicate pairs) found in two or more splits,
    cumulative over kinds — the figure issue 4 quotes (BBC_News 53, satp_all 85, insightCrime 25)."""
    pos = {key: i for i, key in enumerate(zip(frame["split"], frame["row"], strict=True))}
    split_code = frame["split"].map(SPLIT_ORDER).to_numpy()
    out = {}
    for upto in range(len(KINDS)):
        sel = pairs[pairs["kind"].isin(KINDS[: upto + 1])]
        edges = np.asarray(
            [
                (pos[(sa, ra)], pos[(sb, rb)])
                for sa, ra, sb, rb in zip(
                    sel["split_a"], sel["row_a"], sel["split_b"], sel["row_b"], strict=True
                )
            ],
            dtype=np.int64,
        ).reshape(-1, 2)
        labels = connected_labels(len(frame), edges)
        spans = pd.Series(split_code).groupby(labels).nunique()
        out["+".join(KINDS[: upto + 1])] = int((spans >= 2).sum())
    return out


def summarize(
    dataset: str, frame: pd.DataFrame, pairs: pd.DataFrame, params: LeakageParams
) -> dict[str, Any]:
    """Counts and short example pairs for one dataset."""
    out: dict[str, Any] = {"rows": {s: int((frame["split"] == s).sum()) for s in SPLITS}}
    split_pairs: dict[str, dict[str, int]] = {}
    for sa, sb in [(a, b) for i, a in enumerate(SPLITS) for b in SPLITS[i:]]:
        sel = pairs[(pairs["split_a"] == sa) & (pairs["split_b"] == sb)]
        split_pairs[f"{sa}-{sb}"] = {k: int((sel["kind"] == k).sum()) for k in KINDS}
    out["pairs"] = split_pairs
    # rows of each split that have a duplicate in another split, cumulative over kinds
    rows_in_other: dict[str, dict[str, int]] = {}
    for upto in range(len(KINDS)):
        sel = pairs[pairs["kind"].isin(KINDS[: upto + 1]) & (pairs["split_a"] != pairs["split_b"])]
        counts = {}
        for s in SPLITS:
            rows = set(sel.loc[sel["split_a"] == s, "row_a"]) | set(sel.loc[sel["split_b"] == s, "row_b"])
            counts[s] = len(rows)
        rows_in_other["+".join(KINDS[: upto + 1])] = counts
    out["rows_with_duplicate_in_other_split"] = rows_in_other
    # the headline: distinct train texts that reappear in dev or test
    texts = frame.set_index(["split", "row"])["text"]
    headline = {}
    for upto in range(len(KINDS)):
        sel = pairs[
            pairs["kind"].isin(KINDS[: upto + 1])
            & (pairs["split_a"] == "train")
            & (pairs["split_b"] != "train")
        ]
        distinct = {texts[("train", r)].strip() for r in sel["row_a"]}
        headline["+".join(KINDS[: upto + 1])] = len(distinct)
    out["train_texts_in_dev_or_test"] = headline
    out["texts_in_more_than_one_split"] = _texts_across_splits(frame, pairs)
    within = {}
    for s in SPLITS:
        sel = pairs[(pairs["split_a"] == s) & (pairs["split_b"] == s)]
        within[s] = len(set(sel["row_b"]))  # rows that repeat an earlier row of the same split
    out["rows_repeating_earlier_row_same_split"] = within
    examples = []
    cross = pairs[pairs["split_a"] != pairs["split_b"]]
    for kind in KINDS:
        for r in cross[cross["kind"] == kind].head(params.examples).itertuples(index=False):
            examples.append(
                {
                    "kind": kind,
                    "a": f"{r.split_a}:{r.row_a}",
                    "b": f"{r.split_b}:{r.row_b}",
                    "similarity": float(r.similarity),
                    "text_a": texts[(r.split_a, r.row_a)][: params.example_chars],
                    "text_b": texts[(r.split_b, r.row_b)][: params.example_chars],
                }
            )
    out["examples"] = examples
    return out


def run_leakage(params: LeakageParams) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Pairs of every configured dataset and the metrics document."""
    all_pairs, report = [], {"params": params.model_dump(), "datasets": {}}
    for d in params.datasets:
        frame = pd.concat([read_split(params.conflibert, d, s) for s in SPLITS], ignore_index=True)
        frame = frame[["dataset", "split", "row", "text"]]
        pairs = leakage_pairs(frame, params)
        log.info("%s: %d duplicate pairs", d, len(pairs))
        all_pairs.append(pairs)
        report["datasets"][d] = summarize(d, frame, pairs, params)
    return pd.concat(all_pairs, ignore_index=True), report
