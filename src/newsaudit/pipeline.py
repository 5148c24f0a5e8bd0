"""The per-page chain ingest -> boilerplate -> duplicates -> classify, run by any engine.

:func:`run_step` is the one place that dispatches a step to an engine (memory, stream or Dask);
stage modules choose the engine (``execution`` in params.yaml, or ``--engine``) and the paths.
:func:`audit` runs the whole chain on any corpus, file to file, for ``newsaudit audit`` and the
benchmarks; ``annotate_*`` are the in-memory reference of each step (tests, benchmarks, notebooks).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from newsaudit.core.config import Execution, execution, section
from newsaudit.core.errors import NewsauditError, StepUnavailable
from newsaudit.core.io import write_json
from newsaudit.core.step import Step, output_schema
from newsaudit.engines import memory, stream
from newsaudit.lib.measure import Measurement, measure
from newsaudit.steps.boilerplate.clean import REASONS
from newsaudit.steps.boilerplate.linemodel import LineModel, load_line_model
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.stats import corpus_stats as boilerplate_stats
from newsaudit.steps.boilerplate.step import BoilerplateStep
from newsaudit.steps.classify.model import load_model
from newsaudit.steps.classify.score import ClassifyParams
from newsaudit.steps.classify.stats import corpus_stats as classify_stats
from newsaudit.steps.classify.step import ClassifyStep
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.stats import duplicate_stats
from newsaudit.steps.dedup.step import DedupStep
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams
from newsaudit.steps.ingest.step import IngestStep, summarise

log = logging.getLogger(__name__)

OUTPUT_NAMES = ("pages.parquet", "summary.json", "report.html", "removed_lines.parquet")
LINE_MODEL_FILE = "line_model.skops"
CLASSIFIER_FILE = "conflict_clf.skops"


# --------------------------------------------------------------------------------------------
# One step, on the chosen engine


def run_step(
    step: Step,
    ex: Execution,
    src: Path | None,
    dst: Path,
    side: dict[str, Path] | None = None,
    batch_rows: int = 2000,
    workers: int = 1,
    row_group_size: int | None = None,
) -> dict[str, Any]:
    """Run ``step`` from ``src`` (a Parquet table; None for ingest) to ``dst`` (and its side tables)
    on ``ex.engine``; returns the step's final state (notes of corpus-wide phases)."""
    side = side or {}
    if ex.engine == "dask":
        from newsaudit.engines.dask import run as dask_run

        return dask_run.run_to_files(step, ex.dask, src, dst, side, row_group_size or batch_rows)
    if ex.engine == "memory":
        return _run_memory(step, src, dst, side, row_group_size or batch_rows)
    how = stream.StreamRun(src, dst, side, batch_rows, workers, row_group_size)
    return stream.run(step, how)


