"""``newsaudit duplicates``: within-page repetition, exact and near duplicates across pages.

Reads ``data/interim/pages_clean.parquet``; writes ``data/interim/pages_dedup.parquet``,
``reports/metrics/duplicates.json`` (headline figures), the breakdowns (cluster sizes, Gopher
statistics, syndication, S-curve) in ``reports/tables/duplicates/`` and the cluster-size and
S-curve plots.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import execution, load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import counts, leftover, pick, records, write_json, write_tables
from newsaudit.engines.dispatch import run_step
from newsaudit.lib import storage
from newsaudit.lib.minhash import s_curve
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.stats import duplicate_stats, stats_table
from newsaudit.steps.dedup.step import DedupStep

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("duplicates", help="repeated paragraphs, exact and near-duplicate pages")
    p.add_argument("--input", default=str(paths.PAGES_CLEAN))
    p.add_argument("--output", default=str(paths.PAGES_DEDUP))
    p.add_argument("--metrics", default=str(paths.metrics("duplicates")))
    p.add_argument("--tables", default=None, help="breakdown tables (default: beside --metrics)")
    p.add_argument("--plots", default=str(paths.DUPLICATES_PLOTS))
    p.add_argument("--engine", default=None, help="memory, stream or dask (default: execution.engine)")
    p.set_defaults(func=run)


def run(args) -> None:
    raw = load_params(args.params)
    params = section(raw, "duplicates", DuplicatesParams)
    ex = execution(raw, args.engine)
    src, dst = storage.location(args.input), storage.location(args.output)  # paths or fsspec URLs
    if not storage.is_file(src):
        raise NewsauditError(f"{src}: cleaned pages table not found (run the boilerplate stage first)")
    step = DedupStep(params, ex.workers.duplicates)
    run_step(step, ex, src, dst, {}, params.repetition_batch, ex.workers.duplicates)
    out = stats_table(dst)
    stats = duplicate_stats(out, params)
    headline, tables = split_metrics(stats)
    write_json(headline, Path(args.metrics))
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    write_plots(out, params, Path(args.plots))
    log.info(
        "duplicates: %d pages, %d exact and %d near duplicates, %d pages with repeated paragraphs",
        stats["pages"],
        stats["exact_duplicate_pages"],
        stats["near_duplicate_pages"],
        stats["pages_with_repeated_paragraphs"],
    )


HEADLINE = (
    "pages_clustered",
    "exact_duplicate_pages",
    "near_duplicate_pages",
    "near_duplicate_rate",
    "largest_cluster",
    "pages_with_repeated_paragraphs",
)
BREAKDOWNS = ("cluster_size_distribution", "gopher_means", "gopher_over_threshold", "pages_skipped")


def split_metrics(stats: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Headline figures and one table per breakdown; any other figure goes to ``other``."""
    means, over = stats.get("gopher_means") or {}, stats.get("gopher_over_threshold") or {}
    names = list(dict.fromkeys([*means, *over]))
    s_points = (stats.get("s_curve") or {}).get("points") or {}
    tables = {
        "cluster_sizes": counts(stats.get("cluster_size_distribution"), "cluster_size", "clusters"),
        "gopher": pd.DataFrame(
            {
                "statistic": names,
                "mean": [means.get(n) for n in names],
                "share_over_threshold": [over.get(n) for n in names],
            }
        ),
        "pages_skipped": counts(stats.get("pages_skipped"), "reason", "pages"),
        "syndication": records(stats.get("syndication"), ["from", "to", "pages"]),
        "s_curve_points": counts(s_points, "jaccard", "p_candidate"),
        "other": leftover(stats, HEADLINE + BREAKDOWNS + ("syndication", "s_curve.points")),
    }
    return pick(stats, HEADLINE), tables


def write_plots(out: pd.DataFrame, params: DuplicatesParams, plots: Path) -> None:
    """Cluster-size histogram and the LSH S-curve, as CSV (DVC plots) and PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots.mkdir(parents=True, exist_ok=True)
    sizes = out["near_dup_cluster"].dropna().value_counts().value_counts().sort_index()
    hist = pd.DataFrame({"cluster_size": sizes.index.astype(int), "clusters": sizes.to_numpy().astype(int)})
    hist.to_csv(plots / "cluster_sizes.csv", index=False)
    grid = np.round(np.linspace(0, 1, 101), 2)
    curve = pd.DataFrame(
        {"jaccard": grid, "p_candidate": np.round(s_curve(grid, params.bands, params.rows), 6)}
    )
    curve.to_csv(plots / "s_curve.csv", index=False)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].bar(hist["cluster_size"], hist["clusters"])
    ax[0].set(xlabel="cluster size (pages)", ylabel="clusters", yscale="log", title="near-duplicate clusters")
    ax[1].plot(curve["jaccard"], curve["p_candidate"])
    ax[1].axvline(params.threshold, ls="--", c="grey")
    ax[1].set(xlabel="Jaccard similarity", ylabel="P(candidate)", title=f"LSH {params.bands}x{params.rows}")
    fig.tight_layout()
    fig.savefig(plots / "duplicates.png", dpi=100, metadata={"Software": None})
    plt.close(fig)
