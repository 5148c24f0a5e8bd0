"""Every pipeline path, once, relative to the project root.

Stage modules take their defaults from here, ``dvc.yaml`` names the same files (a test checks that
each stage's ``outs`` are paths listed here), and the report and notebooks import it instead of
spelling paths out. Folders follow cookiecutter-data-science: ``data/external`` (fetched,
verified), ``data/interim`` (stage tables), ``data/processed`` (final tables), ``models``, ``reports``.
"""

from __future__ import annotations

from pathlib import Path

PARAMS = Path("params.yaml")
LOCK = Path("dvc.lock")

EXTERNAL = Path("data/external")
INTERIM = Path("data/interim")
PROCESSED = Path("data/processed")
MODELS = Path("models")
REPORTS = Path("reports")
METRICS = REPORTS / "metrics"
PLOTS = REPORTS / "plots"
# Breakdowns (per source, language, encoding, reason...) as CSV tables, one folder per stage: the
# metrics files keep only the headline figures that `dvc metrics diff` and `dvc exp show` compare.
TABLES = REPORTS / "tables"
TIMINGS = REPORTS / "timings"

# ingest
PAGES = INTERIM / "pages.parquet"
MANIFEST = INTERIM / "manifest.csv"
# train-linemodel
LINE_MODEL = MODELS / "line_model.skops"
LINE_MODEL_CARD = MODELS / "line_model.json"
LINEMODEL_OOF = INTERIM / "linemodel_oof.parquet"
# boilerplate
PAGES_CLEAN = INTERIM / "pages_clean.parquet"
REMOVED_LINES = INTERIM / "removed_lines.parquet"
BOILERPLATE_PLOTS = PLOTS / "boilerplate"
# duplicates
PAGES_DEDUP = INTERIM / "pages_dedup.parquet"
DUPLICATES_PLOTS = PLOTS / "duplicates"
RECALL_VS_EDIT_RATE = DUPLICATES_PLOTS / "recall_vs_edit_rate.csv"
# leakage / labels / train / evaluate / conflibert-benchmark
LEAKAGE_PAIRS = INTERIM / "leakage_pairs.parquet"
LABELS = PROCESSED / "labels.parquet"
CLASSIFIER = MODELS / "conflict_clf.skops"
CLASSIFIER_CARD = MODELS / "model_card.md"
CLASSIFIER_PLOTS = PLOTS / "classifier"
CONFLIBERT_PLOT = PLOTS / "conflibert" / "comparison.csv"
CONFLIBERT_TIMINGS = TIMINGS / "conflibert_benchmark.json"
CLASSIFIER_TIMINGS = TIMINGS / "train.json"  # wall-clock times: untracked, never a DVC out
WEBNEWS_DEV = Path("data/annotations/webnews_dev/labels.csv")  # hand labels (committed, ids only)
CLASSIFIER_ABLATION = METRICS / "classifier_ablation.json"  # `newsaudit ablate-classifier`, committed
CONFLIBERT_VARIANTS = METRICS / "conflibert_variants.json"  # `newsaudit conflibert-benchmark --variants`
# classify
PAGES_FINAL = PROCESSED / "pages.parquet"
PREDICTIONS = PROCESSED / "predictions.parquet"
# report
REPORT_HTML = REPORTS / "index.html"
REPORT_FIGURES = PLOTS / "report"
# The metrics files the report reads: its DVC stage lists each as a dep (tests/test_architecture.py
# checks). Files written by hand-run commands (the ablation, the ConfliBERT variants, the
# bench-duplicates tuning grid) sit in the same folder but are no input of the report: a glob of
# the folder would make the report depend on files its stage does not declare.
REPORT_METRICS = (
    "ingest",
    "train_linemodel",
    "boilerplate",
    "bench_boilerplate",
    "duplicates",
    "bench_duplicates",
    "leakage",
    "labels",
    "train",
    "classifier",
    "conflibert_benchmark",
    "classify",
    "benchmark",
    "benchmark_dask",
)
# `newsaudit report --baseline REV` (by hand or in CI; not the DVC stage's output)
REPORT_VS_BASELINE = REPORTS / "changes.html"
# newsaudit bench (not a DVC stage)
BENCH_FOLDER = Path("data/bench")


def metrics(name: str) -> Path:
    """``reports/metrics/<name>.json``: a stage's metrics file carries the stage's name."""
    return METRICS / f"{name}.json"


def tables(name: str) -> Path:
    """``reports/tables/<name>/``: the breakdown tables of the stage whose metrics file is ``name``."""
    return TABLES / name


def tables_beside(metrics_file: str | Path) -> Path:
    """The tables folder that goes with a metrics file: ``reports/tables/<name>/`` for
    ``reports/metrics/<name>.json``, ``<name>.tables/`` beside a metrics file anywhere else (a
    hand run or a test writing its metrics to another folder keeps its tables there too)."""
    path = Path(metrics_file)
    if path.parent.name == METRICS.name and path.parent.parent.name == REPORTS.name:
        return path.parent.parent / TABLES.name / path.stem
    return path.with_name(path.stem + ".tables")
