"""``newsaudit audit CORPUS --out DIR``: the per-page stages on any corpus, outside the DVC pipeline.

It runs ingest and then each per-page step whose module and trained artefacts are available
(boilerplate, duplicates, classification), with the parameters of ``params.yaml`` and the models the
pipeline trained. It writes ``DIR/pages.parquet`` (the pipeline's pages columns plus each step's) and
``DIR/summary.json``; a step that cannot run is listed in the summary with the reason, never skipped
silently. Nothing the user gave is overwritten: an ``--out`` that already holds results needs
``--force``, and ``--out`` may not lie inside the corpus (the next audit would ingest it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from newsaudit.config import load_params, section
from newsaudit.errors import NewsauditError
from newsaudit.ingest import CorpusParams, IngestParams, ingest
from newsaudit.io import write_json

log = logging.getLogger(__name__)

OUTPUT_NAMES = ("pages.parquet", "summary.json", "report.html", "removed_lines.parquet")


@dataclass
class AuditContext:
    params: dict
    models: Path
    out: Path
    summary: dict = field(default_factory=dict)


class StepUnavailable(Exception):
    """A per-page step cannot run here (its trained model is missing); the reason goes in the summary."""


# A step takes the pages table and returns it with its own columns added.
Step = Callable[[pd.DataFrame, AuditContext], pd.DataFrame]


def check_out_dir(corpus: Path, out: Path, force: bool) -> None:
    corpus_abs, out_abs = corpus.resolve(), out.resolve()
    if corpus_abs.is_dir() and (out_abs == corpus_abs or corpus_abs in out_abs.parents):
        raise NewsauditError(f"--out {out} lies inside the corpus {corpus}: choose a folder outside it")
    existing = [name for name in OUTPUT_NAMES if (out / name).exists()]
    if existing and not force:
        raise NewsauditError(
            f"--out {out} already holds audit results ({', '.join(existing)}); pass --force to replace "
            "them or choose another folder"
        )


def per_page_steps() -> list[tuple[str, Step]]:
    """The per-page steps after ingest, in pipeline order (extended as stages land)."""
    return []


def audit(corpus: Path, out: Path, params: dict, models: Path, force: bool = False) -> dict:
    check_out_dir(corpus, out, force)
    out.mkdir(parents=True, exist_ok=True)
    corpus_params = CorpusParams(path=str(corpus), include=[])
    ingest_params = section(params, "ingest", IngestParams)
    pages_path = out / "pages.parquet"
    ctx = AuditContext(params=params, models=models, out=out)
    ctx.summary["corpus"] = str(corpus)
    ctx.summary["ingest"] = ingest(corpus_params, ingest_params, pages_path)
    pages = pd.read_parquet(pages_path)
    ctx.summary["steps"], ctx.summary["skipped_steps"] = ["ingest"], {}
    for name, step in per_page_steps():
        try:
            pages = step(pages, ctx)
        except StepUnavailable as why:
            log.warning("audit: %s skipped: %s", name, why)
            ctx.summary["skipped_steps"][name] = str(why)
            continue
        ctx.summary["steps"].append(name)
    pages.to_parquet(pages_path, index=False)
    write_json(ctx.summary, out / "summary.json")
    log.info("audit: %d pages -> %s", len(pages), out)
    return ctx.summary


def register_cli(sub) -> None:
    p = sub.add_parser("audit", help="run the per-page stages on any corpus and write DIR/pages.parquet")
    p.add_argument("corpus", type=Path, help="corpus folder or file")
    p.add_argument("--out", type=Path, required=True, help="output folder (must not be inside the corpus)")
    p.add_argument("--models", type=Path, default=Path("models"), help="trained artefacts (default: models/)")
    p.add_argument("--force", action="store_true", help="replace results already in --out")
    p.set_defaults(func=_cli)


def _cli(args) -> None:
    audit(args.corpus, args.out, load_params(args.params), args.models, force=args.force)
