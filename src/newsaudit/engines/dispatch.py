"""The one place that dispatches a step to an engine: memory, stream or Dask, file to file.

Stage modules choose the engine (``execution`` in params.yaml, or ``--engine``) and the paths, and
call :func:`run_step`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from newsaudit.core.config import Execution
from newsaudit.core.step import Step, output_schema
from newsaudit.engines import memory, stream
from newsaudit.engines.dask import run as dask_run
from newsaudit.lib import storage
from newsaudit.lib.storage import Location


def run_step(
    step: Step,
    ex: Execution,
    src: Location | None,
    dst: Location,
    side: dict[str, Location] | None = None,
    batch_rows: int = 2000,
    workers: int = 1,
    row_group_size: int | None = None,
) -> dict[str, Any]:
    """Run ``step`` from ``src`` (a Parquet table; None for ingest) to ``dst`` (and its side tables)
    on ``ex.engine``; returns the step's final state (notes of corpus-wide phases). Paths may be
    fsspec URLs (``s3://...``, :mod:`newsaudit.lib.storage`)."""
    src = None if src is None else storage.location(src)
    dst = storage.location(dst)
    side = {name: storage.location(p) for name, p in (side or {}).items()}
    if ex.engine == "dask":
        return dask_run.run_to_files(step, ex.dask, src, dst, side, row_group_size or batch_rows)
    if ex.engine == "memory":
        return _run_memory(step, src, dst, side, row_group_size or batch_rows)
    how = stream.StreamRun(src, dst, side, batch_rows, workers, row_group_size)
    return stream.run(step, how)


def _run_memory(
    step: Step, src: Location | None, dst: Location, side: dict[str, Location], rows: int
) -> dict[str, Any]:
    pages = pd.read_parquet(src) if src is not None else None
    state: dict[str, Any] = {}
    out, tables = memory.run(step, pages, state)
    schema = step.phases()[0].schema if src is None else output_schema(storage.read_schema(src), step)
    stream.write_frame(out, dst, schema, rows)
    for name, path in side.items():
        stream.write_frame(tables[name], path, step.side_outputs[name], rows)
    return state
