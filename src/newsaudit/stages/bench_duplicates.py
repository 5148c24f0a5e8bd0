"""Stage ``bench-duplicates``: syndication benchmark, ours vs text-dedup vs exact hash.

Reads params sections ``bench_duplicates`` (the generator) and ``duplicates`` (our method, as the
stage runs it); writes ``reports/metrics/bench_duplicates.json`` (our method's test scores), every
method's scores and the generated corpora in ``reports/tables/bench_duplicates/``, the
recall-vs-edit-rate plot data, and with ``--timing`` a JSON of MinHash implementation timings (not
a DVC metric: it varies run to run). The work is :mod:`newsaudit.benchmarks.syndication`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from newsaudit.benchmarks.syndication import run_benchmark, tune_on_dev
from newsaudit.benchmarks.syndication_corpus import SyndicationParams
from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import leftover, pick, rows, write_json, write_tables
from newsaudit.steps.dedup.step import DuplicatesParams

NAME = "bench_duplicates"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-duplicates", help="syndication benchmark: ours vs text-dedup vs exact hash")
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
    p.add_argument("--tables", default=None, help="score tables (default: beside --metrics)")
    p.add_argument("--curve", default=str(paths.RECALL_VS_EDIT_RATE))
    p.add_argument(
        "--timing",
        default=None,
        help="also time the MinHash implementations and write this JSON (not a DVC metric)",
    )
    p.add_argument(
        "--tune",
        default=None,
        help="only choose duplicates.shingle and threshold on the dev seed; write the grid to this JSON",
    )
    p.set_defaults(func=run)


HEADLINE = ("test.methods.ours.ari", "test.methods.ours.pair_precision", "test.methods.ours.pair_recall")
SPLITS = ("dev", "test")


def split_metrics(report: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Our method's test scores (metrics file); every method's scores and each split's generated
    corpus as tables; the settings and targets go to ``other``."""
    methods, corpora = [], []
    for split in SPLITS:
        part = report.get(split) or {}
        methods.append(rows(part.get("methods"), "method").assign(split=split))
        corpora.append(rows({split: part.get("corpus") or {}}, "split"))
    tables = {
        "methods": pd.concat(methods, ignore_index=True),
        "corpus": pd.concat(corpora, ignore_index=True),
        "other": leftover(report, [f"{s}.{k}" for s in SPLITS for k in ("methods", "corpus")]),
    }
    tables["methods"] = tables["methods"][["split", *[c for c in tables["methods"] if c != "split"]]]
    return pick(report, HEADLINE), tables


def run(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    dup = section(raw, "duplicates", DuplicatesParams)
    bench = section(raw, NAME, SyndicationParams)
    if args.tune is not None:
        tuning = tune_on_dev(bench, dup)
        write_json(tuning, Path(args.tune))
        print(f"chosen on the dev seed: {tuning['chosen']}")
        return
    report, curve, timing = run_benchmark(bench, dup, timing=args.timing is not None)
    headline, tables = split_metrics(report)
    write_json(headline, Path(args.metrics))
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    plot = Path(args.curve)
    plot.parent.mkdir(parents=True, exist_ok=True)
    curve.to_csv(plot, index=False)
    if timing is not None:
        write_json(timing, Path(args.timing))
    test = report["test"]["methods"]
    print(f"{'method':<12} {'ARI':>7} {'pair P':>7} {'pair R':>7}")
    for name, s in test.items():
        print(f"{name:<12} {s['ari']:>7.4f} {s['pair_precision']:>7.4f} {s['pair_recall']:>7.4f}")
