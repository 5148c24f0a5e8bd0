"""The classify step's corpus statistics (``reports/metrics/classify.json``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

# What :func:`corpus_stats` reads of the pages table (lib.tables.read_columns reads only these back).
STATS_COLUMNS = (
    "source",
    "language",
    "classified",
    "conflict_label",
    "unclassified_reason",
    "cluster_size",
)


def corpus_stats(annotated: pd.DataFrame) -> dict[str, Any]:
    """Counts and shares by source and language; shares are over classified pages only."""

    def summary(part: pd.DataFrame) -> dict[str, Any]:
        done = part[part["classified"]]
        events = int(done["conflict_label"].fillna(False).sum())
        res = {
            "pages": len(part),
            "classified": len(done),
            "conflict_events": events,
            "share_conflict": events / len(done) if len(done) else None,
            "unclassified": {
                str(k): int(v)
                for k, v in part["unclassified_reason"].dropna().value_counts().sort_index().items()
            },
        }
        if "cluster_size" in done:
            weight = done["cluster_size"].astype(float)
            flagged = done["conflict_label"].fillna(False).astype(bool)
            res["share_conflict_cluster_weighted"] = (
                float(weight[flagged].sum() / weight.sum()) if weight.sum() else None
            )
        return res

    stats: dict[str, Any] = {"overall": summary(annotated)}
    for col in ("source", "language"):
        if col in annotated:
            keys = annotated[col].astype("string").fillna("(none)")
            stats[f"by_{col}"] = {str(k): summary(g) for k, g in annotated.groupby(keys, sort=True)}
    return stats
