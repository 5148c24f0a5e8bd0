"""Stage ``train``: train the calibrated conflict-event classifier.

Reads params sections ``train`` and ``labels`` (the label rules go into the model card), the
labels table and its report; writes the model (skops), the model card (byte-identical on any
machine), ``reports/metrics/train.json`` (headline figures), the dev scores, model selection and
threshold candidates in ``reports/tables/train/``, and the wall-clock time to
``reports/timings/train.json`` (untracked by git and DVC: it varies). The work is
:mod:`newsaudit.training.train`.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import counts, leftover, pick, read_key_values, rows, write_json, write_tables
from newsaudit.steps.classify.model import save_model
from newsaudit.training.labels import LabelsParams
from newsaudit.training.train import TrainParams, model_card, read_labels, train_model

log = logging.getLogger(__name__)

NAME = "train"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the calibrated conflict-event classifier")
    p.add_argument("--labels", default=str(paths.LABELS))
    p.add_argument(
        "--labels-report",
        default=str(paths.metrics("labels")),
        help="the labels stage's metrics; its leakage table goes into the model card",
    )
    p.add_argument("--model", default=str(paths.CLASSIFIER))
    p.add_argument("--card", default=str(paths.CLASSIFIER_CARD))
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
    p.add_argument("--timings", default=str(paths.CLASSIFIER_TIMINGS))
    p.add_argument("--tables", default=None, help="breakdown tables (default: beside --metrics)")
    p.set_defaults(func=run)


HEADLINE = ("selected_C", "threshold", "dev.f1", "dev.pr_auc", "vocabulary_size")


def split_metrics(summary: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Headline figures (metrics file); the dev scores at each threshold, the model selection and
    the threshold candidates as tables; any other figure goes to ``other``."""
    dev = {k: v for k, v in summary.items() if k.startswith("dev") and isinstance(v, dict)}
    tables = {
        "dev": rows(dev, "scored_as"),
        "selection_scores": counts(summary.get("selection_scores"), "C", "score"),
        "threshold_candidates": counts(summary.get("threshold_candidates"), "candidate", "value"),
        "other": leftover(summary, (*HEADLINE, *dev, "selection_scores", "threshold_candidates")),
    }
    return pick(summary, HEADLINE), tables


def run(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    params = section(raw, NAME, TrainParams)
    labels = read_labels(args.labels)
    start = time.perf_counter()
    bundle, summary = train_model(labels, params)
    seconds = time.perf_counter() - start
    save_model(bundle, Path(args.model))
    leakage = paths.tables_beside(args.labels_report) / "leakage.csv"
    label_report = {"leakage": read_key_values(leakage)} if leakage.is_file() else None
    label_rules = section(raw, "labels", LabelsParams).model_dump(mode="json")
    card = model_card(summary, params, label_rules, label_report)
    Path(args.card).write_text(card, encoding="utf-8")
    headline, tables = split_metrics(summary)
    write_json(headline, args.metrics)
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    write_json({"train_seconds": seconds, "train_rows": summary["train_rows"]}, args.timings, digits=1)
    log.info(
        "train: C=%g threshold=%.4f dev F1=%.4f in %.1fs -> %s",
        summary["selected_C"],
        summary["threshold"],
        summary["dev"]["f1"],
        seconds,
        args.model,
    )
