"""Stage ``train-linemodel``: train the boilerplate line model on gold-aligned pages.

Reads params section ``train_linemodel``; writes the model (skops), its card
(``models/line_model.json``, every cross-validation figure), the headline figures of that card
(``reports/metrics/train_linemodel.json``, the DVC metrics) and the out-of-fold clean text of every
training page, which ``bench-boilerplate`` scores the training sources with. The work is
:mod:`newsaudit.training.linemodel`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import pick, write_json
from newsaudit.steps.boilerplate.linemodel import save_line_model
from newsaudit.training.linemodel import LineModelParams, card_text, train_from_gold

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train-linemodel", help="train the boilerplate line model on gold-aligned pages")
    t.add_argument("--external", default=str(paths.EXTERNAL))
    t.add_argument("--model", default=str(paths.LINE_MODEL))
    t.add_argument("--card", default=str(paths.LINE_MODEL_CARD))
    t.add_argument("--metrics", default=str(paths.metrics("train_linemodel")))
    t.add_argument(
        "--oof",
        default=str(paths.LINEMODEL_OOF),
        help="out-of-fold clean text of the training pages (for the benchmark)",
    )
    t.set_defaults(func=run)


def headline(card: dict) -> dict:
    """The card's cross-validated figures a reader compares across versions (the DVC metrics)."""
    sources = ((card.get("cv") or {}).get("cv_shingle_scores") or {}).keys()
    keys = ["cv.threshold", "cv.stage2+run_weighted_line_accuracy"]
    keys += [f"cv.cv_shingle_scores.{s}.stage2+run.f1" for s in sorted(sources)]
    return pick(card, keys)


def run(args: argparse.Namespace) -> None:
    params = section(load_params(args.params), "train_linemodel", LineModelParams)
    model_path, card_path, oof_path = Path(args.model), Path(args.card), Path(args.oof)
    trained = train_from_gold(Path(args.external), params)
    save_line_model(trained.model, model_path)
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(card_text(trained.card), encoding="utf-8")
    write_json(headline(trained.card), Path(args.metrics))
    oof_path.parent.mkdir(parents=True, exist_ok=True)
    trained.oof.to_parquet(oof_path, index=False)
    log.info(
        "line model -> %s (CV threshold %.3f); card -> %s", model_path, trained.model.threshold, card_path
    )
