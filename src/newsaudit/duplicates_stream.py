"""The duplicates stage over Parquet in row batches: memory bounded by a few numbers per page.

Same result as :func:`newsaudit.steps.dedup.step.annotate_duplicates` on the whole table (tested), in
four passes over batches of ``repetition_batch`` rows:

1. repetition statistics and repeated-paragraph removal per batch, written to a temporary Parquet
   file next to the output; kept in memory per page: doc_id, eligibility, cleaned length and the
   exact-duplicate key;
2. the canonical page of each exact group is chosen; the lines of canonical pages are hashed per
   batch and counted (the frequent-line filter);
3. MinHash signatures of canonical pages, per batch (``num_perm`` uint32 per page), then LSH,
   verification and union-find once (:func:`newsaudit.lib.minhash.cluster_signatures`);
4. the cluster columns are joined to each batch of the temporary file and written out.

Held in memory: doc_ids, a few numbers per page, one signature per distinct page, the distinct
line hashes of canonical pages (for the frequent-line count) and the LSH candidate pairs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.gopher import STAT_COLUMNS
from newsaudit.lib.minhash import (
    MinHasher,
    cluster_signatures,
    frequent_lines,
    page_line_hashes,
    remove_lines,
    signatures_parallel,
)
from newsaudit.steps.dedup.step import (
    DuplicatesParams,
    canonical_pages,
    cluster_fields,
    eligible_exact_keys,
    repetition_pool,
    with_repetition,
)

log = logging.getLogger(__name__)

ADDED_FIELDS = [
    *(pa.field(c, pa.float64()) for c in STAT_COLUMNS),
    pa.field("repeated_paragraphs_removed", pa.int64()),
    pa.field("exact_dup_of", pa.string()),
    pa.field("near_dup_cluster", pa.string()),
    pa.field("is_representative", pa.bool_()),
    pa.field("sim_to_representative", pa.float64()),
]


def _schema(source: pa.Schema) -> pa.Schema:
    """The input's columns (``clean_text`` as string) followed by the added ones."""
    added = {f.name for f in ADDED_FIELDS}
    fields = [f if f.name != "clean_text" else pa.field("clean_text", pa.string()) for f in source]
    return pa.schema([f for f in fields if f.name not in added] + ADDED_FIELDS)


def _batches(path: Path, rows: int, columns: list[str] | None = None):
    return pq.ParquetFile(path).iter_batches(batch_size=rows, columns=columns)


