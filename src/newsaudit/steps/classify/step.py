"""The classify step: corpus-wide cluster sizes, then scoring batch by batch.

Phases: ``cluster_sizes`` (Scan: pages per near-duplicate cluster, a corpus-wide group size that no
batch sees whole; only when the table has clusters) and ``score`` (Map:
:func:`~newsaudit.steps.classify.score.annotate_predictions` with the model bundle).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd
import pyarrow as pa

from newsaudit.core.step import Map, Phase, RowTable, Scan, State
from newsaudit.steps.classify.score import ClassifyParams, annotate_predictions, cluster_sizes

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
        scan = Scan("cluster_sizes", cluster_column, merge_frames, self.sizes, columns=("near_dup_cluster",))
        return [*([scan] if self.with_clusters else []), Map("score", self.score)]

    def sizes(self, clusters: pd.DataFrame, state: State) -> dict[str, Any]:
        sizes = cluster_sizes(clusters["near_dup_cluster"]).rename("cluster_size")
        return {"cluster_sizes": RowTable(sizes.to_frame())}

    def score(self, batch: pd.DataFrame, state: State) -> pd.DataFrame:
        out = annotate_predictions(batch, self.model, self.params)
        if self.with_clusters:
            sizes = state["cluster_sizes"].frame["cluster_size"]
            out["cluster_size"] = sizes.reindex(out.index).to_numpy()
        return out


def cluster_column(batch: pd.DataFrame, state: State) -> pd.DataFrame:
    return batch[["near_dup_cluster"]]


def merge_frames(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts) if len(parts) > 1 else parts[0]
