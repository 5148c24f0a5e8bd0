"""Stage ``bench-duplicates``: syndication benchmark, ours vs text-dedup vs exact hash.

Reads params sections ``bench_duplicates`` (the generator) and ``duplicates`` (our method, as the
stage runs it); writes ``reports/metrics/bench_duplicates.json`` and the recall-vs-edit-rate plot
data, and with ``--timing`` a JSON of MinHash implementation timings (not a DVC metric: it varies
run to run). The work is :mod:`newsaudit.benchmarks.syndication`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from newsaudit.benchmarks.syndication import run_benchmark, tune_on_dev
from newsaudit.benchmarks.syndication_corpus import SyndicationParams
from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.io import write_json
from newsaudit.steps.dedup.step import DuplicatesParams

NAME = "bench_duplicates"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-duplicates", help="syndication benchmark: ours vs text-dedup vs exact hash")
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
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
    write_json(report, Path(args.metrics))
    plot = Path(args.curve)
    plot.parent.mkdir(parents=True, exist_ok=True)
    curve.to_csv(plot, index=False)
    if timing is not None:
        write_json(timing, Path(args.timing))
    test = report["test"]["methods"]
    print(f"{'method':<12} {'ARI':>7} {'pair P':>7} {'pair R':>7}")
    for name, s in test.items():
        print(f"{name:<12} {s['ari']:>7.4f} {s['pair_precision']:>7.4f} {s['pair_recall']:>7.4f}")
