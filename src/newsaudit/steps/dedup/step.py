"""The dedup step: within-page repetition, exact and near duplicates across pages.

Adds to the cleaned pages table: the Gopher repetition statistics of ``clean_text`` as the
boilerplate step left it (datatrove's definitions), ``clean_text`` with repeated paragraphs removed
(first occurrence kept) and ``repeated_paragraphs_removed``; ``exact_dup_of`` (the canonical page
with the same normalised text; null on the canonical page itself); ``near_dup_cluster`` (the
cluster's representative: the longest cleaned text, ties by smallest ``doc_id``);
``is_representative``; ``sim_to_representative`` (estimated Jaccard of word shingles, 1.0 for the
representative and its exact copies). Rejected rows, error pages and pages without words get null
cluster fields (all "404" pages look alike: they are never grouped).

Phases: ``repetition`` (Map); ``canonical`` (Scan: doc_id, length and exact key of every page, the
canonical page of each exact group); ``frequent_lines`` (Scan: lines on many canonical pages are
left-over boilerplate, ignored by MinHash); ``near`` (Components over the canonical pages'
signatures); ``clusters`` (Map: the cluster columns joined to each row). Everything is keyed by
``doc_id``, so the output does not depend on the input order.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from newsaudit.core.errors import NewsauditError
from newsaudit.core.step import LSH, Clusters, Components, Map, Phase, RowTable, Scan, Signatures, State
from newsaudit.lib.gopher import STAT_COLUMNS
from newsaudit.lib.minhash import MinHasher, page_line_hashes, remove_lines, signatures_parallel
from newsaudit.steps.dedup.exact import CLUSTER_FIELDS, canonical_pages, cluster_fields, eligible_exact_keys
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

    name = "duplicates"
    needs = ("doc_id", "clean_text")
    adds = ADDED_FIELDS
    side_outputs = MappingProxyType({})

    def phases(self) -> list[Phase]:
        phases: list[Phase] = [
            Map("repetition", self.repetition),
            Scan("canonical", self.page_keys, merge_frames, self.canonical, columns=KEY_COLUMNS),
        ]
        if self.params.frequent_line_pages > 0:
            phases.append(
                Scan("frequent_lines", self.line_counts, merge_counts, self.frequent, columns=("clean_text",))
            )
        phases += [
            Components("near", self.nodes, self.signatures, self.lsh, self.clusters, columns=("clean_text",)),
            Map("clusters", self.assign_clusters, parallel=False),
        ]
        return phases

    # --- phases ---------------------------------------------------------------------------------

    def repetition(self, batch: pd.DataFrame, state: State) -> pd.DataFrame:
        return with_repetition(batch, self.params)

    def page_keys(self, batch: pd.DataFrame, state: State) -> pd.DataFrame:
        """doc_id, cleaned length and exact key (None when not eligible) of every row."""
        return pd.DataFrame(
            {
                "doc_id": batch["doc_id"].astype(str).to_numpy(),
                "_len": batch["clean_text"].str.len().to_numpy(),
                "_key": eligible_exact_keys(batch).to_numpy(),
            },
            index=batch.index,
        )

    def canonical(self, meta: pd.DataFrame, state: State) -> dict[str, Any]:
        repeated = meta["doc_id"].duplicated()
        if repeated.any():
            first = meta.loc[repeated, "doc_id"].iloc[0]
            raise NewsauditError(f"pages table: doc_id {first!r} occurs more than once")
        frame = meta[meta["_key"].notna()]
        frame = frame.assign(_canon=pd.Series(dtype=object)) if frame.empty else canonical_pages(frame)
        canon = frame.loc[frame["_canon"] == frame["doc_id"], ["doc_id"]]
        canon = canon.assign(pos=np.arange(len(canon), dtype=np.int64))  # frame is in doc_id order
        return {"keyed": RowTable(frame), "canonical": RowTable(canon)}

    def line_counts(self, batch: pd.DataFrame, state: State) -> tuple[np.ndarray, np.ndarray]:
        texts = batch.loc[state["canonical"].frame.index, "clean_text"].tolist()
        return np.unique(page_line_hashes(texts), return_counts=True) if texts else _no_counts()

    def frequent(self, merged: tuple[np.ndarray, np.ndarray], state: State) -> dict[str, Any]:
        hashes, counts = merged
        n_canon = len(state["canonical"].frame)
        if n_canon < self.params.frequent_line_pages:
            return {"frequent_lines": np.empty(0, dtype=np.int64)}
        return {"frequent_lines": hashes[counts >= self.params.frequent_line_pages]}

    def nodes(self, state: State) -> list[str]:
        canon = state["canonical"].frame
        return canon.sort_values("pos")["doc_id"].tolist()

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
        keyed = state["keyed"].frame
        if keyed.empty:
            return {
                "clusters": RowTable(pd.DataFrame(columns=list(CLUSTER_FIELDS))),
                "near_notes": result.notes,
            }
        ids = np.asarray(self.nodes(state), dtype=object)
        fields = cluster_fields(keyed, ids, result.labels, result.signatures_of)
        return {"clusters": RowTable(fields), "near_notes": result.notes}

    def assign_clusters(self, batch: pd.DataFrame, state: State) -> pd.DataFrame:
        fields = state["clusters"].frame
        out = batch.copy()
        full = pd.DataFrame(
            {
                "exact_dup_of": pd.Series(None, index=out.index, dtype=object),
                "near_dup_cluster": pd.Series(None, index=out.index, dtype=object),
                "is_representative": False,
                "sim_to_representative": np.nan,
            },
            index=out.index,
        )
        for col in CLUSTER_FIELDS:
            if len(fields):
                full.loc[fields.index, col] = fields[col]
            out[col] = full[col].to_numpy()
        out["is_representative"] = out["is_representative"].astype(bool)
        out["sim_to_representative"] = out["sim_to_representative"].astype(float)
        return out


def _no_counts() -> tuple[np.ndarray, np.ndarray]:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)


def merge_frames(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum line-hash page counts of several batches (hashes sorted and unique, as np.unique gives)."""
    hashes = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=np.int64)
    counts = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, dtype=np.int64)
    uniq, inverse = np.unique(hashes, return_inverse=True)
    return uniq, np.bincount(inverse, weights=counts, minlength=uniq.size).astype(np.int64)
