"""The Dask engine: any step's phases over the partitions of the pages table.

* :class:`~newsaudit.core.step.Read`: a ``dask.bag`` of jobs read on the workers, written in job
  order through the client;
* :class:`~newsaudit.core.step.Map`: partition-wise (shared state broadcast once, per-row state
  cut at the partition boundaries and scattered with its partition);
* :class:`~newsaudit.core.step.Scan`: ``partial`` per partition, ``merge`` in a tree on the
  workers, ``finish`` on the client;
* :class:`~newsaudit.core.step.Components`: signatures partition-wise, then the shuffle-based hook
  of :mod:`newsaudit.engines.dask.lsh`.

Nothing here knows any step. Tables come back to the client to be written as one Parquet file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dask.bag as db
import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dask import delayed
from distributed import Client

from newsaudit.core.config import DaskSettings
from newsaudit.core.errors import NewsauditError
from newsaudit.core.step import (
    Components,
    Map,
    MapOutput,
    Read,
    RowTable,
    Scan,
    State,
    Step,
    batch_state,
    missing_columns,
    output_schema,
)
from newsaudit.engines.dask.cluster import broadcast, connect, plain_strings
from newsaudit.engines.dask.frames import pages_frame, split_rows
from newsaudit.engines.dask.lsh import components, signature_frame
from newsaudit.engines.stream import write_frame
from newsaudit.lib import storage
from newsaudit.lib.storage import Location

log = logging.getLogger(__name__)

MERGE_FAN_IN = 8


def run_to_files(
    step: Step,
    settings: DaskSettings,
    src: Location | None,
    dst: Location,
    side: dict[str, Location],
    rows: int,
) -> dict[str, Any]:
    """The step on the cluster of ``settings``, from file to file (tables gathered on the client);
    paths may be fsspec URLs, read by the workers themselves."""
    with connect(settings) as client:
        phases = step.phases()
        if isinstance(phases[0], Read):
            write_read(client, phases[0], dst, rows)
            return {}
        ddf = pages_frame(src, settings.partition_rows)
        out, tables, state = run(client, step, ddf, settings)
        with plain_strings():
            frame, *side_frames = client.compute([out, *(tables[n] for n in side)], sync=True)
    write_frame(frame, dst, output_schema(storage.read_schema(src), step), rows)
    for (name, path), table in zip(side.items(), side_frames, strict=True):
        write_frame(table.reset_index(drop=True), path, step.side_outputs[name], rows)
    return state


def run(
    client: Client, step: Step, ddf: dd.DataFrame, settings: DaskSettings
) -> tuple[dd.DataFrame, dict[str, dd.DataFrame], dict[str, Any]]:
    """The step's output (lazy, same divisions), its side tables (lazy) and its final state."""
    missing = missing_columns(ddf.columns, step)
    if missing:
        raise NewsauditError(f"pages table lacks column(s) {missing} needed by the {step.name} step")
    state: dict[str, Any] = {}
    side: dict[str, list] = {name: [] for name in step.side_outputs}
    side_meta: dict[str, pd.DataFrame] = {}
    with plain_strings():
        for phase in step.phases():
            if isinstance(phase, Map):
                ddf, parts_side, metas = _map(client, phase, ddf, state)
                for name, parts in parts_side.items():
                    side[name] = parts
                    side_meta[name] = metas[name]
            elif isinstance(phase, Scan):
                state.update(phase.finish(_scan(client, phase, ddf, state), state))
            elif isinstance(phase, Components):
                state.update(phase.finish(_components(client, phase, ddf, state, settings), state))
        tables = {
            name: dd.from_delayed(parts, meta=side_meta[name], verify_meta=False)
            for name, parts in side.items()
            if parts
        }
    return ddf, tables, state


def _pieces(client: Client, state: State, divisions: tuple) -> tuple[Any, list[dict[str, Any]]]:
    """Shared state as one broadcast future; per-row state as one scattered piece per partition."""
    shared = {k: v for k, v in state.items() if not isinstance(v, RowTable)}
    row_keys = [k for k, v in state.items() if isinstance(v, RowTable)]
    n = len(divisions) - 1
    per_part: list[dict[str, Any]] = [{} for _ in range(n)]
    for key in row_keys:
        futures = client.scatter([RowTable(p) for p in split_rows(state[key].frame, divisions)], hash=False)
        for i, fut in enumerate(futures):
            per_part[i][key] = fut
    return broadcast(client, shared), per_part


