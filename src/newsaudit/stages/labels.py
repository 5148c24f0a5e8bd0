"""Stage ``labels``: derive the binary ``conflict_event`` training set.

Reads params section ``labels``, the ConfliBERT data, the leakage pairs and (``labels.web_pool``)
the benchmarks' gold texts minus the web-news dev set; writes
``data/processed/labels.parquet`` and ``reports/metrics/labels.json``. The work is
:mod:`newsaudit.training.labels`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import write_json
from newsaudit.datasets import conflibert
from newsaudit.training.labels import LabelsParams, build_labels, load_web_pool, read_pairs

log = logging.getLogger(__name__)

NAME = "labels"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("labels", help="derive the binary conflict_event training set")
    p.add_argument("--pairs", default=None, help="leakage pairs (default: labels.leakage_pairs)")
    p.add_argument("--out", default=str(paths.LABELS))
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
    p.set_defaults(func=run)


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
    write_json(report, args.metrics)
    log.info(
        "labels: %d rows (%d positive) -> %s; %d duplicate groups straddled splits",
        report["rows"],
        report["positives"],
        out,
        report["leakage"]["groups_straddling_splits"],
    )
