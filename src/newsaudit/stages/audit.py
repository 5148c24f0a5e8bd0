"""``newsaudit audit CORPUS --out DIR``: the per-page steps on any corpus, outside the DVC pipeline.

Runs ingest and each per-page step whose trained artefacts are available (boilerplate, duplicates,
classify) with the parameters of ``params.yaml`` and the models the pipeline trained; writes
``DIR/pages.parquet``, ``DIR/removed_lines.parquet``, ``DIR/summary.json`` and, with ``--report``,
``DIR/report.html``. A step that cannot run is listed in the summary with the reason. Nothing the
user gave is overwritten: an ``--out`` that already holds results needs ``--force``, and ``--out``
may not lie inside the corpus (the next audit would ingest it).

Crash safety: every file (the report too) is written whole under ``DIR/.steps/`` and renamed into
``DIR`` at the end, ``summary.json`` last; a run killed at any moment leaves the previous results or
none, never a truncated file, and the same command then runs again. ``DIR/.audit.lock`` keeps a
second audit off the same ``--out`` (it stops with a clear error). Each step that finishes leaves
a marker in ``DIR/.steps/``; ``--resume`` starts after the last finished step when the corpus
files (names, sizes, times), parameters (``execution`` aside), models and code are those of the
killed run, and runs everything again otherwise (:mod:`newsaudit.pipeline.resume`).
"""

from __future__ import annotations

from pathlib import Path

from newsaudit.core import paths
from newsaudit.core.config import ENGINES, load_params
from newsaudit.pipeline.audit import AuditContext, audit
from newsaudit.report.render import write_audit_report


def register(sub) -> None:
    p = sub.add_parser("audit", help="run the per-page stages on any corpus and write DIR/pages.parquet")
    p.add_argument("corpus", type=Path, help="corpus folder or file")
    p.add_argument("--out", type=Path, required=True, help="output folder (must not be inside the corpus)")
    p.add_argument("--models", type=Path, default=paths.MODELS, help="trained artefacts (default: models/)")
    p.add_argument("--force", action="store_true", help="replace results already in --out")
    p.add_argument("--report", action="store_true", help="also write DIR/report.html (self-contained HTML)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="reuse the steps an audit on this --out finished before it was killed (same corpus files, "
        "params, models and code); without it that work is discarded",
    )
    p.add_argument(
        "--engine",
        choices=(*ENGINES, "local"),
        default=None,
        help="memory, stream or dask (default: execution.engine; local = stream)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address (default: execution.dask.scheduler; 'local' = LocalCluster)",
    )
    p.set_defaults(func=run)


def run(args) -> None:
    audit(
        args.corpus,
        args.out,
        load_params(args.params),
        args.models,
        force=args.force,
        engine=args.engine,
        scheduler=args.scheduler,
        finish=_write_report if args.report else None,
        resume=args.resume,
    )


def _write_report(ctx: AuditContext, staged: Path) -> None:
    """The report, written beside the staged results (moved into ``--out`` with them). The pages
    table is given as its file, read column by column by the report: never the corpus text whole."""
    write_audit_report(staged, staged / "pages.parquet", ctx.summary)