def _call(fn: Callable, part: pd.DataFrame, shared: dict[str, Any], rows: dict[str, Any]) -> Any:
    """Run a phase function on one partition with one BLAS/OpenMP thread (the workers are the
    parallelism; a model's own threads would oversubscribe the cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return fn(part, {**(shared or {}), **rows})


def _pages_of(result: Any) -> pd.DataFrame:
    return result.pages if isinstance(result, MapOutput) else result


def _side_of(result: Any, name: str) -> pd.DataFrame:
    return result.side[name] if isinstance(result, MapOutput) else pd.DataFrame()


def _map(client: Client, phase: Map, ddf: dd.DataFrame, state: State):
    meta_result = phase.fn(ddf._meta, batch_state(state, ddf._meta.index))
    shared, per_part = _pieces(client, state, ddf.divisions)
    results = [
        delayed(_call)(phase.fn, p, shared, r) for p, r in zip(ddf.to_delayed(), per_part, strict=True)
    ]
    # meta from an empty frame cannot know the dtypes pandas infers for filled columns (object vs str)
    out = dd.from_delayed(
        [delayed(_pages_of)(r) for r in results],
        meta=_pages_of(meta_result),
        divisions=ddf.divisions,
        verify_meta=False,
    )
    side, metas = {}, {}
    if isinstance(meta_result, MapOutput):
        for name, meta in meta_result.side.items():
            side[name] = [delayed(_side_of)(r, name) for r in results]
            metas[name] = meta
    return out, side, metas


def _tree_merge(merge: Callable[[list[Any]], Any], parts: list) -> Any:
    while len(parts) > 1:
        parts = [delayed(merge)(parts[i : i + MERGE_FAN_IN]) for i in range(0, len(parts), MERGE_FAN_IN)]
    return parts[0]


def _columns(phase: Scan | Components, ddf: dd.DataFrame) -> dd.DataFrame:
    cols = [c for c in phase.columns if c in ddf.columns]
    return ddf[cols] if cols else ddf


def _scan(client: Client, phase: Scan, ddf: dd.DataFrame, state: State) -> Any:
    shared, per_part = _pieces(client, state, ddf.divisions)
    src = _columns(phase, ddf)
    parts = [
        delayed(_call)(phase.partial, p, shared, r) for p, r in zip(src.to_delayed(), per_part, strict=True)
    ]
    merged = _tree_merge(phase.merge, [delayed(phase.merge)([p]) for p in parts])
    return client.compute(merged, sync=True)


def _signatures(fn: Callable, part: pd.DataFrame, shared: dict, rows: dict, num_perm: int) -> pd.DataFrame:
    return signature_frame(_call(fn, part, shared, rows), num_perm)


def _components(client: Client, phase: Components, ddf: dd.DataFrame, state: State, settings: DaskSettings):
    lsh = phase.lsh(state)
    n_nodes = len(phase.nodes(state))
    shared, per_part = _pieces(client, state, ddf.divisions)
    src = _columns(phase, ddf)
    meta = signature_frame(phase.signatures(src._meta, batch_state(state, src._meta.index)), lsh.num_perm)
    parts = [
        delayed(_signatures)(phase.signatures, p, shared, r, lsh.num_perm)
        for p, r in zip(src.to_delayed(), per_part, strict=True)
    ]
    sigs = client.persist(dd.from_delayed(parts, meta=meta))
    return components(client, sigs, n_nodes, lsh, settings.client_edges_max)


def write_read(client: Client, phase: Read, dst: Location, rows: int, jobs_per_partition: int = 32) -> None:
    """A reading step on the cluster: jobs read partition-wise, written in job order."""
    jobs = phase.jobs()
    n_parts = max(1, -(-len(jobs) // jobs_per_partition))
    bag = db.from_sequence(jobs, npartitions=n_parts).map(phase.read).flatten()
    tables = bag.map_partitions(_rows_table, phase.schema).to_delayed()
    log.info("%s (dask): %d inputs in %d partitions", phase.name, len(jobs), len(tables))
    futures = client.compute(tables)
    with storage.atomic_output(dst) as sink, pq.ParquetWriter(sink, phase.schema) as writer:
        for fut in futures:
            for table in fut.result():
                writer.write_table(table, row_group_size=rows)
            fut.release()


def _rows_table(rows: list[dict], schema: pa.Schema) -> list[pa.Table]:
    return [pa.Table.from_pylist(list(rows), schema=schema)]
