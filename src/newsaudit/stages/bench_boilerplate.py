"""Stage ``bench-boilerplate``: score cleaning on the scrapinghub and trafilatura-eval gold.

Reads params sections ``bench_boilerplate`` and ``boilerplate`` (the full boilerplate step is one
of the methods scored); writes ``reports/metrics/bench_boilerplate.json``. The work is
:mod:`newsaudit.benchmarks.extraction`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from newsaudit.benchmarks.extraction import BoilerplateBenchParams, run_benchmark
from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import write_json
from newsaudit.steps.boilerplate.linemodel import load_line_model
from newsaudit.steps.boilerplate.params import BoilerplateParams

NAME = "bench_boilerplate"


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "bench-boilerplate", help="score cleaning on the scrapinghub and trafilatura-eval gold"
    )
    b.add_argument("--external", default=str(paths.EXTERNAL))
    b.add_argument("--model", default=str(paths.LINE_MODEL), help=f"line model (default: {paths.LINE_MODEL})")
    b.add_argument("--oof", default=str(paths.LINEMODEL_OOF))
    b.add_argument("--out", default=str(paths.metrics(NAME)))
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    bench = section(raw, NAME, BoilerplateBenchParams)
    bp = section(raw, "boilerplate", BoilerplateParams)
    model = load_line_model(Path(args.model))
    result = run_benchmark(Path(args.external), model, Path(args.oof), bench, bp)
    write_json(result, Path(args.out))
