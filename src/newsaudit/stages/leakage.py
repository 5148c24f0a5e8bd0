"""Stage ``leakage``: duplicates within and across train/dev/test of the labelled data.

Reads params section ``leakage``; writes the duplicate pairs (``data/interim/leakage_pairs.parquet``,
read by ``labels`` and ``conflibert-benchmark``), ``reports/metrics/leakage.json`` (totals over the
datasets) and the per-dataset counts and example pairs in ``reports/tables/leakage/``. The work is
:mod:`newsaudit.training.leakage`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import leftover, records, rows, write_json, write_tables
from newsaudit.training.leakage import LeakageParams, run_leakage

log = logging.getLogger(__name__)

NAME = "leakage"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leakage", help="duplicates within and across train/dev/test of the labelled data")
    p.add_argument("--pairs", default=str(paths.LEAKAGE_PAIRS))
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
    p.add_argument("--tables", default=None, help="breakdown tables (default: beside --metrics)")
    p.set_defaults(func=run)


# The totals in the metrics file: texts (or rows) found on both sides of a split, summed over the
# datasets, for the widest duplicate kind (the last of each dataset's kinds, e.g. exact+normalized+near).
TOTALS = ("train_texts_in_dev_or_test", "texts_in_more_than_one_split")


def split_metrics(report: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Totals over the datasets (metrics file), a row per dataset and the example pairs (tables)."""
    datasets = report.get("datasets") or {}
    headline: dict = {}
    for name in TOTALS:
        by_kind = [d[name] for d in datasets.values() if isinstance(d.get(name), dict) and d[name]]
        if by_kind:
            headline[name] = int(sum(list(kinds.values())[-1] for kinds in by_kind))
    examples = [
        records(d.get("examples"), ["kind", "a", "b", "similarity", "text_a", "text_b"], dataset=name)
        for name, d in datasets.items()
    ]
    tables = {
        "datasets": rows(
            {k: {n: v for n, v in d.items() if n != "examples"} for k, d in datasets.items()}, "dataset"
        ),
        "examples": pd.concat(examples, ignore_index=True) if examples else records([], ["dataset"]),
        "other": leftover(report, ("datasets",)),
    }
    return headline, tables


def run(args: argparse.Namespace) -> None:
    params = section(load_params(args.params), NAME, LeakageParams)
    pairs, report = run_leakage(params)
    dst = Path(args.pairs)
    dst.parent.mkdir(parents=True, exist_ok=True)
    pairs.to_parquet(dst, index=False)
    headline, tables = split_metrics(report)
    write_json(headline, Path(args.metrics))
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    for d, r in report["datasets"].items():
        log.info("leakage %s: train texts reappearing in dev/test %s", d, r["train_texts_in_dev_or_test"])
