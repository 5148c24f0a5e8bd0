"""Stage ``leakage``: duplicates within and across train/dev/test of the labelled data.

Reads params section ``leakage``; writes the duplicate pairs (``data/interim/leakage_pairs.parquet``,
read by ``labels`` and ``conflibert-benchmark``) and ``reports/metrics/leakage.json``. The work is
:mod:`newsaudit.training.leakage`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import write_json
from newsaudit.training.leakage import LeakageParams, run_leakage

log = logging.getLogger(__name__)

NAME = "leakage"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leakage", help="duplicates within and across train/dev/test of the labelled data")
    p.add_argument("--pairs", default=str(paths.LEAKAGE_PAIRS))
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    params = section(load_params(args.params), NAME, LeakageParams)
    pairs, report = run_leakage(params)
    dst = Path(args.pairs)
    dst.parent.mkdir(parents=True, exist_ok=True)
    pairs.to_parquet(dst, index=False)
    write_json(report, Path(args.metrics))
    for d, r in report["datasets"].items():
        log.info("leakage %s: train texts reappearing in dev/test %s", d, r["train_texts_in_dev_or_test"])
