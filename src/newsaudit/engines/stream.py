"""The streaming engine: any step over a Parquet file in row batches, memory bounded by a batch.

Phases run in order. Consecutive maps are fused and applied batch by batch; a scan or the
components hook after them needs their output, so the table is materialised first (a ``.partial``
Parquet file beside the output, with the step's output schema, columns not computed yet null).
Maps run in a process pool (:func:`newsaudit.engines.parallel.ordered_map`: the step and the
shared state reach each worker once; per-row state travels with its batch), results come back in
order and are appended to the output as they arrive. Outputs are written under a temporary name
and renamed when complete, so an interrupted run never leaves a truncated file that looks finished.
Inputs and outputs may be fsspec URLs (:mod:`newsaudit.lib.storage`); the intermediate table is
then kept on local disk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from newsaudit.core.errors import NewsauditError
from newsaudit.core.step import (
    Clusters,
    Components,
    Map,
    MapOutput,
    Read,
    RowTable,
    Scan,
    State,
    Step,
    missing_columns,
    output_schema,
)
from newsaudit.engines.parallel import STATE, ordered_map
from newsaudit.lib import storage
from newsaudit.lib.minhash import node_rank
from newsaudit.lib.sigstore import SignatureStore
from newsaudit.lib.storage import Location

log = logging.getLogger(__name__)

MERGE_EVERY = 8  # partial scan results merged at once (bounds what a scan holds between merges)


@dataclass
class StreamRun:
    """Where a step reads and writes, and how."""

    src: Location | None  # None for a reading step; a path or an fsspec URL
    dst: Location
    side: dict[str, Location] = field(default_factory=dict)  # side table name -> file
    batch_rows: int = 2000
    workers: int = 1
    row_group_size: int | None = None  # reading steps: rows per row group


def partial_path(path: Location) -> Location:
    return storage.partial_name(path)


def batches(path: Location, rows: int, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """Row batches of a Parquet file as pandas, indexed by their global row numbers."""
    start = 0
    for rb in storage.parquet_file(path).iter_batches(batch_size=rows, columns=columns):
        frame = rb.to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame))
        start += len(frame)
        yield frame


def run(step: Step, how: StreamRun) -> dict[str, Any]:
    """Run ``step`` from ``how.src`` to ``how.dst`` (and its side tables); returns the final state."""
    phases = step.phases()
    if isinstance(phases[0], Read):
        _read(phases[0], how)
        return {}
    source = storage.read_schema(how.src)
    missing = missing_columns(source.names, step)
    if missing:
        raise NewsauditError(f"{how.src}: lacks column(s) {missing} needed by the {step.name} step")
    schema = output_schema(source, step)
    state: dict[str, Any] = {}
    current, pending = how.src, []
    tmp_stage = storage.scratch_beside(how.dst, ".stage.partial")
    try:
        for phase in phases:
            if isinstance(phase, Map):
                pending.append(phase)
                continue
            if pending:
                _write_maps(step, pending, current, tmp_stage, {}, schema, state, how)
                current, pending = tmp_stage, []
            if isinstance(phase, Scan):
                state.update(_scan(phase, current, state, how))
            elif isinstance(phase, Components):
                state.update(_components(phase, current, state, how))
        side = {name: how.side[name] for name in step.side_outputs}
        _write_maps(step, pending, current, how.dst, side, schema, state, how)
    finally:
        if tmp_stage.exists() and (current == tmp_stage or storage.is_url(how.dst)):
            tmp_stage.unlink()
    return state


def _scan(phase: Scan, path: Location, state: State, how: StreamRun) -> dict[str, Any]:
    names = storage.read_schema(path).names
    columns = [c for c in phase.columns if c in names] or None
    merged, parts = None, []
    cut = RowCutter(state)
    for batch in tqdm(batches(path, how.batch_rows, columns), desc=phase.name, unit="batch", disable=None):
        parts.append(phase.partial(batch, cut(batch.index)))
        if len(parts) >= MERGE_EVERY:
            merged, parts = phase.merge([p for p in (merged, *parts) if p is not None]), []
    merged = phase.merge([p for p in (merged, *parts) if p is not None])
    return phase.finish(merged, state)


def _components(phase: Components, path: Location, state: State, how: StreamRun) -> dict[str, Any]:
    """Signatures batch by batch into a file beside the output (:class:`SignatureStore`), LSH a
    band at a time, then the phase's ``finish`` while the signatures are still there."""
    nodes = phase.nodes(state)
    lsh = phase.lsh(state)
    names = storage.read_schema(path).names
    columns = [c for c in phase.columns if c in names] or None
    cut = RowCutter(state)
    with SignatureStore(
        storage.scratch_beside(how.dst, ".signatures.npy"), len(nodes), lsh.num_perm
    ) as store:
        for batch in tqdm(
            batches(path, how.batch_rows, columns), desc=phase.name, unit="batch", disable=None
        ):
            part = phase.signatures(batch, cut(batch.index))
            store.append(part.positions, part.matrix, part.n_shingles)
        labels, n_cand, n_edges = store.cluster(
            node_rank(nodes), lsh.bands, lsh.rows, lsh.threshold, lsh.max_bucket_pairs
        )
        notes = {"candidate_pairs": n_cand, "verified_edges": n_edges}
        return phase.finish(Clusters(labels, store.similarity, notes), state)


