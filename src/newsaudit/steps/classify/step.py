"""The classify step: corpus-wide cluster sizes, then scoring batch by batch.

Phases: ``cluster_sizes`` (Scan: pages per near-duplicate cluster, a corpus-wide group size that no
batch sees whole, counted over 64-bit hashes of the cluster names in bounded memory; only the
clusters of more than one page are kept; only when the table has clusters) and ``score`` (Map:
:func:`~newsaudit.steps.classify.score.annotate_predictions` with the model bundle).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from newsaudit.core.step import Map, Phase, Scan, State
from newsaudit.lib.spill import KeyCounts, string_codes
from newsaudit.steps.classify.score import ClassifyParams, annotate_predictions

SCORE_FIELDS = (
    pa.field("conflict_prob", pa.float64()),
    pa.field("conflict_label", pa.bool_()),
    pa.field("classified", pa.bool_()),
    pa.field("unclassified_reason", pa.string()),
    pa.field("conflict_terms", pa.string()),
)
CLUSTER_SIZE_FIELD = pa.field("cluster_size", pa.int64())


@dataclass(frozen=True)
class ClassifyStep:
    params: ClassifyParams
    model: dict[str, Any]  # the bundle of ``steps.classify.model.load_model``
    with_clusters: bool = True  # the input has ``near_dup_cluster`` (the pipeline's tables do)

    name = "classify"
    side_outputs = MappingProxyType({})

    @property
    def needs(self) -> tuple[str, ...]:
        return (self.params.text_column, *(("near_dup_cluster",) if self.with_clusters else ()))

    @property
    def adds(self) -> tuple[pa.Field, ...]:
        return (*SCORE_FIELDS, *((CLUSTER_SIZE_FIELD,) if self.with_clusters else ()))

    def phases(self) -> list[Phase]:
        scan = Scan(
            "cluster_sizes", cluster_codes, KeyCounts.merge, self.sizes, columns=("near_dup_cluster",)
        )
        return [*([scan] if self.with_clusters else []), Map("score", self.score)]

    def sizes(self, counts: KeyCounts, state: State) -> dict[str, Any]:
        """The clusters of more than one page: sorted name codes and their sizes."""
        big = [rows[rows["count"] > 1] for rows in counts.buckets()]
        rows = np.concatenate(big) if big else np.empty(0, dtype=counts.rows.dtype)
        order = np.argsort(rows["lo"])
        return {"cluster_sizes": (rows["lo"][order], rows["count"][order])}

    def score(self, batch: pd.DataFrame, state: State) -> pd.DataFrame:
        out = annotate_predictions(batch, self.model, self.params)
        if self.with_clusters:
            out["cluster_size"] = batch_cluster_sizes(batch["near_dup_cluster"], *state["cluster_sizes"])
        return out


def _named(clusters: pd.Series) -> tuple[np.ndarray, list[str]]:
    ok = clusters.notna().to_numpy()
    return ok, [str(c) for c in clusters[ok]]


def cluster_codes(batch: pd.DataFrame, state: State) -> KeyCounts:
    """Pages per cluster name code in this batch (pages without a cluster are not counted)."""
    _, names = _named(batch["near_dup_cluster"])
    codes = string_codes(names)
    return KeyCounts.of(np.zeros(codes.size, np.int64), codes)


def batch_cluster_sizes(clusters: pd.Series, codes: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Pages in each page's near-duplicate cluster (1 for a page in none, or alone in its own)."""
    ok, names = _named(clusters)
    out = np.ones(len(clusters), dtype=np.int64)
    if names and codes.size:
        mine = string_codes(names)
        at = np.minimum(np.searchsorted(codes, mine), codes.size - 1)
        found = codes[at] == mine
        out[np.flatnonzero(ok)[found]] = sizes[at[found]]
    return out
