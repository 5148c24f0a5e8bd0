"""Exact duplicates and cluster fields: which pages take part, their keys, canonical pages, and the
cluster columns from near-duplicate components.

Everything corpus-wide is numpy or Arrow arrays, a few numbers per page (row, rank of the doc_id,
length, 64-bit key); the doc_ids themselves stay one Arrow string array, and only the doc_ids that
other rows point at (canonical pages of exact groups, representatives of clusters) are kept after
the clusters are known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.minhash import normalize_array

CLUSTER_FIELDS = ("exact_dup_of", "near_dup_cluster", "is_representative", "sim_to_representative")
KEY_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("doc_id", pa.string()),
        pa.field("len", pa.int64()),
        pa.field("key", pa.uint64()),  # null: the page takes no part
    ]
)


def _eligible(pages: pd.DataFrame) -> pd.Series:
    """Rows that take part in duplicate detection: accepted, not an error page, with cleaned text."""
    ok = pages["clean_text"].notna()
    if "status" in pages:
        ok &= pages["status"].eq("accepted")
    if "is_error_page" in pages:
        ok &= ~pages["is_error_page"].fillna(False).astype(bool)
    return ok


def eligible_exact_keys(pages: pd.DataFrame) -> pd.Series:
    """The exact-duplicate key of each eligible page, None for the others."""
    ok = _eligible(pages)
    keys = pd.Series(None, index=pages.index, dtype=object)
    if ok.any():
        keys[ok] = exact_keys(pages.loc[ok, "clean_text"].tolist())
    return keys


def exact_keys(texts: list[str]) -> list[int | None]:
    """64-bit hash of each normalised text (None when it has no word): equal keys = exact duplicates."""
    return [
        xxhash.xxh3_64_intdigest(t.encode("utf-8")) if t else None for t in normalize_array(texts).to_pylist()
    ]


def page_keys(batch: pd.DataFrame) -> pa.Table:
    """Row number, doc_id, cleaned length and exact key (null when not eligible) of every row."""
    ok = _eligible(batch).to_numpy(dtype=bool)
    keys: list[int | None] = [None] * len(batch)
    for i, k in zip(
        np.flatnonzero(ok).tolist(), exact_keys(batch.loc[ok, "clean_text"].tolist()), strict=True
    ):
        keys[i] = k
    return pa.table(
        {
            "row": pa.array(batch.index.to_numpy(np.int64)),
            "doc_id": pa.array(batch["doc_id"].astype(str).tolist(), pa.string()),
            "len": pa.array(batch["clean_text"].str.len().fillna(-1).to_numpy(np.int64)),
            "key": pa.array(keys, pa.uint64()),
        },
        schema=KEY_SCHEMA,
    )


def _first_per_group(group: np.ndarray, length: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """For each element: the index of its group's pick (longest, then smallest doc_id rank)."""
    order = np.lexsort((rank, -length, group))
    g = group[order]
    new = np.ones(g.size, dtype=bool)
    new[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(new)
    pick = np.empty(g.size, dtype=np.int64)
    pick[order] = np.repeat(order[starts], np.diff(np.append(starts, g.size)))
    return pick


@dataclass(frozen=True)
class Keyed:
    """The pages that take part, as arrays in doc_id order: their row numbers, lengths, doc_id
    ranks, the index (into these arrays) of their exact group's canonical page, and the node
    position of that canonical page (nodes: the canonical pages, in doc_id order)."""

    row: np.ndarray
    length: np.ndarray
    rank: np.ndarray
    canon: np.ndarray
    node: np.ndarray
    doc_ids: pa.Array  # of these pages

    @property
    def node_ids(self) -> pa.Array:
        return self.doc_ids.take(pa.array(np.flatnonzero(self.canon == np.arange(len(self.row)))))


def canonical(table: pa.Table) -> Keyed:
    """The exact groups of a corpus's :func:`page_keys` (any row order): canonical page of each
    group = the longest text, ties by smallest doc_id. A doc_id that occurs twice is an error."""
    table = table.take(pc.sort_indices(table, [("row", "ascending")]))
    ids = table.column("doc_id").combine_chunks()
    by_id = pc.sort_indices(ids).to_numpy()
    sorted_ids = ids.take(pa.array(by_id))
    if len(sorted_ids) > 1:
        same = pc.equal(sorted_ids.slice(1), sorted_ids.slice(0, len(sorted_ids) - 1))
        dup = np.flatnonzero(same.to_numpy(zero_copy_only=False))
        if dup.size:
            first = int(by_id[dup + 1].min())  # the first row that repeats an earlier doc_id
            raise NewsauditError(f"pages table: doc_id {ids[first].as_py()!r} occurs more than once")
    keyed = pc.is_valid(table.column("key")).to_numpy(zero_copy_only=False)
    # rows in doc_id order, then the keyed ones
    order = by_id[keyed[by_id]]
    rank = np.arange(order.size, dtype=np.int64)
    key = pc.fill_null(table.column("key"), 0).to_numpy()[order].astype(np.uint64)
    length = table.column("len").to_numpy()[order]
    canon = _first_per_group(key, length, rank)
    is_canon = canon == rank
    node_of = np.cumsum(is_canon) - 1  # canonical pages numbered in doc_id order
    rows = table.column("row").to_numpy()[order]
    return Keyed(rows, length, rank, canon, node_of[canon], ids.take(pa.array(order)))


def cluster_columns(
    keyed: Keyed, labels: np.ndarray, similarity: Callable[[np.ndarray], np.ndarray]
) -> tuple[pd.DataFrame, pa.Array]:
    """The cluster columns of the keyed pages, given the component ``labels`` of the nodes (each
    the smallest node position of its component). Returns a frame indexed by row number with
    ``canon_ref`` and ``rep_ref`` (indexes into the returned doc_id array of the pages pointed at;
    -1: the page itself), ``is_representative`` and ``sim_to_representative``.

    The representative of a cluster is its longest text, ties by smallest doc_id.
    ``similarity(pairs)`` (estimated Jaccard of ``(k, 2)`` node positions) is asked only for the
    pages whose similarity to their representative is not 1 by construction (a page and its exact
    copies share one signature)."""
    n = len(keyed.row)
    # a node's label names a node; the cluster of a page is its canonical node's label (a node
    # without shingles, label -1, is a cluster of its own)
    labels = np.asarray(labels, dtype=np.int64)
    cluster = np.where(labels[keyed.node] >= 0, labels[keyed.node], keyed.node) if n else keyed.node
    rep = _first_per_group(cluster, keyed.length, keyed.rank) if n else np.empty(0, np.int64)
    a, b = keyed.node, keyed.node[rep]
    sim = np.ones(n, dtype=float)
    differ = np.flatnonzero(a != b)
    if differ.size:
        sim[differ] = similarity(np.stack((a[differ], b[differ]), axis=1))
    idx = np.arange(n)
    pointed = np.unique(np.concatenate((keyed.canon[keyed.canon != idx], rep[rep != idx])))
    canon_ref = np.where(keyed.canon != idx, np.searchsorted(pointed, keyed.canon), -1)
    rep_ref = np.where(rep != idx, np.searchsorted(pointed, rep), -1)
    frame = pd.DataFrame(
        {
            "canon_ref": canon_ref.astype(np.int64),
            "rep_ref": rep_ref.astype(np.int64),
            "is_representative": rep == idx,
            "sim_to_representative": sim,
        },
        index=pd.Index(keyed.row, dtype=np.int64),
    )
    return frame, keyed.doc_ids.take(pa.array(pointed, pa.int64()))


def assign(batch: pd.DataFrame, fields: pd.DataFrame, pointed: pa.Array) -> pd.DataFrame:
    """The cluster columns of ``batch`` (its rows of :func:`cluster_columns`); other rows get nulls."""
    n = len(batch)
    exact = np.full(n, None, dtype=object)
    near = np.full(n, None, dtype=object)
    is_rep = np.zeros(n, dtype=bool)
    sim = np.full(n, np.nan)
    if len(fields):
        at = batch.index.get_indexer(fields.index)
        c, r = fields["canon_ref"].to_numpy(), fields["rep_ref"].to_numpy()
        refs = np.unique(np.concatenate((c[c >= 0], r[r >= 0])))  # only the doc_ids this batch needs
        ids = np.asarray([*pointed.take(pa.array(refs, pa.int64())).to_pylist(), None], dtype=object)
        own = batch["doc_id"].astype(str).to_numpy(dtype=object)[at]
        c_at = np.where(c >= 0, np.searchsorted(refs, c), refs.size)  # refs.size: the None
        r_at = np.where(r >= 0, np.searchsorted(refs, r), refs.size)
        exact[at] = ids[c_at]
        near[at] = np.where(r >= 0, ids[r_at], own)
        is_rep[at] = fields["is_representative"].to_numpy()
        sim[at] = fields["sim_to_representative"].to_numpy()
    out = batch.copy()
    out["exact_dup_of"] = exact
    out["near_dup_cluster"] = near
    out["is_representative"] = is_rep
    out["sim_to_representative"] = sim
    return out
