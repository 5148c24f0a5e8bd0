"""``newsaudit ingest``: read the corpus into the pages table, every input accounted for.

Writes ``data/interim/pages.parquet`` (one row per input document, accepted or rejected with a
reason), ``data/interim/manifest.csv`` (the same rows without text) and
``reports/metrics/ingest.json`` (the headline counts) with its breakdowns by format, language,
encoding and rejection reason in ``reports/tables/ingest/``. ``inputs == accepted + rejected`` is
checked before the metrics are written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from newsaudit.core import paths
from newsaudit.core.config import execution, load_params, section
from newsaudit.core.io import counts, leftover, pick, write_json, write_tables
from newsaudit.engines.dispatch import run_step
from newsaudit.steps.ingest.readers import MANIFEST_COLUMNS, CorpusParams, IngestParams
from newsaudit.steps.ingest.step import IngestStep, summarise

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("ingest", help="read a corpus into the pages table (every input accounted for)")
    p.add_argument("--corpus", help="corpus folder or file (overrides corpus.path)")
    p.add_argument("--out", default=str(paths.PAGES))
    p.add_argument("--manifest", default=str(paths.MANIFEST))
    p.add_argument("--metrics", default=str(paths.metrics("ingest")))
    p.add_argument("--tables", default=None, help="breakdown tables (default: beside --metrics)")
    p.add_argument("--engine", default=None, help="memory, stream or dask (default: execution.engine)")
    p.set_defaults(func=run)


def run(args) -> None:
    params = load_params(args.params)
    corpus = section(params, "corpus", CorpusParams)
    if args.corpus:
        corpus = corpus.model_copy(update={"path": args.corpus, "include": []})
    ingest_params = section(params, "ingest", IngestParams)
    ex = execution(params, args.engine)
    out = Path(args.out)
    step = IngestStep(corpus, ingest_params)
    run_step(step, ex, None, out, workers=ex.workers.ingest, row_group_size=ingest_params.row_group_size)
    summary = write_manifest(out, Path(args.manifest))
    headline, tables = split_metrics(summary)
    write_json(headline, Path(args.metrics))
    write_tables(tables, Path(args.tables or paths.tables_beside(args.metrics)))


HEADLINE = ("inputs", "accepted", "rejected", "accepted_empty_text", "distinct_sources")
BREAKDOWNS = ("by_format", "by_language", "encodings", "rejected_by_reason")


def split_metrics(summary: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The headline counts (the metrics file) and the breakdowns, one table each; any other
    figure of the summary goes to ``other``."""
    formats = [
        (fmt, status, n) for fmt, by in (summary.get("by_format") or {}).items() for status, n in by.items()
    ]
    tables = {
        "by_format": pd.DataFrame(formats, columns=["format", "status", "inputs"]),
        "by_language": counts(summary.get("by_language"), "language", "pages"),
        "by_encoding": counts(summary.get("encodings"), "encoding", "pages"),
        "rejected_by_reason": counts(summary.get("rejected_by_reason"), "reason", "inputs"),
        "other": leftover(summary, HEADLINE + BREAKDOWNS),
    }
    return pick(summary, HEADLINE), tables


def write_manifest(pages_path: Path, manifest: Path) -> dict:
    """The manifest CSV and the summary, from the written table (its text column left unread)."""
    names = [c for c in pq.read_schema(pages_path).names if c != "raw_text"]
    pages = pd.read_parquet(pages_path, columns=names)
    summary = summarise(pages)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    tmp = manifest.with_name(manifest.name + ".partial")
    pages[MANIFEST_COLUMNS].to_csv(tmp, index=False)
    tmp.replace(manifest)
    for row in pages.loc[pages["status"] == "rejected", "status_reason"].head(20):
        log.warning("rejected: %s", row)
    log.info(
        "ingest: %d inputs, %d accepted, %d rejected -> %s",
        summary["inputs"],
        summary["accepted"],
        summary["rejected"],
        pages_path,
    )
    return summary
