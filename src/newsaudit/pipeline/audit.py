"""``audit``: ingest and the per-page steps on any corpus, file to file (``newsaudit audit`` and
the benchmarks), each through :func:`newsaudit.engines.dispatch.run_step` on the chosen engine."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsaudit.core.config import execution, section
from newsaudit.core.errors import StepUnavailable
from newsaudit.core.io import write_json
from newsaudit.core.step import Step
from newsaudit.engines.dispatch import run_step
from newsaudit.lib.measure import measure
from newsaudit.lib.tables import column_batches, read_columns
from newsaudit.pipeline.outdir import (
    CLASSIFIER_FILE,
    FINAL_TABLE,
    LINE_MODEL_FILE,
    REMOVED_LINES,
    STAGING,
    AuditContext,
    check_out_dir,
    commit_outputs,
    out_dir_lock,
)
from newsaudit.pipeline.resume import finish_step, prepare_steps_dir, reuse_step, run_fingerprint, snapshot
from newsaudit.steps.boilerplate.linemodel import LineModel, load_line_model
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.stats import STATS_COLUMNS as BOILERPLATE_COLUMNS
from newsaudit.steps.boilerplate.stats import stats_from_files
from newsaudit.steps.boilerplate.step import BoilerplateStep
from newsaudit.steps.classify.model import load_model
from newsaudit.steps.classify.score import ClassifyParams
from newsaudit.steps.classify.stats import STATS_COLUMNS as CLASSIFY_COLUMNS
from newsaudit.steps.classify.stats import corpus_stats as classify_stats
from newsaudit.steps.classify.step import ClassifyStep
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.stats import duplicate_stats, stats_table
from newsaudit.steps.dedup.step import DedupStep
from newsaudit.steps.ingest.doc import display_path
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams
from newsaudit.steps.ingest.step import SUMMARY_COLUMNS, IngestStep, summarise

__all__ = ["AuditContext", "audit", "chain"]

log = logging.getLogger(__name__)


def _line_model(ctx: AuditContext) -> LineModel | None:
    path = ctx.models / LINE_MODEL_FILE
    if path.is_file():
        ctx.summary["line_model"] = str(path)
        return load_line_model(path)
    bp = section(ctx.params, "boilerplate", BoilerplateParams)
    log.warning("audit: no line model at %s: boilerplate uses the fallback rule", path)
    ctx.summary["line_model"] = f"none at {path}: fallback rule (lines of {bp.fallback_min_words}+ words)"
    return None


def chain(ctx: AuditContext, src: Path) -> list[tuple[str, Callable[[], Step]]]:
    """The per-page steps after ingest, in order, each built when it is about to run."""
    params = ctx.params

    def classify() -> Step:
        path = ctx.models / CLASSIFIER_FILE
        if not path.is_file():
            raise StepUnavailable(f"no trained classifier at {path} (run `make repro` first)")
        return ClassifyStep(section(params, "classify", ClassifyParams), load_model(path))

    return [
        (
            "boilerplate",
            lambda: BoilerplateStep(section(params, "boilerplate", BoilerplateParams), _line_model(ctx)),
        ),
        (
            "duplicates",
            lambda: DedupStep(section(params, "duplicates", DuplicatesParams), ctx.ex.workers.duplicates),
        ),
        ("classify", classify),
    ]


def _step_with_stats(
    ctx: AuditContext, name: str, step: Step, state: dict, written: Path, removed_path: Path
) -> None:
    """The step's statistics into ``ctx.summary``, from the table it wrote: each reads back only the
    columns it needs (``STATS_COLUMNS``), so the statistics hold a dozen values a page."""
    if name == "boilerplate":
        pages = read_columns(written, BOILERPLATE_COLUMNS)
        ctx.summary["boilerplate"] = stats_from_files(pages, removed_path, step.params)
    elif name == "duplicates":
        ctx.summary["duplicates"] = duplicate_stats(stats_table(written), step.params)
        if state.get("near_notes"):
            ctx.summary["engine"]["duplicates"] = state["near_notes"]
    else:
        ctx.summary["predictions"] = classify_stats(read_columns(written, CLASSIFY_COLUMNS))


def _measured(name: str, ctx: AuditContext, fn: Callable[[], Any]) -> Any:
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
    measure_steps: bool = False,
    engine: str | None = None,
    scheduler: str | None = None,
    finish: Callable[[AuditContext, Path], None] | None = None,
    resume: bool = False,
) -> AuditContext:
    """Run ingest and the per-page steps from file to file; ``out/pages.parquet`` is the last table,
    ``out/removed_lines.parquet`` the boilerplate's removed lines, ``out/summary.json`` the figures.

    Everything is written under ``out/.steps/`` first (``finish(ctx, staged)`` may add files there,
    such as the report) and moved into ``out`` when complete (:func:`commit_outputs`), under a lock
    on ``out``. A step that cannot run (no trained model) is listed in the summary with the reason,
    never skipped silently. ``resume``: reuse the steps an audit that was killed had finished, if
    it ran on the same corpus files, parameters, models and code (:func:`run_fingerprint`).
    """
    ex = execution(params, engine, scheduler)
    check_out_dir(corpus, out, force)
    with out_dir_lock(out):
        check_out_dir(corpus, out, force)  # again under the lock: another audit may just have finished
        ctx = AuditContext(params=params, models=models, out=out, ex=ex, measure=measure_steps)
        ctx.fingerprint = run_fingerprint(corpus, params, models)
        return _audit(corpus, ctx, finish, resume)


def _audit(
    corpus: Path, ctx: AuditContext, finish: Callable[[AuditContext, Path], None] | None, resume: bool
) -> AuditContext:
    ex, steps_dir = ctx.ex, ctx.out / STAGING
    reused = dict(prepare_steps_dir(steps_dir, ctx.fingerprint, resume))
    ctx.summary["corpus"] = display_path(str(corpus))
    ctx.summary["engine"] = {"name": ex.engine}
    ctx.summary["steps"], ctx.summary["skipped_steps"] = [], {}
    ingest_params = section(ctx.params, "ingest", IngestParams)
    current = steps_dir / "ingest.parquet"
    ingest_step = IngestStep(CorpusParams(path=str(corpus), include=[]), ingest_params)

    def ingest() -> None:
        run_step(
            ingest_step,
            ex,
            None,
            current,
            workers=ex.workers.ingest,
            row_group_size=ingest_params.row_group_size,
        )
        ctx.summary["ingest"] = summarise(column_batches(current, SUMMARY_COLUMNS))

    if "ingest" in reused:
        reuse_step(ctx, "ingest", reused["ingest"])
    else:
        before = snapshot(ctx.summary)
        _measured("ingest", ctx, ingest)  # a step's figures include its statistics' time and memory
        finish_step(ctx, "ingest", current.name, before)
    removed_path = steps_dir / REMOVED_LINES
    for name, build in chain(ctx, current):
        if name in reused:
            reuse_step(ctx, name, reused[name])
            current = steps_dir / reused[name]["table"]
            continue
        before = snapshot(ctx.summary)
        nxt = steps_dir / f"{name}.parquet"
        try:
            step = build()
        except StepUnavailable as why:
            log.warning("audit: %s skipped: %s", name, why)
            finish_step(ctx, name, current.name, before, skipped=str(why))
            continue
        workers = getattr(ex.workers, name)
        rows = (
            getattr(step.params, "batch_rows", None)
            or getattr(step.params, "repetition_batch", None)
            or getattr(step.params, "batch_size", 2000)
        )
        side = {"removed_lines": removed_path} if name == "boilerplate" else {}
        _measured(
            name,
            ctx,
            lambda name=name, step=step, src=current, dst=nxt, side=side, w=workers, r=rows: _step_with_stats(
                ctx, name, step, run_step(step, ex, src, dst, side, r, w), dst, removed_path
            ),
        )
        finish_step(ctx, name, nxt.name, before)  # marker first: the input may go only once it is done
        current.unlink()
        current = nxt
    current.replace(steps_dir / FINAL_TABLE)
    write_json(ctx.summary, steps_dir / "summary.json")
    if finish is not None:
        finish(ctx, steps_dir)
    commit_outputs(steps_dir, ctx.out)
    shutil.rmtree(steps_dir)
    log.info("audit: %d pages -> %s", ctx.summary["ingest"]["inputs"], ctx.out)
    return ctx
