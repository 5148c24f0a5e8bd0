"""``newsaudit boilerplate``: clean article text, flag error pages, record every removed line.

Reads ``data/interim/pages.parquet`` and the line model; writes ``data/interim/pages_clean.parquet``,
``data/interim/removed_lines.parquet``, ``reports/metrics/boilerplate.json`` (headline figures), the
breakdowns by reason, status, error kind and source in ``reports/tables/boilerplate/`` and the plots.
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
from newsaudit.lib.tables import read_columns
from newsaudit.steps.boilerplate.linemodel import load_line_model
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.stats import STATS_COLUMNS, stats_from_files
from newsaudit.steps.boilerplate.step import BoilerplateStep

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("boilerplate", help="clean article text, flag error pages, record removed lines")
    p.add_argument("--pages", default=str(paths.PAGES))
    p.add_argument("--out", default=str(paths.PAGES_CLEAN))
    p.add_argument("--removed", default=str(paths.REMOVED_LINES))
    p.add_argument("--metrics", default=str(paths.metrics("boilerplate")))
    p.add_argument("--tables", default=None, help="breakdown tables (default: beside --metrics)")
    p.add_argument("--plots", default=str(paths.BOILERPLATE_PLOTS))
    p.add_argument("--model", default=str(paths.LINE_MODEL), help="line model (default: %(default)s)")
    p.add_argument("--engine", default=None, help="memory, stream or dask (default: execution.engine)")
    p.set_defaults(func=run)


def run(args) -> None:
    raw = load_params(args.params)
    params = section(raw, "boilerplate", BoilerplateParams)
    ex = execution(raw, args.engine)
    pages_path = Path(args.pages)
    if not pages_path.is_file():
        raise NewsauditError(f"{pages_path} does not exist (run `newsaudit ingest` first)")
    model_path = Path(args.model)
    if not model_path.is_file():
        raise NewsauditError(f"{model_path}: no line model (run `newsaudit train-linemodel` first)")
    step = BoilerplateStep(params, load_line_model(model_path))
    out, removed = Path(args.out), Path(args.removed)
    run_step(step, ex, pages_path, out, {"removed_lines": removed}, params.batch_rows, ex.workers.boilerplate)
    small = read_columns(out, STATS_COLUMNS)
    stats = stats_from_files(small, removed, params)
    headline, tables = split_metrics(stats)
    write_json(headline, Path(args.metrics))
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    write_plots(small, stats, Path(args.plots))
    log.info(
        "boilerplate: %d pages, %.1f%% of characters removed, %d error pages",
        stats["n_pages_cleaned"],
        100 * stats["removed_char_share"],
        sum(stats["error_pages_by_kind"].values()),
    )


# The http_status figures exist only for crawls whose pages carry an HTTP status (WARC responses).
HEADLINE = (
    "n_pages_cleaned",
    "removed_char_share",
    "pages_empty_after_cleaning",
    "http_status.error_status_pages",
    "http_status.soft_404_rate",
)
BREAKDOWNS = (
    "removed_frac_per_page",
    "removed_chars_by_reason",
    "removed_lines_by_reason",
    "status_counts",
    "error_pages_by_kind",
    "error_prefixes_by_kind",
    "by_source",
    "top_boilerplate_lines",
    "http_status.by_class",
    "http_status.soft_404_kinds",
)


def split_metrics(stats: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Headline figures (with the error-page totals) and one table per breakdown; any other figure
    of the statistics goes to ``other``."""
    headline = pick(stats, HEADLINE)
    whole, prefixes = stats.get("error_pages_by_kind") or {}, stats.get("error_prefixes_by_kind") or {}
    headline["error_pages"] = int(sum(whole.values()))
    headline["error_prefix_pages"] = int(sum(prefixes.values()))
    lines, chars = stats.get("removed_lines_by_reason") or {}, stats.get("removed_chars_by_reason") or {}
    reasons = list(dict.fromkeys([*lines, *chars]))
    kinds = sorted(set(whole) | set(prefixes))
    by_source = stats.get("by_source") or {}
    tables = {
        "by_reason": pd.DataFrame(
            {
                "reason": reasons,
                "lines": [int(lines.get(r, 0)) for r in reasons],
                "chars": [int(chars.get(r, 0)) for r in reasons],
            }
        ),
        "removed_frac_quantiles": counts(stats.get("removed_frac_per_page"), "quantile", "removed_frac"),
        "status": counts(stats.get("status_counts"), "clean_status", "pages"),
        "error_kinds": pd.DataFrame(
            {
                "kind": kinds,
                "error_pages": [int(whole.get(k, 0)) for k in kinds],
                "error_prefixes": [int(prefixes.get(k, 0)) for k in kinds],
            }
        ),
        "by_source": records(
            [{"source": s, **v} for s, v in by_source.items()], ["source", "pages", "removed_char_share"]
        ),
        "top_lines": records(stats.get("top_boilerplate_lines"), ["line", "pages", "sources", "reason"]),
        "http_status_classes": counts(
            (stats.get("http_status") or {}).get("by_class"), "status_class", "pages"
        ),
        "soft_404_kinds": counts((stats.get("http_status") or {}).get("soft_404_kinds"), "kind", "pages"),
        "other": leftover(stats, HEADLINE + BREAKDOWNS),
    }
    return headline, tables


def write_plots(pages: pd.DataFrame, stats: dict, plots_dir: Path) -> None:
    """Plot data (CSV, for `dvc plots`) and PNG figures of the removed share."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    acc = pages[pages["clean_status"].notna()]
    bins = np.linspace(0, 1, 21)
    counts, _ = np.histogram(acc["boilerplate_frac"].astype(float), bins=bins)
    hist = pd.DataFrame({"removed_frac": np.round(bins[:-1], 2), "pages": counts})
    hist.to_csv(plots_dir / "removed_frac_hist.csv", index=False)
    by_src = pd.DataFrame(
        [{"source": s, **v} for s, v in stats.get("by_source", {}).items()],
        columns=["source", "pages", "removed_char_share"],
    )
    by_src.to_csv(plots_dir / "removed_by_source.csv", index=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(hist["removed_frac"], hist["pages"], width=0.05, align="edge")
    ax.set_xlabel("share of page characters removed")
    ax.set_ylabel("pages")
    fig.tight_layout()
    fig.savefig(plots_dir / "removed_frac_hist.png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    if len(by_src):
        fig, ax = plt.subplots(figsize=(6, max(2.5, 0.25 * len(by_src))))
        ax.barh(by_src["source"], by_src["removed_char_share"])
        ax.set_xlabel("share of characters removed")
        fig.tight_layout()
        fig.savefig(plots_dir / "removed_by_source.png", dpi=100, metadata={"Software": None})
        plt.close(fig)
