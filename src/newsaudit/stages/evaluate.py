"""Stage ``evaluate``: the conflict-event classifier on the held-out test split.

Reads params sections ``evaluate`` and ``train`` (leave-one-source-out refits use the training
settings), the labels and the model; writes ``reports/metrics/classifier.json`` and the curves
(ROC, precision-recall, calibration, confusion) as DVC plot data. The work is
:mod:`newsaudit.training.evaluate`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import write_json
from newsaudit.steps.classify.model import load_model
from newsaudit.training.evaluate import EvaluateParams, evaluate
from newsaudit.training.train import TrainParams, read_labels

log = logging.getLogger(__name__)

NAME = "evaluate"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evaluate the conflict-event classifier on the test split")
    p.add_argument("--labels", default=str(paths.LABELS))
    p.add_argument("--model", default=str(paths.CLASSIFIER))
    # classifier.json, not evaluate.json: other documents name the file
    p.add_argument("--metrics", default=str(paths.metrics("classifier")))
    p.add_argument("--plots", default=str(paths.CLASSIFIER_PLOTS))
    p.set_defaults(func=run)


def write_plots(plots: dict[str, pd.DataFrame], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in plots.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


def run(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    params = section(raw, NAME, EvaluateParams)
    train_params = section(raw, "train", TrainParams)
    labels = read_labels(args.labels)
    bundle = load_model(args.model)
    metrics, plots = evaluate(labels, bundle, train_params, params)
    write_json(metrics, args.metrics)
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
