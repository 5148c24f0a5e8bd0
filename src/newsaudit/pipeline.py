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
from typing import Any

import pandas as pd

from newsaudit.lib.measure import Measurement, measure
from newsaudit.core.config import ENGINES, engine_of, load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams, ingest
from newsaudit.core.io import write_json

log = logging.getLogger(__name__)

OUTPUT_NAMES = ("pages.parquet", "summary.json", "report.html", "removed_lines.parquet")


@dataclass
class AuditContext:
    params: dict
    models: Path
    out: Path
    summary: dict = field(default_factory=dict)
    measure: bool = False  # time and sample memory of each step (the benchmark turns this on)
    measurements: dict[str, Measurement] = field(default_factory=dict)


class StepUnavailable(Exception):
    """A per-page step cannot run here (its trained model is missing); the reason goes in the summary."""


# A step reads the pages table from one Parquet file and writes it, with its own columns added,
# to another: batch by batch, so memory does not grow with the corpus.
Step = Callable[[Path, Path, AuditContext], None]


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


def boilerplate_step(src: Path, dst: Path, ctx: AuditContext) -> None:
    """Clean text with the trained line model; without one, the documented fallback rule (said so)."""
    from newsaudit.steps.boilerplate.clean import BoilerplateParams
    from newsaudit.steps.boilerplate.linemodel import load_line_model
    from newsaudit.boilerplate_stream import clean_parquet

    params = section(ctx.params, "boilerplate", BoilerplateParams)
    model_path = ctx.models / Path(params.line_model).name
    if model_path.is_file():
        line_model, ctx.summary["line_model"] = load_line_model(model_path), str(model_path)
    else:
        log.warning("audit: no line model at %s: boilerplate uses the fallback rule", model_path)
        line_model = None
        ctx.summary["line_model"] = (
            f"none at {model_path}: fallback rule (lines of {params.fallback_min_words}+ words)"
        )
    ctx.summary["boilerplate"] = clean_parquet(
        src, dst, ctx.out / "removed_lines.parquet", params, line_model, params.batch_rows, params.workers
    )


def predict_step(src: Path, dst: Path, ctx: AuditContext) -> None:
    from newsaudit.steps.classify.model import load_model
    from newsaudit.steps.classify.score import PredictParams, corpus_stats, predict_parquet

    params = section(ctx.params, "predict", PredictParams)
    model_path = ctx.models / Path(params.model).name
    if not model_path.is_file():
        raise StepUnavailable(f"no trained classifier at {model_path} (run `make repro` first)")
    ctx.summary["predictions"] = corpus_stats(predict_parquet(src, dst, load_model(model_path), params))


def per_page_steps() -> list[tuple[str, Step]]:
    """The per-page steps after ingest, in pipeline order."""
    from newsaudit import duplicates

    return [
        ("boilerplate", boilerplate_step),
        ("duplicates", duplicates.audit_step),
        ("predict", predict_step),
    ]


def _run_measured(name: str, ctx: AuditContext, fn: Callable[[], Any]) -> Any:
    if not ctx.measure:
        return fn()
    with measure() as m:
        result = fn()
    ctx.measurements[name] = m
    log.info("audit: %s took %.1f s, peak RSS %.0f MB", name, m.seconds, m.peak_rss_mb)
    return result


def audit(
    corpus: Path,
    out: Path,
    params: dict,
    models: Path,
    force: bool = False,
    report: bool = False,
    measure_steps: bool = False,
    engine: str | None = None,
    scheduler: str | None = None,
) -> AuditContext:
    """Run ingest and the per-page steps from file to file; ``out/pages.parquet`` is the last table.

    Intermediate tables live in ``out/.steps/`` and are removed at the end. Returns the context:
    its ``summary`` is what ``summary.json`` holds, its ``measurements`` the per-step time and
    memory when ``measure_steps`` is on. ``engine="dask"`` runs the same steps on a Dask cluster
    (:mod:`newsaudit.engines.dask.legacy`; ``scheduler`` overrides ``dask.scheduler``).
    """
    engine = engine_of(params, engine)
    check_out_dir(corpus, out, force)
    out.mkdir(parents=True, exist_ok=True)
    steps_dir = out / ".steps"
    steps_dir.mkdir(exist_ok=True)
    corpus_params = CorpusParams(path=str(corpus), include=[])
    ingest_params = section(params, "ingest", IngestParams)
    ctx = AuditContext(params=params, models=models, out=out, measure=measure_steps)
    ctx.summary["corpus"] = str(corpus)
    if engine == "dask":
        _audit_dask(ctx, corpus_params, ingest_params, steps_dir, scheduler)
        return _finish(ctx, out / "pages.parquet", report)
    current = steps_dir / "ingest.parquet"
    ctx.summary["ingest"] = _run_measured(
        "ingest", ctx, lambda: ingest(corpus_params, ingest_params, current)
    )
    ctx.summary["steps"], ctx.summary["skipped_steps"] = ["ingest"], {}
    for name, step in per_page_steps():
        nxt = steps_dir / f"{name}.parquet"
        try:
            _run_measured(name, ctx, lambda step=step, src=current, dst=nxt: step(src, dst, ctx))
        except StepUnavailable as why:
            log.warning("audit: %s skipped: %s", name, why)
            ctx.summary["skipped_steps"][name] = str(why)
            continue
        current.unlink()
        current = nxt
        ctx.summary["steps"].append(name)
    current.replace(out / "pages.parquet")
    steps_dir.rmdir()
    return _finish(ctx, out / "pages.parquet", report)


