"""Stage ``labels``: derive the binary ``conflict_event`` training set.

Reads params section ``labels``, the ConfliBERT data, the leakage pairs and (``labels.web_pool``)
the benchmarks' gold texts minus the web-news dev set; writes ``data/processed/labels.parquet``,
``reports/metrics/labels.json`` (headline counts) and the counts by source and split in
``reports/tables/labels/``. The work is
:mod:`newsaudit.training.labels`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import leftover, pick, write_json, write_tables
from newsaudit.datasets import conflibert
from newsaudit.training.labels import LabelsParams, build_labels, load_web_pool, read_pairs

log = logging.getLogger(__name__)

NAME = "labels"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("labels", help="derive the binary conflict_event training set")
    p.add_argument("--pairs", default=None, help="leakage pairs (default: labels.leakage_pairs)")
    p.add_argument("--out", default=str(paths.LABELS))
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
    p.add_argument("--tables", default=None, help="breakdown tables (default: beside --metrics)")
    p.set_defaults(func=run)


HEADLINE = ("rows", "positives", "leakage.groups_straddling_splits")


def _by_source_split(data: dict | None, value: str) -> pd.DataFrame:
    """``{source: {split: {outcome: n}}}`` as rows (source, split, outcome, ``value``)."""
    out = [
        (src, split, outcome, n)
        for src, splits in (data or {}).items()
        for split, by in splits.items()
        for outcome, n in by.items()
    ]
    return pd.DataFrame(out, columns=["source", "split", "outcome", value])


def split_metrics(report: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Headline counts (metrics file); the counts by source and split as tables, and the leakage
    handling as key/value rows (``leakage.csv``, which ``train`` puts in the model card)."""
    tables = {
        "by_source_split": _by_source_split(report.get("by_source_split"), "rows"),
        "rule_outcome_by_source_split": _by_source_split(report.get("rule_outcome_by_source_split"), "rows"),
        "leakage": leftover(report.get("leakage") or {}, ()),
        "other": leftover(report, (*HEADLINE, "by_source_split", "rule_outcome_by_source_split", "leakage")),
    }
    return pick(report, HEADLINE), tables


def run(args: argparse.Namespace) -> None:
    params = section(load_params(args.params), NAME, LabelsParams)
    frames = conflibert.read_all(params.conflibert_root, tuple(sorted(params.datasets)))
    pairs = read_pairs(Path(args.pairs or params.leakage_pairs))
    pool, pool_report = load_web_pool(params.web_pool) if params.web_pool else (None, None)
    labelled, report = build_labels(frames, pairs, params, pool)
    if pool_report is not None:
        report["web_pool_reading"] = pool_report
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    labelled.to_parquet(out, index=False)
    headline, tables = split_metrics(report)
    write_json(headline, args.metrics)
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    log.info(
        "labels: %d rows (%d positive) -> %s; %d duplicate groups straddled splits",
        report["rows"],
        report["positives"],
        out,
        report["leakage"]["groups_straddling_splits"],
    )
