"""Stage ``train``: train the calibrated conflict-event classifier.

Reads params sections ``train`` and ``labels`` (the label rules go into the model card), the
labels table and its report; writes the model (skops), the model card and
``reports/metrics/train.json``, all byte-identical on any machine, and the wall-clock time to
``reports/timings/train.json`` (untracked by git and DVC: it varies). The work is
:mod:`newsaudit.training.train`.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import write_json
from newsaudit.steps.classify.model import save_model
from newsaudit.training.labels import LabelsParams
from newsaudit.training.train import TrainParams, model_card, read_labels, train_model

log = logging.getLogger(__name__)

NAME = "train"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the calibrated conflict-event classifier")
    p.add_argument("--labels", default=str(paths.LABELS))
    p.add_argument("--labels-report", default=str(paths.metrics("labels")))
    p.add_argument("--model", default=str(paths.CLASSIFIER))
    p.add_argument("--card", default=str(paths.CLASSIFIER_CARD))
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
    p.add_argument("--timings", default=str(paths.CLASSIFIER_TIMINGS))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    params = section(raw, NAME, TrainParams)
    labels = read_labels(args.labels)
    start = time.perf_counter()
    bundle, summary = train_model(labels, params)
    seconds = time.perf_counter() - start
    save_model(bundle, Path(args.model))
    label_report_path = Path(args.labels_report)
    label_report = None
    if label_report_path.is_file():
        label_report = json.loads(label_report_path.read_text(encoding="utf-8"))
    label_rules = section(raw, "labels", LabelsParams).model_dump(mode="json")
    card = model_card(summary, params, label_rules, label_report)
    Path(args.card).write_text(card, encoding="utf-8")
    write_json(summary, args.metrics)
    write_json({"train_seconds": seconds, "train_rows": summary["train_rows"]}, args.timings, digits=1)
    log.info(
        "train: C=%g threshold=%.4f dev F1=%.4f in %.1fs -> %s",
        summary["selected_C"],
        summary["threshold"],
        summary["dev"]["f1"],
        seconds,
        args.model,
    )