def _finish(ctx: AuditContext, pages_path: Path, report: bool) -> AuditContext:
    write_json(ctx.summary, ctx.out / "summary.json")
    if report:
        from newsaudit.report.render import write_audit_report

        write_audit_report(ctx.out, pd.read_parquet(pages_path), ctx.summary)
    log.info("audit: %d pages -> %s", ctx.summary["ingest"]["inputs"], ctx.out)
    return ctx


def _audit_dask(
    ctx: AuditContext,
    corpus: CorpusParams,
    ingest_params: IngestParams,
    steps_dir: Path,
    scheduler: str | None,
) -> None:
    """The same steps on a Dask cluster: ingest, then boilerplate -> duplicates -> predict as one
    graph (:func:`newsaudit.engines.dask.legacy.audit_pages_dask`), whose table is gathered on the client."""
    from newsaudit.steps.boilerplate.clean import BoilerplateParams, corpus_stats
    from newsaudit.steps.boilerplate.linemodel import load_line_model
    from newsaudit.steps.classify.model import load_model
    from newsaudit.steps.dedup.step import DuplicatesParams, duplicate_stats
    from newsaudit.engines.dask.legacy import DaskParams, audit_pages_dask, connect, ingest_dask
    from newsaudit.steps.classify.score import PredictParams
    from newsaudit.steps.classify.score import corpus_stats as prediction_stats

    dask_params = section(ctx.params, "dask", DaskParams)
    if scheduler:
        dask_params = dask_params.model_copy(update={"scheduler": scheduler})
    bp = section(ctx.params, "boilerplate", BoilerplateParams)
    line_path = ctx.models / Path(bp.line_model).name
    line_model = load_line_model(line_path) if line_path.is_file() else None
    ctx.summary["line_model"] = (
        str(line_path)
        if line_model
        else (f"none at {line_path}: fallback rule (lines of {bp.fallback_min_words}+ words)")
    )
    pp = section(ctx.params, "predict", PredictParams)
    clf_path = ctx.models / Path(pp.model).name
    bundle = load_model(clf_path) if clf_path.is_file() else None
    ctx.summary["engine"] = {"name": "dask", "scheduler": dask_params.scheduler}
    ingested = steps_dir / "ingest.parquet"
    with connect(dask_params) as client:
        ctx.summary["ingest"] = _run_measured(
            "ingest", ctx, lambda: ingest_dask(client, corpus, ingest_params, ingested)
        )
        result = _run_measured(
            "per_page_steps",
            ctx,
            lambda: audit_pages_dask(client, ingested, ctx.params, line_model, bundle),
        )
    ingested.unlink()
    steps_dir.rmdir()
    pages = result.pages
    ctx.summary["steps"] = ["ingest", "boilerplate", "duplicates"] + (["predict"] if bundle else [])
    ctx.summary["skipped_steps"] = (
        {} if bundle else {"predict": f"no trained classifier at {clf_path} (run `make repro` first)"}
    )
    ctx.summary["boilerplate"] = corpus_stats(pages, result.removed, bp)
    ctx.summary["duplicates"] = duplicate_stats(pages, section(ctx.params, "duplicates", DuplicatesParams))
    if bundle:
        ctx.summary["predictions"] = prediction_stats(pages)
    ctx.summary["engine"]["shuffles"] = result.notes
    pages.to_parquet(ctx.out / "pages.parquet", index=False)
    result.removed.to_parquet(ctx.out / "removed_lines.parquet", index=False)


def register_cli(sub) -> None:
    p = sub.add_parser("audit", help="run the per-page stages on any corpus and write DIR/pages.parquet")
    p.add_argument("corpus", type=Path, help="corpus folder or file")
    p.add_argument("--out", type=Path, required=True, help="output folder (must not be inside the corpus)")
    p.add_argument("--models", type=Path, default=Path("models"), help="trained artefacts (default: models/)")
    p.add_argument("--force", action="store_true", help="replace results already in --out")
    p.add_argument("--report", action="store_true", help="also write DIR/report.html (self-contained HTML)")
    p.add_argument(
        "--engine", choices=ENGINES, default=None, help="local or dask (default: params.yaml engine)"
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address (default: dask.scheduler; 'local' = LocalCluster)",
    )
    p.set_defaults(func=_cli)


def _cli(args) -> None:
    audit(
        args.corpus,
        args.out,
        load_params(args.params),
        args.models,
        force=args.force,
        report=args.report,
        engine=args.engine,
        scheduler=args.scheduler,
    )
