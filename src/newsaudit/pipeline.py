"""The per-page chain ingest -> boilerplate -> duplicates -> classify, run by any engine.

:func:`run_step` is the one place that dispatches a step to an engine (memory, stream or Dask);
stage modules choose the engine (``execution`` in params.yaml, or ``--engine``) and the paths.
:func:`audit` runs the whole chain on any corpus, file to file, for ``newsaudit audit`` and the
benchmarks; ``annotate_*`` are the in-memory reference of each step (tests, benchmarks, notebooks).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from newsaudit.core.config import Execution, execution, section
from newsaudit.core.errors import NewsauditError, StepUnavailable
from newsaudit.core.io import write_json
from newsaudit.core.step import Step
from newsaudit.engines import memory
from newsaudit.engines.dispatch import run_step
from newsaudit.lib.measure import Measurement, measure
from newsaudit.lib.tables import column_batches, read_columns
from newsaudit.steps.boilerplate.clean import REASONS
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

log = logging.getLogger(__name__)

OUTPUT_NAMES = ("pages.parquet", "summary.json", "report.html", "removed_lines.parquet")
STAGING = ".steps"  # work folder inside --out: step tables and outputs until they are complete
LOCK_NAME = ".audit.lock"
LINE_MODEL_FILE = "line_model.skops"
CLASSIFIER_FILE = "conflict_clf.skops"


# --------------------------------------------------------------------------------------------
# The in-memory reference of each step


def annotate_boilerplate(
    pages: pd.DataFrame, params: BoilerplateParams, line_model: LineModel | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pages with clean text and boilerplate/error columns, and every removed line (sorted by
    doc_id and line). ``line_model=None`` uses the fallback rule (lines of N+ words)."""
    out, side = memory.run(BoilerplateStep(params, line_model), pages)
    removed = side["removed_lines"]
    if removed.empty:
        removed = _empty_removed()
    return out, removed.sort_values(["doc_id", "line_no"], kind="stable").reset_index(drop=True)


def _empty_removed() -> pd.DataFrame:
    frame = pd.DataFrame({"doc_id": [], "line_no": [], "text": [], "reason": []})
    frame = frame.astype({"doc_id": object, "line_no": "int64", "text": object})
    frame["reason"] = pd.Categorical([], categories=list(REASONS))
    return frame


def annotate_duplicates(pages: pd.DataFrame, params: DuplicatesParams) -> pd.DataFrame:
    """Pages with repetition statistics, de-repeated ``clean_text`` and cluster columns."""
    return memory.run(DedupStep(params), pages)[0]


def annotate_predictions(pages: pd.DataFrame, bundle: dict[str, Any], params: ClassifyParams) -> pd.DataFrame:
    """Pages with the prediction columns (``cluster_size`` when the table has clusters)."""
    step = ClassifyStep(params, bundle, with_clusters="near_dup_cluster" in pages.columns)
    return memory.run(step, pages)[0]


# --------------------------------------------------------------------------------------------
# The chain on any corpus: newsaudit audit


@dataclass
class AuditContext:
    params: dict
    models: Path
    out: Path
    ex: Execution
    summary: dict = field(default_factory=dict)
    measure: bool = False  # time and sample memory of each step (the benchmark turns this on)
    measurements: dict[str, Measurement] = field(default_factory=dict)


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


@contextmanager
def out_dir_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.audit.lock`` (an OS file lock, released if the process dies, even by SIGKILL), so
    two audits on one ``--out`` never interleave their files: the second stops with a clear error."""
    from filelock import FileLock, Timeout

    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise NewsauditError(
            f"--out {out} is in use by another audit (it holds {out / LOCK_NAME}); wait for it to end "
            "or choose another folder"
        ) from None
    try:
        yield
    finally:
        lock.release()


def commit_outputs(staged: Path, out: Path) -> None:
    """Move the complete outputs from ``staged`` into ``out``, ``summary.json`` last.

    Every file was written whole under ``staged`` first, and each move is an atomic rename, so a run
    killed at any moment leaves no truncated file. Old results (``--force``) are removed first,
    their ``summary.json`` before anything else: a folder without ``summary.json`` holds no
    complete audit, and results of the old run never sit beside those of the new one.
    """
    new = [name for name in OUTPUT_NAMES if (staged / name).exists()]
    for name in ("summary.json", *OUTPUT_NAMES):
        (out / name).unlink(missing_ok=True)
    for name in sorted(new, key=lambda n: n == "summary.json"):
        (staged / name).replace(out / name)


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
) -> AuditContext:
    """Run ingest and the per-page steps from file to file; ``out/pages.parquet`` is the last table,
    ``out/removed_lines.parquet`` the boilerplate's removed lines, ``out/summary.json`` the figures.

    Everything is written under ``out/.steps/`` first (``finish(ctx, staged)`` may add files there,
    such as the report) and moved into ``out`` when complete (:func:`commit_outputs`), under a lock
    on ``out``. A step that cannot run (no trained model) is listed in the summary with the reason,
    never skipped silently.
    """
    ex = execution(params, engine, scheduler)
    check_out_dir(corpus, out, force)
    with out_dir_lock(out):
        check_out_dir(corpus, out, force)  # again under the lock: another audit may just have finished
        return _audit(corpus, out, params, models, ex, measure_steps, finish)


def _audit(
    corpus: Path,
    out: Path,
    params: dict,
    models: Path,
    ex: Execution,
    measure_steps: bool,
    finish: Callable[[AuditContext, Path], None] | None,
) -> AuditContext:
    steps_dir = out / STAGING
    if steps_dir.exists():  # left by an audit that was killed (we hold the lock: nobody else uses it)
        shutil.rmtree(steps_dir)
    steps_dir.mkdir()
    ctx = AuditContext(params=params, models=models, out=out, ex=ex, measure=measure_steps)
    ctx.summary["corpus"] = display_path(str(corpus))
    ctx.summary["engine"] = {"name": ex.engine}
    ingest_params = section(params, "ingest", IngestParams)
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

    _measured("ingest", ctx, ingest)  # a step's figures include its statistics' time and memory
    ctx.summary["steps"], ctx.summary["skipped_steps"] = ["ingest"], {}
    removed_path = steps_dir / "removed_lines.parquet"
    for name, build in chain(ctx, current):
        nxt = steps_dir / f"{name}.parquet"
        try:
            step = build()
        except StepUnavailable as why:
            log.warning("audit: %s skipped: %s", name, why)
            ctx.summary["skipped_steps"][name] = str(why)
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
        current.unlink()
        current = nxt
        ctx.summary["steps"].append(name)
    current.replace(steps_dir / "pages.parquet")
    write_json(ctx.summary, steps_dir / "summary.json")
    if finish is not None:
        finish(ctx, steps_dir)
    commit_outputs(steps_dir, out)
    shutil.rmtree(steps_dir)
    log.info("audit: %d pages -> %s", ctx.summary["ingest"]["inputs"], out)
    return ctx
