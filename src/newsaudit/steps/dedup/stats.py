"""The dedup step's corpus statistics (``reports/metrics/duplicates.json``) and the S-curve."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from newsaudit.lib.gopher import GOPHER_THRESHOLDS, STAT_COLUMNS
from newsaudit.lib.minhash import s_curve, s_curve_midpoint
from newsaudit.lib.storage import Location
from newsaudit.lib.tables import has_text, read_columns
from newsaudit.steps.dedup.params import DuplicatesParams

# What :func:`duplicate_stats` and the stage's plots read of the pages table (lib.tables.read_columns
# reads only these back; the text is replaced by a ``_has_text`` column, lib.tables.has_text).
STATS_COLUMNS = (
    "doc_id",
    "source",
    "status",
    "is_error_page",
    "exact_dup_of",
    "near_dup_cluster",
    "is_representative",
    "repeated_paragraphs_removed",
    *STAT_COLUMNS,
)


def stats_table(path: Location) -> pd.DataFrame:
    """What :func:`duplicate_stats` and the plots read of a written pages table: its
    ``STATS_COLUMNS`` and, for the text, only a ``_has_text`` column."""
    pages = read_columns(path, STATS_COLUMNS)
    pages["_has_text"] = has_text(path).to_numpy()
    return pages


def _r(x: float, nd: int = 4) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), nd)


def s_curve_table(params: DuplicatesParams) -> dict[str, Any]:
    return {
        "formula": "P(candidate | Jaccard s) = 1 - (1 - s**rows)**bands",
        "bands": params.bands,
        "rows": params.rows,
        "midpoint_jaccard": _r(s_curve_midpoint(params.bands, params.rows)),
        "points": {
            f"{s:.2f}": _r(float(s_curve(s, params.bands, params.rows))) for s in params.s_curve_points
        },
    }


def duplicate_stats(out: pd.DataFrame, params: DuplicatesParams, top_sources: int = 20) -> dict[str, Any]:
    """The stage's metrics: duplicate rates, cluster sizes, repeated paragraphs, syndication."""
    ok = out["near_dup_cluster"].notna()
    n_ok = int(ok.sum())
    sizes = out.loc[ok, "near_dup_cluster"].value_counts()
    in_multi = out.loc[ok, "near_dup_cluster"].map(sizes) > 1
    # the batch-wise stage passes a boolean column instead of the texts
    with_text = out["clean_text"].notna() if "clean_text" in out else out["_has_text"].astype(bool)
    stats: dict[str, Any] = {
        "pages": len(out),
        "pages_clustered": n_ok,
        "pages_skipped": {
            "rejected_or_no_text": int((~with_text | out.get("status", "accepted").ne("accepted")).sum()),
            "error_pages": int(
                out.get("is_error_page", pd.Series(False, index=out.index)).fillna(False).astype(bool).sum()
            ),
        },
        "exact_duplicate_pages": int(out["exact_dup_of"].notna().sum()),
        "exact_duplicate_rate": _r(out["exact_dup_of"].notna().sum() / n_ok) if n_ok else None,
        "near_duplicate_pages": int((in_multi & ~out.loc[ok, "is_representative"]).sum()),
        "near_duplicate_rate": _r((in_multi & ~out.loc[ok, "is_representative"]).sum() / n_ok)
        if n_ok
        else None,
        "clusters": int(sizes.size),
        "clusters_with_duplicates": int((sizes > 1).sum()),
        "cluster_size_distribution": {str(k): int(v) for k, v in sizes.value_counts().sort_index().items()},
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "pages_with_repeated_paragraphs": int((out["repeated_paragraphs_removed"] > 0).sum()),
        "repeated_paragraphs_removed": int(out["repeated_paragraphs_removed"].sum()),
        "gopher_means": {c: _r(out.loc[with_text, c].mean()) for c in STAT_COLUMNS},
        # share of pages with text above each Gopher threshold, and above any (what the filter drops)
        "gopher_over_threshold": {
            **{c: _r((out.loc[with_text, c] > t).mean()) for c, t in GOPHER_THRESHOLDS.items()},
            "any": _r(
                pd.concat([out.loc[with_text, c] > t for c, t in GOPHER_THRESHOLDS.items()], axis=1)
                .any(axis=1)
                .mean()
            ),
        },
        "s_curve": s_curve_table(params),
    }
    if "source" in out:
        members = out[ok & ~out["is_representative"] & in_multi.reindex(out.index, fill_value=False)]
        rep_source = out.set_index("doc_id")["source"]
        pairs = pd.DataFrame(
            {
                "from": members["near_dup_cluster"].map(rep_source).fillna("(none)"),
                "to": members["source"].fillna("(none)"),
            }
        )
        pairs = pairs[pairs["from"] != pairs["to"]]
        counted = pairs.value_counts().reset_index(name="pages")
        counted = counted.sort_values(["pages", "from", "to"], ascending=[False, True, True]).head(
            top_sources
        )
        stats["syndication"] = [
            {"from": str(r["from"]), "to": str(r["to"]), "pages": int(r["pages"])}
            for _, r in counted.iterrows()
        ]
    return stats
