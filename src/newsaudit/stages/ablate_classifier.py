"""``newsaudit ablate-classifier``: the classifier's training choices, one row each (not a DVC stage).

Reads params sections ``labels`` and ``train`` (the shipped recipe every row changes one thing
of), the ConfliBERT data, the leakage pairs, the web pool and the
web-news dev set; writes ``reports/metrics/classifier_ablation.json`` (committed: about an hour on
two cores, too slow for every ``dvc repro``) and the timings to ``reports/timings/``. The work is
:mod:`newsaudit.training.ablation`.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import write_json
from newsaudit.datasets import conflibert
from newsaudit.training.ablation import markdown_table, run_ablation
from newsaudit.training.labels import LabelsParams, load_web_pool, read_pairs
from newsaudit.training.train import TrainParams
from newsaudit.training.webnews import read_devset

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ablate-classifier", help="the classifier's training choices judged by transfer")
    p.add_argument("--out", default=str(paths.CLASSIFIER_ABLATION))
    p.add_argument("--timings", default=str(paths.TIMINGS / "classifier_ablation.json"))
    p.add_argument("--only", nargs="*", default=None, help="row names to run (the shipped row always runs)")
    p.add_argument("--tolerance", type=float, default=0.005, help="smallest difference a verdict counts")
    p.add_argument(
        "--resume", action="store_true", help="keep the rows already in --out (same shipped parameters)"
    )
    p.add_argument(
        "--markdown", action="store_true", help="print the table of the rows in --out as Markdown and stop"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    if args.markdown:
        if not Path(args.out).is_file():
            raise NewsauditError(f"{args.out}: no ablation results yet (run `newsaudit ablate-classifier`)")
        print(markdown_table(json.loads(Path(args.out).read_text(encoding="utf-8")), args.tolerance))
        return
    raw = load_params(args.params)
    label_params = section(raw, "labels", LabelsParams)
    shipped = section(raw, "train", TrainParams)
    frames = conflibert.read_all(label_params.conflibert_root, tuple(sorted(label_params.datasets)))
    pairs = read_pairs(Path(label_params.leakage_pairs))
    pool, _ = load_web_pool(label_params.web_pool) if label_params.web_pool else (None, None)
    dev = read_devset(paths.WEBNEWS_DEV, paths.EXTERNAL)
    out = Path(args.out)
    shipped_json = shipped.model_dump(mode="json")
    done = None
    if args.resume and out.is_file():
        before = json.loads(out.read_text(encoding="utf-8"))
        if before.get("shipped_params") == json.loads(json.dumps(shipped_json)):
            done = {k: v for k, v in before["rows"].items()}
            log.info("ablation: resuming with %d rows from %s", len(done), out)

    def save(rows: dict, tolerance: float = args.tolerance) -> None:
        partial = {"rows": rows, "tolerance": tolerance, "shipped_params": shipped_json, "complete": False}
        write_json({**partial, "command": "newsaudit ablate-classifier"}, out, digits=4)

    results, seconds = run_ablation(
        frames,
        pairs,
        pool,
        dev,
        label_params,
        shipped,
        tolerance=args.tolerance,
        only=args.only,
        done=done,
        on_row=save,
    )
    results.update(shipped_params=shipped_json, command="newsaudit ablate-classifier", complete=True)
    write_json(results, out, digits=4)
    write_json(seconds, args.timings, digits=1)
    log.info("ablation: %d rows -> %s", len(results["rows"]), args.out)
