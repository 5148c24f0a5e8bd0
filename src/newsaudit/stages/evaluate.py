"""Stage ``evaluate``: the conflict-event classifier on sources it has never seen, then in-domain.

Reads params sections ``evaluate`` and ``train`` (leave-one-source-out reruns the training recipe),
the labels, the model and the hand-labelled web-news dev set with its texts; writes
``reports/metrics/classifier.json`` (headline numbers), the breakdowns in
``reports/tables/classifier/`` and CSV curves under ``reports/plots/classifier/`` (ROC,
precision-recall, calibration, confusion, the threshold curve). The work is
:mod:`newsaudit.training.evaluate`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import leftover, pick, records, rows, write_json, write_tables
from newsaudit.steps.classify.model import load_model
from newsaudit.training.evaluate import EvaluateParams, evaluate
from newsaudit.training.train import TrainParams, read_labels
from newsaudit.training.webnews import read_devset

log = logging.getLogger(__name__)

NAME = "evaluate"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evaluate the conflict-event classifier on the test split")
    p.add_argument("--labels", default=str(paths.LABELS))
    p.add_argument("--model", default=str(paths.CLASSIFIER))
    # classifier.json, not evaluate.json: other documents name the file
    p.add_argument("--metrics", default=str(paths.metrics("classifier")))
    p.add_argument("--plots", default=str(paths.CLASSIFIER_PLOTS))
    p.add_argument(
        "--webnews-dev", default=str(paths.WEBNEWS_DEV), help="hand labels of the web-news dev set"
    )
    p.add_argument("--external", default=str(paths.EXTERNAL), help="fetched datasets (the dev set's texts)")
    p.add_argument("--tables", default=None, help="breakdown tables (default: beside --metrics)")
    p.set_defaults(func=run)


def write_plots(plots: dict[str, pd.DataFrame], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in plots.items():
        tmp = folder / f".{name}.csv.partial"
        frame.to_csv(tmp, index=False, lineterminator="\n")
        tmp.replace(folder / f"{name}.csv")


HEADLINE = (
    "test.f1",
    "test.precision",
    "test.recall",
    "test.roc_auc",
    "test.pr_auc",
    "test.brier",
    "threshold",
    # transfer first: each source scored by a model that never saw it, and the web-news dev set
    *(
        f"leave_one_source_out.per_source.{source}.{m}"
        for source in ("satp_all", "IndiaPoliceEvents_docs", "insightCrime")
        for m in ("pr_auc", "f1")
    ),
    "leave_one_source_out.per_source.BBC_News.false_positive_rate",
    "webnews_dev.false_positive_rate",
    "webnews_dev.shipped_model.false_positive_rate",
)


def split_metrics(metrics: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Headline test scores (metrics file) and the breakdowns as tables; any other figure (the
    rest of the test scores, the threshold) goes to ``other``."""
    loso = metrics.get("leave_one_source_out") or {}
    errors = metrics.get("errors") or {}
    terms = metrics.get("top_terms") or {}
    tables = {
        "per_source": rows(metrics.get("per_source"), "source"),
        "leave_one_source_out": rows(loso.get("per_source"), "source"),
        "errors": pd.concat(
            [records(errors.get(kind), kind=kind) for kind in sorted(errors)] or [records([], ["kind"])],
            ignore_index=True,
        ),
        "top_terms": pd.DataFrame(
            [(side, str(t[0]), t[1]) for side in sorted(terms) for t in terms[side]],
            columns=["class", "term", "weight"],
        ),
        "targets": rows(metrics.get("targets"), "metric"),  # each row has a "target" bound
        "other": leftover(
            metrics,
            (*HEADLINE, "per_source", "leave_one_source_out.per_source", "errors", "top_terms", "targets"),
        ),
    }
    return pick(metrics, HEADLINE), tables


def run(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    params = section(raw, NAME, EvaluateParams)
    train_params = section(raw, "train", TrainParams)
    labels = read_labels(args.labels)
    bundle = load_model(args.model)
    dev = read_devset(args.webnews_dev, args.external) if params.webnews_dev else None
    metrics, plots = evaluate(labels, bundle, train_params, params, dev)
    headline, tables = split_metrics(metrics)
    write_json(headline, args.metrics)
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    write_plots(plots, Path(args.plots))
    t = metrics["test"]
    log.info(
        "evaluate: test P=%.3f R=%.3f F1=%.3f ROC-AUC=%.3f PR-AUC=%.3f Brier=%.4f -> %s",
        t["precision"],
        t["recall"],
        t["f1"],
        t["roc_auc"],
        t["pr_auc"],
        t["brier"],
        args.metrics,
    )
    for name, t in metrics["targets"].items():
        log.info(
            "target %s: %s %s, measured %s (%s)",
            name,
            t["kind"],
            t["target"],
            t["value"],
            "met" if t["met"] else "NOT met",
        )