class RowCutter:
    """``batch_state`` for contiguous batches in O(batch) rather than O(corpus): each row table's
    index is sorted once and a batch's rows found by binary search (same rows, same order)."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.sorted: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, value in state.items():
            if isinstance(value, RowTable):
                idx = value.frame.index.to_numpy()
                order = np.argsort(idx, kind="stable")
                self.sorted[key] = (order, idx[order])

    def rows(self, key: str, index: pd.Index) -> RowTable:
        table = self.state[key]
        if not (isinstance(index, pd.RangeIndex) and index.step == 1):
            return RowTable(table.rows(index))
        order, idx = self.sorted[key]
        a, b = np.searchsorted(idx, [index.start, index.stop], side="left")
        return RowTable(table.frame.iloc[np.sort(order[a:b])])

    def __call__(self, index: pd.Index) -> dict[str, Any]:
        return {k: self.rows(k, index) if k in self.sorted else v for k, v in self.state.items()}


def _split_state(state: State) -> tuple[dict[str, Any], list[str]]:
    shared = {k: v for k, v in state.items() if not isinstance(v, RowTable)}
    return shared, [k for k, v in state.items() if isinstance(v, RowTable)]


def _apply(item: tuple[pd.DataFrame, dict[str, Any]]) -> tuple[pd.DataFrame, dict[str, list[pd.DataFrame]]]:
    """Worker side: the fused maps on one batch (shared state from the pool initializer)."""
    batch, rows_state = item
    state = {**STATE["shared"], **rows_state}
    side: dict[str, list[pd.DataFrame]] = {}
    for phase in STATE["maps"]:
        result = phase.fn(batch, state)
        if isinstance(result, MapOutput):
            for name, table in result.side.items():
                side.setdefault(name, []).append(table)
            result = result.pages
        batch = result
    return batch, side


def _write_maps(
    step: Step,
    maps: list[Map],
    src: Location,
    dst: Location,
    side_paths: dict[str, Location],
    schema: pa.Schema,
    state: State,
    how: StreamRun,
) -> None:
    """Apply ``maps`` to every batch of ``src``; write ``dst`` (and side tables) atomically."""
    shared, row_keys = _split_state(state)
    cut = RowCutter(state)
    items = (
        (batch, {k: cut.rows(k, batch.index) for k in row_keys}) for batch in batches(src, how.batch_rows)
    )
    workers = how.workers if all(m.parallel for m in maps) and maps else 1
    with ExitStack() as stack:
        # entered in order, left in reverse: every table renamed only once all were written
        sinks = {name: stack.enter_context(storage.atomic_output(p)) for name, p in side_paths.items()}
        writers = {
            name: stack.enter_context(pq.ParquetWriter(sink, step.side_outputs[name]))
            for name, sink in sinks.items()
        }
        writer = stack.enter_context(
            pq.ParquetWriter(stack.enter_context(storage.atomic_output(dst)), schema)
        )
        results = ordered_map(_apply, items, workers, {"maps": maps, "shared": shared})
        for out, side in tqdm(results, desc=step.name, unit="batch", disable=None):
            for f in schema:
                if f.name not in out.columns:
                    out[f.name] = None  # computed by a later phase
            writer.write_table(pa.Table.from_pandas(out[schema.names], schema=schema, preserve_index=False))
            for name, tables in side.items():
                for table in tables:
                    sch = step.side_outputs[name]
                    writers[name].write_table(pa.Table.from_pandas(table, schema=sch, preserve_index=False))


def _read(phase: Read, how: StreamRun) -> None:
    """A reading step: jobs read in worker processes (at most 2 x workers in flight: a large corpus
    must not pile up parsed rows while the writer catches up), rows written in row groups."""
    jobs = phase.jobs()
    rows_per_group = how.row_group_size or how.batch_rows
    workers = how.workers if len(jobs) > 1 else 1
    with (
        tqdm(total=len(jobs), desc=phase.name, unit="file", disable=None) as progress,
        storage.atomic_output(how.dst) as sink,
        pq.ParquetWriter(sink, phase.schema) as writer,
    ):
        batch: list[dict] = []
        for rows in ordered_map(_read_job, jobs, workers, {"read": phase.read}):
            progress.update()
            for row in rows:
                batch.append(row)
                if len(batch) >= rows_per_group:
                    writer.write_table(pa.Table.from_pylist(batch, schema=phase.schema))
                    batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=phase.schema))


def _read_job(job: Any) -> list[dict]:
    return STATE["read"](job)


def write_frame(frame: pd.DataFrame, path: Location, schema: pa.Schema, rows: int) -> None:
    """Write a whole table (the memory and Dask engines' result) atomically, ``rows`` per row group."""
    with storage.atomic_output(path) as sink, pq.ParquetWriter(sink, schema) as writer:
        for start in range(0, max(len(frame), 1), rows):
            part = frame.iloc[start : start + rows]
            if len(part) or start == 0:
                writer.write_table(
                    pa.Table.from_pandas(part[schema.names], schema=schema, preserve_index=False)
                )
