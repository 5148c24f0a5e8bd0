"""The boilerplate stage over Parquet in row batches, on all cores, with memory bounded per batch.

Same rows as :func:`newsaudit.steps.boilerplate.clean.annotate_boilerplate` on the whole table (tested), in two
passes over batches of ``batch_rows`` rows:

1. site-template counts: per batch, on how many pages each (source, line hash) occurs; partial
   counts are merged every few batches, so memory holds one row per distinct (source, line), as
   numbers, never the text. Then the template index (the lines that are templates) is built;
2. cleaning: batches go to a process pool (:func:`newsaudit.engines.parallel.ordered_map`: the line model
   and the index reach each worker once) and come back in order; pages and removed lines are
   appended to their Parquet files as they arrive, at most ``2 x workers`` batches in flight.

The removed-lines statistics are accumulated batch by batch; the "top boilerplate lines" table
reads back only the site-template and pattern lines.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from newsaudit.core.errors import NewsauditError
from newsaudit.engines.parallel import STATE, ordered_map
from newsaudit.steps.boilerplate.clean import (
    REASONS,
    BoilerplateParams,
    TemplateIndex,
    _accepted,
    _sources,
    annotate_batch,
    build_template_index,
    corpus_stats,
    merge_template_counts,
    template_line_counts,
)
from newsaudit.steps.boilerplate.linemodel import LineModel
from newsaudit.steps.boilerplate.lines import split_lines

log = logging.getLogger(__name__)

ADDED_FIELDS = [
    pa.field("clean_text", pa.string()),
    pa.field("clean_status", pa.string()),
    pa.field("is_error_page", pa.bool_()),
    pa.field("error_kind", pa.string()),
    pa.field("error_prefix_chars", pa.int64()),
    pa.field("error_prefix_kind", pa.string()),
    pa.field("boilerplate_chars", pa.int64()),
    pa.field("boilerplate_frac", pa.float64()),
    pa.field("n_lines", pa.int64()),
    pa.field("n_lines_kept", pa.int64()),
    pa.field("clean_n_chars", pa.int64()),
]
REMOVED_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string()),
        pa.field("line_no", pa.int64()),
        pa.field("text", pa.string()),
        pa.field("reason", pa.dictionary(pa.int8(), pa.string())),
    ]
)
MERGE_EVERY = 8  # batches of partial template counts merged at once
NEEDED = ["doc_id", "status", "raw_text"]


def _batches(path: Path, rows: int, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    for rb in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=columns):
        yield rb.to_pandas()


def count_templates(src: Path, params: BoilerplateParams, rows: int) -> TemplateIndex:
    """Pass 1: the template index of the whole table, from per-batch counts."""
    names = pq.ParquetFile(src).schema_arrow.names
    columns = [c for c in (*NEEDED, "source") if c in names]
    parts: list[pd.DataFrame] = []
    merged: pd.DataFrame | None = None
    source_pages: Counter = Counter()
    for batch in tqdm(_batches(src, rows, columns), desc="boilerplate templates", unit="batch", disable=None):
        acc = batch[_accepted(batch)]
        sources = _sources(acc)
        source_pages.update(s or "" for s in sources)
        parts.append(
            template_line_counts(sources.tolist(), [split_lines(t) for t in acc["raw_text"]], params)
        )
        if len(parts) >= MERGE_EVERY:
            merged = merge_template_counts([p for p in (merged, *parts) if p is not None])
            parts = []
    counts = merge_template_counts([p for p in (merged, *parts) if p is not None])
    log.info("template counts: %d distinct (source, line) pairs", len(counts))
    return build_template_index(counts, dict(sorted(source_pages.items())), params)


def _clean_batch(batch: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return annotate_batch(batch, STATE["templates"], STATE["params"], STATE["line_model"])


def _schema(source: pa.Schema) -> pa.Schema:
    added = {f.name for f in ADDED_FIELDS}
    return pa.schema([f for f in source if f.name not in added] + ADDED_FIELDS)


def clean_parquet(
    src: Path,
    dst: Path,
    removed_dst: Path,
    params: BoilerplateParams,
    line_model: LineModel | None,
    rows: int = 2000,
    workers: int = 2,
) -> dict:
    """Run the stage from ``src`` to ``dst`` (pages) and ``removed_dst`` (removed lines); returns the
    stage's statistics (:func:`newsaudit.steps.boilerplate.clean.corpus_stats`)."""
    source = pq.ParquetFile(src).schema_arrow
    missing = set(NEEDED) - set(source.names)
    if missing:
        raise NewsauditError(f"{src}: lacks column(s) {sorted(missing)} needed by the boilerplate stage")
    if line_model is None:
        log.warning("boilerplate: no line model, lines of %d+ words are kept", params.fallback_min_words)
    templates = count_templates(src, params, rows)
    log.info("site templates: %s", {k: len(v) for k, v in templates.lines.items() if v})
    schema = _schema(source)
    dst.parent.mkdir(parents=True, exist_ok=True)
    removed_dst.parent.mkdir(parents=True, exist_ok=True)
    tmp, tmp_removed = (
        dst.with_name(dst.name + ".partial"),
        removed_dst.with_name(removed_dst.name + ".partial"),
    )
    lines_by_reason: Counter = Counter()
    chars_by_reason: Counter = Counter()
    state = {"templates": templates, "params": params, "line_model": line_model}
    with pq.ParquetWriter(tmp, schema) as writer, pq.ParquetWriter(tmp_removed, REMOVED_SCHEMA) as removed_w:
        results = ordered_map(_clean_batch, _batches(src, rows), workers, state)
        for out, removed in tqdm(results, desc="boilerplate", unit="batch", disable=None):
            writer.write_table(pa.Table.from_pandas(out[schema.names], schema=schema, preserve_index=False))
            removed = removed.astype({"reason": pd.CategoricalDtype(list(REASONS))})
            removed_w.write_table(pa.Table.from_pandas(removed, schema=REMOVED_SCHEMA, preserve_index=False))
            lines_by_reason.update(removed["reason"].astype(str).tolist())
            chars_by_reason.update(
                removed.assign(n=removed["text"].str.len())
                .groupby("reason", observed=True)["n"]
                .sum()
                .to_dict()
            )
    tmp.replace(dst)
    tmp_removed.replace(removed_dst)
    return stream_stats(dst, removed_dst, params, lines_by_reason, chars_by_reason)


def stream_stats(
    pages_path: Path,
    removed_path: Path,
    params: BoilerplateParams,
    lines_by_reason: Counter,
    chars_by_reason: Counter,
) -> dict:
    """:func:`corpus_stats` from the written files, reading no page text and only the removed lines
    that feed the top-lines table (site templates and patterns)."""
    small = [c for c in pq.ParquetFile(pages_path).schema_arrow.names if c not in ("raw_text", "clean_text")]
    pages = pd.read_parquet(pages_path, columns=small)
    top = pq.read_table(removed_path, filters=[("reason", "in", ["site_template", "pattern"])]).to_pandas()
    top["reason"] = pd.Categorical(top["reason"].astype(str), categories=list(REASONS))
    totals = {
        "lines": {r: int(lines_by_reason.get(r, 0)) for r in REASONS},
        "chars": {r: int(chars_by_reason.get(r, 0)) for r in REASONS},
    }
    return corpus_stats(pages, top, params, totals=totals)
