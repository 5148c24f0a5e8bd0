"""Stage ``bench-boilerplate``: score cleaning on the scrapinghub and trafilatura-eval gold.

Reads params sections ``bench_boilerplate`` and ``boilerplate`` (the full boilerplate step is one
of the methods scored); writes ``reports/metrics/bench_boilerplate.json`` (the headline F1 scores)
and every method's scores per benchmark in ``reports/tables/bench_boilerplate/``. The work is
:mod:`newsaudit.benchmarks.extraction`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from newsaudit.benchmarks.extraction import BoilerplateBenchParams, run_benchmark
from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import leftover, records, write_json, write_tables
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
    b.add_argument("--tables", default=None, help="score tables (default: beside --out)")
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    bench = section(raw, NAME, BoilerplateBenchParams)
    bp = section(raw, "boilerplate", BoilerplateParams)
    model = load_line_model(Path(args.model))
    result = run_benchmark(Path(args.external), model, Path(args.oof), bench, bp)
    headline, tables = split_metrics(result)
    write_json(headline, Path(args.out))
    write_tables(tables, Path(args.tables or paths.tables_beside(args.out)))


# The headline F1 scores: (benchmark, method, input or None) -> metric name.
HEADLINE = {
    ("scrapinghub", "newsaudit boilerplate stage", "newsaudit html_to_text"): "boilerplate_stage_f1",
    ("scrapinghub", "newsaudit HTML mode (trafilatura)", None): "html_mode_f1",
    ("trafilatura_eval", "newsaudit line model (out-of-fold)", None): "line_model_oof_f1",
}


def split_metrics(result: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The headline F1 scores (metrics file) and every benchmark's score list as a table."""
    headline: dict = {}
    for (bench, method, inp), name in HEADLINE.items():
        for row in result.get(bench) or []:
            if row.get("method") == method and (inp is None or row.get("input") == inp):
                headline.setdefault(bench, {})[name] = row.get("f1")
                break
    lists = [k for k, v in result.items() if isinstance(v, list)]
    tables = {k: records(result[k], ["method"]) for k in lists}
    tables["other"] = leftover(result, lists)
    return headline, tables
