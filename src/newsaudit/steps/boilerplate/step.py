"""The boilerplate step: a site-template scan, then cleaning batch by batch.

Phases: ``templates`` (Scan: per-batch counts of (source code, line hash) merged over the corpus,
as sorted arrays spilled to disk past ``count_rows`` rows, then the template index) and ``clean``
(Map: :func:`~newsaudit.steps.boilerplate.clean.annotate_batch` with that index and the line
model; side table ``removed_lines``: every removed line with its reason). A page's result depends
on the page and the template index only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd
import pyarrow as pa

from newsaudit.core.step import Map, MapOutput, Phase, Scan, State
from newsaudit.lib.spill import MAX_ROWS, KeyCounts
from newsaudit.steps.boilerplate.clean import REASONS, _accepted, _sources, annotate_batch
from newsaudit.steps.boilerplate.linemodel import LineModel
from newsaudit.steps.boilerplate.lines import split_lines
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.templates import index_from_key_counts, template_key_counts

ADDED_FIELDS = (
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
)
REMOVED_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string()),
        pa.field("line_no", pa.int64()),
        pa.field("text", pa.string()),
        pa.field("reason", pa.dictionary(pa.int8(), pa.string())),
    ]
)


@dataclass(frozen=True)
class TemplateCounts:
    """A mergeable partial of the templates scan: line counts and accepted pages per source."""

    counts: KeyCounts
    source_pages: Counter


@dataclass(frozen=True)
class BoilerplateStep:
    params: BoilerplateParams
    line_model: LineModel | None  # None: the documented fallback rule (lines of N+ words kept)
    count_rows: int = MAX_ROWS  # template counts held in memory before spilling (memory only)

    name = "boilerplate"
    needs = ("doc_id", "status", "raw_text")
    adds = ADDED_FIELDS
    side_outputs = MappingProxyType({"removed_lines": REMOVED_SCHEMA})

    def phases(self) -> list[Phase]:
        return [
            Scan(
                "templates",
                self.count_templates,
                merge_counts,
                self.template_index,
                columns=("doc_id", "status", "raw_text", "source"),
            ),
            Map("clean", self.clean),
        ]

    def count_templates(self, batch: pd.DataFrame, state: State) -> TemplateCounts:
        acc = batch[_accepted(batch)]
        sources = _sources(acc)
        pages = [split_lines(t) for t in acc["raw_text"]]
        counts = template_key_counts(sources.tolist(), pages, self.params, self.count_rows)
        return TemplateCounts(counts, Counter(s or "" for s in sources))

    def template_index(self, merged: TemplateCounts, state: State) -> dict[str, Any]:
        source_pages = dict(sorted(merged.source_pages.items()))
        return {"templates": index_from_key_counts(merged.counts, source_pages, self.params)}

    def clean(self, batch: pd.DataFrame, state: State) -> MapOutput:
        out, removed = annotate_batch(batch, state["templates"], self.params, self.line_model)
        removed = removed.astype({"reason": pd.CategoricalDtype(list(REASONS))})
        return MapOutput(out, {"removed_lines": removed})


def merge_counts(parts: list[TemplateCounts]) -> TemplateCounts:
    """Sum partial template counts (of batches, or of partitions on a cluster)."""
    total: Counter = Counter()
    for p in parts:
        total.update(p.source_pages)
    return TemplateCounts(KeyCounts.merge([p.counts for p in parts]), total)