def dedup_parquet(src: Path, dst: Path, params: DuplicatesParams) -> pd.DataFrame:
    """Run the stage from ``src`` to ``dst`` batch by batch; returns the small per-page columns that
    :func:`newsaudit.steps.dedup.step.duplicate_stats` needs (no text)."""
    source = pq.ParquetFile(src).schema_arrow
    missing = {"doc_id", "clean_text"} - set(source.names)
    if missing:
        raise NewsauditError(f"{src}: lacks column(s) {sorted(missing)} needed by the duplicates stage")
    schema = _schema(source)
    tmp = dst.with_name(dst.name + ".partial")
    dst.parent.mkdir(parents=True, exist_ok=True)
    size = params.repetition_batch

    # pass 1: repetition, and the per-page facts the clustering needs
    meta_parts = []
    pool = repetition_pool(params)  # one pool for all batches: spawning costs about a second
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for rb in tqdm(
                _batches(src, size), desc="duplicates pass 1", unit="batch", leave=False, disable=None
            ):
                pages = with_repetition(rb.to_pandas(), params, pool)
                keys = eligible_exact_keys(pages)
                meta_parts.append(
                    pd.DataFrame(
                        {
                            "doc_id": pages["doc_id"].astype(str).to_numpy(),
                            "_len": pages["clean_text"].str.len().to_numpy(),
                            "_key": keys.to_numpy(),
                            "_has_text": pages["clean_text"].notna().to_numpy(),
                        }
                    )
                )
                for field in ADDED_FIELDS[len(STAT_COLUMNS) + 1 :]:
                    pages[field.name] = None
                writer.write_table(
                    pa.Table.from_pandas(pages[schema.names], schema=schema, preserve_index=False)
                )
    finally:
        if pool is not None:
            pool.shutdown()
    meta = pd.concat(meta_parts, ignore_index=True)
    if meta["doc_id"].duplicated().any():
        tmp.unlink()
        raise NewsauditError(
            f"{src}: doc_id {meta.loc[meta['doc_id'].duplicated(), 'doc_id'].iloc[0]!r} occurs more than once"
        )

    # pass 2: canonical pages, frequent lines among them
    frame = meta[meta["_key"].notna()]
    fields = pd.DataFrame(index=meta.index)
    if not frame.empty:
        frame = canonical_pages(frame)
        canon = np.sort(frame.index[frame["_canon"] == frame["doc_id"]])  # file order, as read back
        is_canon = np.zeros(len(meta), dtype=bool)
        is_canon[canon] = True
        frequent = np.empty(0, dtype=np.int64)
        if params.frequent_line_pages > 0 and len(canon) >= params.frequent_line_pages:
            counted = [page_line_hashes(texts) for texts in _canonical_texts(tmp, size, is_canon)]
            frequent = frequent_lines(np.concatenate(counted), params.frequent_line_pages)
        # pass 3: signatures of canonical pages, clustered once
        hasher = MinHasher(num_perm=params.num_perm, shingle=params.shingle, seed=params.seed)
        sig = np.empty((len(canon), params.num_perm), dtype=np.uint32)
        sizes = np.empty(len(canon), dtype=np.int64)
        done = 0
        for texts in _canonical_texts(tmp, size, is_canon):
            texts = remove_lines(texts, frequent, params.frequent_line_min_keep)
            sig[done : done + len(texts)], sizes[done : done + len(texts)] = signatures_parallel(
                hasher, texts, params.workers
            )
            done += len(texts)
        near = cluster_signatures(
            sig,
            sizes,
            meta.loc[canon, "doc_id"].tolist(),
            params.bands,
            params.rows,
            params.threshold,
            params.max_bucket_pairs,
        )
        fields = cluster_fields(frame, near)

    # pass 4: join the cluster columns
    cols = ["exact_dup_of", "near_dup_cluster", "is_representative", "sim_to_representative"]
    full = pd.DataFrame(
        {
            "exact_dup_of": pd.Series(None, index=meta.index, dtype=object),
            "near_dup_cluster": pd.Series(None, index=meta.index, dtype=object),
            "is_representative": False,
            "sim_to_representative": np.nan,
        }
    )
    for col in cols:
        if col in fields:
            full.loc[fields.index, col] = fields[col]
    with pq.ParquetWriter(dst, schema) as writer:
        start = 0
        for rb in _batches(tmp, size):
            table = rb.to_pandas()
            part = full.iloc[start : start + len(table)]
            for col in cols:
                table[col] = part[col].to_numpy()
            table["is_representative"] = table["is_representative"].astype(bool)
            table["sim_to_representative"] = table["sim_to_representative"].astype(float)
            writer.write_table(pa.Table.from_pandas(table[schema.names], schema=schema, preserve_index=False))
            start += len(table)
    tmp.unlink()
    small = [c for c in schema.names if c not in ("clean_text", "raw_text")]
    out = pd.read_parquet(dst, columns=small)
    out["_has_text"] = meta["_has_text"].to_numpy()
    return out


def _canonical_texts(path: Path, rows: int, is_canon: np.ndarray) -> Any:
    """Cleaned texts of the canonical pages, batch by batch, in file order."""
    start = 0
    for rb in _batches(path, rows, columns=["clean_text"]):
        texts = rb.column(0).to_pylist()
        mask = is_canon[start : start + len(texts)]
        start += len(texts)
        if mask.any():
            yield [t for t, m in zip(texts, mask, strict=True) if m]