def _run_memory(step: Step, src: Path | None, dst: Path, side: dict[str, Path], rows: int) -> dict[str, Any]:
    pages = pd.read_parquet(src) if src is not None else None
    out, tables = memory.run(step, pages)
    schema = step.phases()[0].schema if src is None else output_schema(pq.read_schema(src), step)
    stream.write_frame(out, dst, schema, rows)
    for name, path in side.items():
        stream.write_frame(tables[name], path, step.side_outputs[name], rows)
    return {}


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
        ("boilerplate", lambda: BoilerplateStep(section(params, "boilerplate", BoilerplateParams), _line_model(ctx))),
        ("duplicates", lambda: DedupStep(section(params, "duplicates", DuplicatesParams), ctx.ex.workers.duplicates)),
        ("classify", classify),
    ]


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
) -> AuditContext:
    """Run ingest and the per-page steps from file to file; ``out/pages.parquet`` is the last table,
    ``out/removed_lines.parquet`` the boilerplate's removed lines, ``out/summary.json`` the figures.

    Intermediate tables live in ``out/.steps/`` and are removed at the end. A step that cannot run
    (no trained model) is listed in the summary with the reason, never skipped silently.
    """
    ex = execution(params, engine, scheduler)
    check_out_dir(corpus, out, force)
    out.mkdir(parents=True, exist_ok=True)
    steps_dir = out / ".steps"
    steps_dir.mkdir(exist_ok=True)
    ctx = AuditContext(params=params, models=models, out=out, ex=ex, measure=measure_steps)
    ctx.summary["corpus"] = str(corpus)
    ctx.summary["engine"] = {"name": ex.engine}
    ingest_params = section(params, "ingest", IngestParams)
    current = steps_dir / "ingest.parquet"
    ingest_step = IngestStep(CorpusParams(path=str(corpus), include=[]), ingest_params)
    _measured(
        "ingest",
        ctx,
        lambda: run_step(ingest_step, ex, None, current, workers=ex.workers.ingest, row_group_size=ingest_params.row_group_size),
    )
    ctx.summary["ingest"] = summarise(read_small(current))
    ctx.summary["steps"], ctx.summary["skipped_steps"] = ["ingest"], {}
    removed_path = out / "removed_lines.parquet"
    for name, build in chain(ctx, current):
        nxt = steps_dir / f"{name}.parquet"
        try:
            step = build()
        except StepUnavailable as why:
            log.warning("audit: %s skipped: %s", name, why)
            ctx.summary["skipped_steps"][name] = str(why)
            continue
        workers = getattr(ex.workers, name)
        rows = getattr(step.params, "batch_rows", None) or getattr(step.params, "repetition_batch", None) or getattr(step.params, "batch_size", 2000)
        side = {"removed_lines": removed_path} if name == "boilerplate" else {}
        state = _measured(name, ctx, lambda step=step, src=current, dst=nxt, side=side, w=workers, r=rows: run_step(step, ex, src, dst, side, r, w))
        small = read_small(nxt)
        if name == "boilerplate":
            ctx.summary["boilerplate"] = boilerplate_stats_from_files(small, removed_path, step.params)
        elif name == "duplicates":
            small["_has_text"] = has_text(nxt)
            ctx.summary["duplicates"] = duplicate_stats(small, step.params)
            if state.get("near_notes"):
                ctx.summary["engine"]["duplicates"] = state["near_notes"]
        else:
            ctx.summary["predictions"] = classify_stats(small)
        current.unlink()
        current = nxt
        ctx.summary["steps"].append(name)
    current.replace(out / "pages.parquet")
    steps_dir.rmdir()
    write_json(ctx.summary, out / "summary.json")
    log.info("audit: %d pages -> %s", ctx.summary["ingest"]["inputs"], out)
    return ctx


def read_small(path: Path) -> pd.DataFrame:
    """The table without its text columns (what statistics need)."""
    names = [c for c in pq.read_schema(path).names if c not in ("raw_text", "clean_text")]
    return pd.read_parquet(path, columns=names)


def has_text(path: Path) -> pd.Series:
    """Whether each row has a ``clean_text``, read batch by batch without keeping the text."""
    parts = [b.column(0).is_valid().to_numpy(zero_copy_only=False) for b in pq.ParquetFile(path).iter_batches(columns=["clean_text"])]
    return pd.Series(np.concatenate(parts) if parts else np.zeros(0, dtype=bool))


def removed_totals(path: Path) -> dict[str, dict[str, int]]:
    """Removed lines and characters per reason, read batch by batch."""
    lines: Counter = Counter()
    chars: Counter = Counter()
    for rb in pq.ParquetFile(path).iter_batches(columns=["reason", "text"]):
        frame = rb.to_pandas()
        lines.update(frame["reason"].astype(str).tolist())
        chars.update(frame.assign(n=frame["text"].str.len()).groupby("reason", observed=True)["n"].sum().to_dict())
    return {
        "lines": {r: int(lines.get(r, 0)) for r in REASONS},
        "chars": {r: int(chars.get(r, 0)) for r in REASONS},
    }


def boilerplate_stats_from_files(small: pd.DataFrame, removed_path: Path, params: BoilerplateParams) -> dict:
    """The boilerplate statistics from the written files: no page text, and of the removed lines
    only those that feed the top-lines table (site templates and patterns)."""
    top = pq.read_table(removed_path, filters=[("reason", "in", ["site_template", "pattern"])]).to_pandas()
    top["reason"] = pd.Categorical(top["reason"].astype(str), categories=list(REASONS))
    return boilerplate_stats(small, top, params, totals=removed_totals(removed_path))
