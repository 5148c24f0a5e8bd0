"""The dedup step: within-page repetition, exact and near duplicates across pages.

Adds to the cleaned pages table: the Gopher repetition statistics of ``clean_text`` as the
boilerplate step left it (datatrove's definitions), ``clean_text`` with repeated paragraphs removed
(first occurrence kept) and ``repeated_paragraphs_removed``; ``exact_dup_of`` (the canonical page
with the same normalised text; null on the canonical page itself); ``near_dup_cluster`` (the
cluster's representative: the longest cleaned text, ties by smallest ``doc_id``);
``is_representative``; ``sim_to_representative`` (estimated Jaccard of word shingles, 1.0 for the
representative and its exact copies). Rejected rows, error pages and pages without words get null
cluster fields (all "404" pages look alike: they are never grouped).

Phases: ``repetition`` (Map); ``canonical`` (Scan: row, doc_id, length and 64-bit exact key of
every page as an Arrow table; the canonical page of each exact group); ``frequent_lines`` (Scan:
lines on many canonical pages are left-over boilerplate, ignored by MinHash; counted as sorted
arrays spilled to disk past ``count_rows``); ``near`` (Components over the canonical pages'
signatures); ``clusters`` (Map: the cluster columns joined to each row). Everything is keyed by
``doc_id``, so the output does not depend on the input order. The corpus-wide state is numbers
(row tables of int64 and float columns, the doc_ids as one Arrow column), not Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from newsaudit.core.step import LSH, Clusters, Components, Map, Phase, RowTable, Scan, Signatures, State
from newsaudit.lib.frequent_lines import page_line_hashes, remove_lines
from newsaudit.lib.gopher import STAT_COLUMNS
from newsaudit.lib.minhash import MinHasher, signatures_parallel
from newsaudit.lib.spill import MAX_ROWS, KeyCounts
from newsaudit.steps.dedup.exact import Keyed, assign, canonical, cluster_columns, page_keys
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.repetition import with_repetition

ADDED_FIELDS = (
    *(pa.field(c, pa.float64()) for c in STAT_COLUMNS),
    pa.field("repeated_paragraphs_removed", pa.int64()),
    pa.field("exact_dup_of", pa.string()),
    pa.field("near_dup_cluster", pa.string()),
    pa.field("is_representative", pa.bool_()),
    pa.field("sim_to_representative", pa.float64()),
)
KEY_COLUMNS = ("doc_id", "clean_text", "status", "is_error_page")


@dataclass(frozen=True)
class DedupStep:
    params: DuplicatesParams
    threads: int = 1  # threads computing MinHash signatures (speed only)
    count_rows: int = MAX_ROWS  # frequent-line counts held in memory before spilling (memory only)

    name = "duplicates"
    needs = ("doc_id", "clean_text")
    adds = ADDED_FIELDS
    side_outputs = MappingProxyType({})

    def phases(self) -> list[Phase]:
        phases: list[Phase] = [
            Map("repetition", self.repetition),
            Scan("canonical", self.page_keys, merge_tables, self.canonical, columns=KEY_COLUMNS),
        ]
        if self.params.frequent_line_pages > 0:
            phases.append(
                Scan(
                    "frequent_lines",
                    self.line_counts,
                    KeyCounts.merge,
                    self.frequent,
                    columns=("clean_text",),
                )
            )
        phases += [
            Components("near", self.nodes, self.signatures, self.lsh, self.clusters, columns=("clean_text",)),
            Map("clusters", self.assign_clusters, parallel=False),
        ]
        return phases

    # --- phases ---------------------------------------------------------------------------------

    def repetition(self, batch: pd.DataFrame, state: State) -> pd.DataFrame:
        return with_repetition(batch, self.params)

    def page_keys(self, batch: pd.DataFrame, state: State) -> pa.Table:
        """Row, doc_id, cleaned length and exact key (null when not eligible) of every row."""
        return page_keys(batch)

    def canonical(self, table: pa.Table, state: State) -> dict[str, Any]:
        keyed = canonical(table)
        idx = np.arange(len(keyed.row))
        frame = pd.DataFrame(
            {
                "rank": keyed.rank,
                "length": keyed.length,
                "canon": keyed.canon,
                "node": keyed.node,
                "doc_id": pd.array(keyed.doc_ids, dtype=pd.ArrowDtype(pa.string())),
            },
            index=pd.Index(keyed.row, dtype=np.int64),
        )
        is_canon = keyed.canon == idx
        canon = pd.DataFrame(
            {"pos": keyed.node[is_canon]}, index=pd.Index(keyed.row[is_canon], dtype=np.int64)
        )
        return {"keyed": RowTable(frame), "canonical": RowTable(canon)}

    def line_counts(self, batch: pd.DataFrame, state: State) -> KeyCounts:
        texts = batch.loc[state["canonical"].frame.index, "clean_text"].tolist()
        hashes = page_line_hashes(texts) if texts else np.empty(0, dtype=np.int64)
        return KeyCounts.of(np.zeros(hashes.size, np.int64), hashes, max_rows=self.count_rows)

    def frequent(self, merged: KeyCounts, state: State) -> dict[str, Any]:
        n_canon = len(state["canonical"].frame)
        if n_canon < self.params.frequent_line_pages:
            return {"frequent_lines": np.empty(0, dtype=np.int64)}
        kept = [rows["lo"][rows["count"] >= self.params.frequent_line_pages] for rows in merged.buckets()]
        return {"frequent_lines": np.sort(np.concatenate(kept)) if kept else np.empty(0, dtype=np.int64)}

    def nodes(self, state: State) -> pa.Array:
        """The canonical pages' doc_ids, in node order (= doc_id order)."""
        keyed = _keyed(state["keyed"].frame)
        return keyed.doc_ids.filter(pa.array(keyed.canon == np.arange(len(keyed.row))))

    def signatures(self, batch: pd.DataFrame, state: State) -> Signatures:
        canon = state["canonical"].frame
        texts = batch.loc[canon.index, "clean_text"].tolist()
        frequent = state.get("frequent_lines", np.empty(0, dtype=np.int64))
        texts = remove_lines(texts, frequent, self.params.frequent_line_min_keep)
        hasher = MinHasher(num_perm=self.params.num_perm, shingle=self.params.shingle, seed=self.params.seed)
        matrix, n_shingles = signatures_parallel(hasher, texts, self.threads)
        return Signatures(canon["pos"].to_numpy(np.int64), matrix, n_shingles)

    def lsh(self, state: State) -> LSH:
        p = self.params
        return LSH(p.num_perm, p.bands, p.rows, p.threshold, p.max_bucket_pairs)

    def clusters(self, result: Clusters, state: State) -> dict[str, Any]:
        keyed = _keyed(state["keyed"].frame)
        fields, pointed = cluster_columns(keyed, result.labels, result.similarity)
        return {"clusters": RowTable(fields), "cluster_ids": pointed, "near_notes": result.notes}

    def assign_clusters(self, batch: pd.DataFrame, state: State) -> pd.DataFrame:
        return assign(batch, state["clusters"].frame, state["cluster_ids"])


def _keyed(frame: pd.DataFrame) -> Keyed:
    """The keyed pages' arrays back from their row table (in doc_id order, whatever its order)."""
    frame = frame.sort_values("rank", kind="stable")
    return Keyed(
        frame.index.to_numpy(np.int64),
        frame["length"].to_numpy(np.int64),
        frame["rank"].to_numpy(np.int64),
        frame["canon"].to_numpy(np.int64),
        frame["node"].to_numpy(np.int64),
        pa.array(frame["doc_id"].array).cast(pa.string()),
    )


def merge_tables(parts: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]
