"""``newsaudit classify``: flag conflict-event pages in the pipeline's deduplicated pages table.

Reads ``data/interim/pages_dedup.parquet`` and the classifier; writes ``data/processed/pages.parquet``
(every column so far plus ``conflict_prob``, ``conflict_label``, ``classified``,
``unclassified_reason``, ``conflict_terms``, ``cluster_size``), ``data/processed/predictions.parquet``
(the same without text), ``reports/metrics/classify.json`` (the corpus-wide counts) and the counts
by source and by language in ``reports/tables/classify/``. ``newsaudit predict INPUT`` scores texts
outside the pipeline.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from newsaudit.core import paths
from newsaudit.core.config import ParamsError, execution, load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import counts, leftover, pick, rows, write_json, write_tables
from newsaudit.engines.dispatch import run_step
from newsaudit.steps.classify.model import load_model
from newsaudit.steps.classify.score import PREDICTION_COLUMNS, ClassifyParams
from newsaudit.steps.classify.stats import corpus_stats
from newsaudit.steps.classify.step import ClassifyStep

log = logging.getLogger(__name__)


def classify_params(raw: dict) -> ClassifyParams:
    """The ``classify`` section; ``predict`` (its name before the stages were renamed) still works."""
    if "classify" not in raw and "predict" in raw:
        log.warning("params.yaml: section 'predict' is deprecated, rename it to 'classify'")
        return section(raw, "predict", ClassifyParams)
    if "classify" in raw and "predict" in raw:
        raise ParamsError(
            "params.yaml: both 'classify' and its old name 'predict' are present: keep 'classify'"
        )
    return section(raw, "classify", ClassifyParams)


def register(sub) -> None:
    p = sub.add_parser("classify", help="flag conflict-event pages of the pipeline's pages table")
    p.add_argument("--pages", default=str(paths.PAGES_DEDUP))
    p.add_argument("--out", default=str(paths.PAGES_FINAL))
    p.add_argument("--predictions", default=str(paths.PREDICTIONS))
    p.add_argument("--metrics", default=str(paths.metrics("classify")))
    p.add_argument("--tables", default=None, help="breakdown tables (default: beside --metrics)")
    p.add_argument("--model", default=str(paths.CLASSIFIER))
    p.add_argument("--engine", default=None, help="memory, stream or dask (default: execution.engine)")
    p.set_defaults(func=run)


def run(args) -> None:
    raw = load_params(args.params)
    params = classify_params(raw)
    ex = execution(raw, args.engine)
    bundle = load_model(args.model)
    pages_path = Path(args.pages)
    if not pages_path.is_file():
        raise NewsauditError(f"{pages_path}: pages table not found (run the duplicates stage first)")
    names = pq.read_schema(pages_path).names
    if params.text_column not in names:
        raise NewsauditError(f"{pages_path}: no '{params.text_column}' column (params classify.text_column)")
    step = ClassifyStep(params, bundle, with_clusters="near_dup_cluster" in names)
    out = Path(args.out)
    run_step(step, ex, pages_path, out, {}, params.batch_size, ex.workers.classify)
    small = prediction_table(out)
    predictions = Path(args.predictions)
    predictions.parent.mkdir(parents=True, exist_ok=True)
    tmp = predictions.with_name(predictions.name + ".partial")
    small.to_parquet(tmp, index=False)
    tmp.replace(predictions)
    stats = corpus_stats(small)
    headline, tables = split_metrics(stats)
    write_json(headline, Path(args.metrics))
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    o = stats["overall"]
    log.info(
        "classify: %d pages, %d classified, %d conflict events -> %s",
        o["pages"],
        o["classified"],
        o["conflict_events"],
        out,
    )


HEADLINE = (
    "overall.classified",
    "overall.conflict_events",
    "overall.share_conflict",
    "overall.share_conflict_cluster_weighted",
)


def split_metrics(stats: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The corpus-wide counts (metrics file) and a row per source and per language (tables)."""
    tables = {
        "unclassified": counts((stats.get("overall") or {}).get("unclassified"), "reason", "pages"),
        "other": leftover(stats, (*HEADLINE, "overall.unclassified", "by_source", "by_language")),
    }
    for col in ("source", "language"):
        frame = rows(stats.get(f"by_{col}"), col)
        # a reason absent from a group's counts is zero pages, not unknown
        why = [c for c in frame.columns if c.startswith("unclassified.")]
        frame[why] = frame[why].fillna(0).astype("int64")
        tables[f"by_{col}"] = frame
    return pick(stats, HEADLINE), tables


def prediction_table(pages_path: Path) -> pd.DataFrame:
    """The predictions table (no text) from the written pages table."""
    names = pq.read_schema(pages_path).names
    return pd.read_parquet(pages_path, columns=[c for c in PREDICTION_COLUMNS if c in names])
