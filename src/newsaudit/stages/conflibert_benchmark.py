"""Stage ``conflibert-benchmark``: TF-IDF baselines on ConfliBERT's own tasks, next to the paper.

Reads params section ``conflibert_benchmark``, the ConfliBERT data and the leakage pairs; writes
``reports/metrics/conflibert_benchmark.json`` (our F1 per dataset on the deduplicated test split),
the per-dataset details and the comparison records in ``reports/tables/conflibert_benchmark/``,
the comparison plot data and the timings (a separate
file, not a DVC metric: they vary run to run). The work is :mod:`newsaudit.benchmarks.conflibert`.

With ``--variants`` it instead runs what the comparison had not tried (NB-SVM, a word/char
ensemble, classifier chains, label powerset, passage pooling; :mod:`newsaudit.benchmarks.conflibert_variants`)
against the benchmark's results in ``--metrics`` and writes ``reports/metrics/conflibert_variants.json``
(committed; too slow for every ``dvc repro``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd

from newsaudit.benchmarks.conflibert import BenchmarkParams, comparison_plot, run_benchmark
from newsaudit.benchmarks.conflibert_variants import VARIANTS, run_variants
from newsaudit.core import paths
from newsaudit.core.config import load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import leftover, records, rows, write_json, write_tables
from newsaudit.datasets import conflibert
from newsaudit.training.labels import read_pairs
from newsaudit.training.train import one_thread

NAME = "conflibert_benchmark"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("conflibert-benchmark", help="TF-IDF baselines, ConfliBERT tasks")
    p.add_argument("--pairs", default=None, help="leakage pairs (default: params conflibert_benchmark)")
    p.add_argument("--metrics", default=str(paths.metrics(NAME)))
    p.add_argument("--tables", default=None, help="detail tables (default: beside --metrics)")
    p.add_argument("--plot", default=str(paths.CONFLIBERT_PLOT))
    p.add_argument("--timings", default=str(paths.CONFLIBERT_TIMINGS))
    p.add_argument(
        "--variants", nargs="*", default=None, choices=VARIANTS, help="run these variants (none named: all)"
    )
    p.add_argument("--variants-out", default=str(paths.CONFLIBERT_VARIANTS))
    p.set_defaults(func=run)


def split_metrics(out: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Our F1 per dataset on the deduplicated test split (metrics file); the per-dataset details,
    the targets and the comparison records as tables."""
    datasets = out.get("datasets") or {}
    headline = {
        "f1_test_deduplicated": {
            name: d["test_deduplicated"]["f1"]
            for name, d in datasets.items()
            if isinstance((d.get("test_deduplicated") or {}).get("f1"), (int, float))
        }
    }
    tables = {
        "datasets": rows(datasets, "dataset"),
        "targets": rows(out.get("targets"), "dataset"),
        "records": records(out.get("records"), ["dataset", "model", "f1"]),
        "other": leftover(out, ("datasets", "targets", "records")),
    }
    return headline, tables


def read_baseline(path: Path) -> dict[str, Any]:
    """The benchmark's per-dataset results back from its ``datasets`` table (the metrics file holds
    only the headline F1): ``{"datasets": {name: nested dict}}``, the shape the variants compare with."""
    if not path.is_file():
        raise NewsauditError(f"{path}: run `newsaudit conflibert-benchmark` first (variants compare with it)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "dataset" not in frame.columns:
        raise NewsauditError(f"{path}: no `dataset` column; rerun `newsaudit conflibert-benchmark`")
    datasets: dict[str, Any] = {}
    for row in frame.to_dict(orient="records"):
        entry: dict[str, Any] = {}
        for column, text in row.items():
            if column == "dataset" or text == "":  # empty: a label this dataset does not have
                continue
            *parents, last = column.split(".")
            node = entry
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = json.loads(text) if text[0] in '[{"' else _number(text)
        datasets[row["dataset"]] = entry
    return {"datasets": datasets}


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def run(args: argparse.Namespace) -> None:
    params = section(load_params(args.params), NAME, BenchmarkParams)
    pairs = read_pairs(Path(args.pairs or params.leakage_pairs))
    frames = conflibert.read_all(params.conflibert_root, tuple(params.datasets))
    if args.variants is not None:
        baseline = read_baseline(Path(args.tables or paths.tables_beside(args.metrics)) / "datasets.csv")
        out = Path(args.variants_out)
        kinds = args.variants or None
        done = None
        if out.is_file():  # resume a run that was stopped: datasets already measured are kept
            before = json.loads(out.read_text(encoding="utf-8"))
            if before.get("variants") == list(kinds or VARIANTS) and not before.get("complete"):
                done = before["datasets"]

        def save(partial: dict) -> None:
            write_json({**partial, "complete": False}, out, digits=4)

        with one_thread():
            variants = run_variants(frames, pairs, params, baseline, kinds, done=done, on_dataset=save)
        write_json({**variants, "complete": True}, out, digits=4)
        return
    with one_thread():  # same sums on any machine: byte-identical metrics
        out, timings = run_benchmark(frames, pairs, params)
    headline, tables = split_metrics(out)
    write_json(headline, args.metrics, digits=4)
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))
    plot = Path(args.plot)
    plot.parent.mkdir(parents=True, exist_ok=True)
    comparison_plot(out).to_csv(plot, index=False, lineterminator="\n")
    write_json(timings, args.timings)
