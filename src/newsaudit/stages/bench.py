"""``newsaudit bench`` (not a DVC stage: its timings vary run to run): the per-page stages at scale.

Reads params sections ``bench``, ``bench_duplicates`` (the text generator), ``duplicates`` and
``execution`` (our MinHash threads in the comparison), and hands the whole parameter document to
the audit it runs; writes ``reports/metrics/benchmark.json`` (the report shows it) and prints a
summary. The work is :mod:`newsaudit.benchmarks.scale.run`. A 1M-page run takes hours: each
finished part is saved in ``bench.folder/benchmark.partial.json`` as it ends, and ``--resume``
starts a killed run where it stopped (the file goes once the results are written).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from newsaudit.benchmarks.scale.run import BenchParams, print_summary, run_benchmark
from newsaudit.benchmarks.syndication_corpus import SyndicationParams
from newsaudit.core import paths
from newsaudit.core.config import execution, load_params, section
from newsaudit.core.io import write_json
from newsaudit.steps.dedup.params import DuplicatesParams

log = logging.getLogger(__name__)

# The metrics file keeps its name (the report and dvc.yaml's report stage read it).
OUT = paths.metrics("benchmark")
CHECKPOINT_NAME = "benchmark.partial.json"  # in bench.folder: each finished part as it ends


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="throughput, memory and near-duplicate quality of the per-page stages on generated corpora",
    )
    p.add_argument(
        "--pages",
        type=int,
        nargs="+",
        default=None,
        help="corpus sizes (default: bench.sizes; 1000000 for 1M)",
    )
    p.add_argument(
        "--ten-million",
        action="store_true",
        help="the 10M-page run (about 37 GB of generated JSONL and ~9 h here; never in CI): "
        "--pages 10000000 --no-compare",
    )
    p.add_argument(
        "--warc",
        type=int,
        default=None,
        metavar="PAGES",
        help="pages of the WARC row (one generated crawl.warc.gz audited; default: "
        "bench.warc_pages; 0: none)",
    )
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the sizes (and comparison, WARC row) a killed run finished, saved in "
        "BENCH_FOLDER/benchmark.partial.json, and resume its unfinished audit after the last finished "
        "step; parts measured with other params or code run again",
    )
    p.add_argument("--no-compare", action="store_true", help="skip the datasketch/rensa/datatrove comparison")
    p.add_argument(
        "--engine",
        nargs="+",
        choices=("local", "dask"),
        default=["local"],
        help="engines to run on the same pages (default: local; `--engine local dask` compares both)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    bench = section(params, "bench", BenchParams)
    syn = section(params, "bench_duplicates", SyndicationParams)
    dup = section(params, "duplicates", DuplicatesParams)
    workers = execution(params).workers.duplicates
    sizes = [10_000_000] if args.ten_million else (args.pages or bench.sizes)
    checkpoint = Path(bench.folder) / CHECKPOINT_NAME
    report = run_benchmark(
        params,
        bench,
        syn,
        dup,
        sizes,
        compare=not (args.no_compare or args.ten_million),
        engines=tuple(args.engine),
        workers=workers,
        warc_pages=0 if args.ten_million else (bench.warc_pages if args.warc is None else args.warc),
        checkpoint=checkpoint,
        resume=args.resume,
    )
    write_json(report, args.out)
    checkpoint.unlink(missing_ok=True)  # complete: the next run measures afresh unless resumed
    log.info("bench: results -> %s", args.out)
    print_summary(report)
