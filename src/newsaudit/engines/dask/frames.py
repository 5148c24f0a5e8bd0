"""The pages table as a Dask DataFrame whose index is the global row number (known divisions), so
per-row results computed on the client are cut at the partition boundaries without a shuffle.
Parquet is read in ``partition_rows`` row slices with the dtypes ``pandas.read_parquet`` gives
the whole file; a table may be a local path or an fsspec URL (each worker opens its own slices)."""

from __future__ import annotations

from itertools import pairwise

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dask import delayed
from distributed import Client

from newsaudit.core.errors import NewsauditError
from newsaudit.engines.dask.cluster import plain_strings
from newsaudit.lib import storage
from newsaudit.lib.storage import Location


def split_rows(frame: pd.DataFrame, divisions: tuple) -> list[pd.DataFrame]:
    """Rows of ``frame`` (indexed by row number) cut at the partition boundaries ``divisions``."""
    frame = frame.sort_index()
    cuts = np.searchsorted(frame.index.to_numpy(), np.asarray(divisions[1:-1]), side="left")
    bounds = [0, *cuts.tolist(), len(frame)]
    return [frame.iloc[a:b] for a, b in pairwise(bounds)]


def scatter_rows(client: Client, frame: pd.DataFrame, divisions: tuple) -> list:
    """Per-partition pieces of a client-side table, each sent to the cluster once."""
    return client.scatter(split_rows(frame, divisions), hash=False)


def pages_frame(source: pd.DataFrame | dd.DataFrame | Location, partition_rows: int) -> dd.DataFrame:
    """The pages table, partitioned, with the row number as index (known divisions).

    A pandas frame's own index is replaced by its row positions (:func:`audit_pages_dask` puts it
    back); Parquet (a file or a folder of part files) is read in ``partition_rows`` row slices with
    the dtypes ``pandas.read_parquet`` gives the whole file.
    """
    with plain_strings():
        if isinstance(source, dd.DataFrame):
            return source if source.known_divisions else _row_indexed(source)
        if isinstance(source, pd.DataFrame):
            frame = source.reset_index(drop=True)
            return dd.from_pandas(frame, chunksize=max(1, partition_rows), sort=True)
        return _read_parquet_rows(storage.location(source), partition_rows)


def _row_indexed(ddf: dd.DataFrame) -> dd.DataFrame:
    """A frame of unknown divisions renumbered 0..n-1 (one pass to count the partitions' rows)."""
    lengths = ddf.map_partitions(len).compute().tolist()
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).tolist()
    meta = ddf._meta.reset_index(drop=True)
    parts = [delayed(_renumber)(p, s) for p, s in zip(ddf.to_delayed(), starts, strict=True)]
    return dd.from_delayed(parts, meta=meta, divisions=_divisions(lengths))


def _renumber(part: pd.DataFrame, start: int) -> pd.DataFrame:
    return part.set_axis(pd.RangeIndex(start, start + len(part)), axis=0)


def _divisions(lengths: list[int]) -> tuple | None:
    """Divisions of partitions holding rows 0..n-1 in runs of ``lengths`` (all non-empty)."""
    if not lengths or min(lengths) == 0:
        return None
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).tolist()
    return (*starts, int(sum(lengths)) - 1)


def _parquet_files(path: Location) -> list[Location]:
    if storage.is_dir(path):
        files = storage.parquet_files(path)
        if not files:
            raise NewsauditError(f"{path}: no Parquet files in this folder")
        return files
    if not storage.is_file(path):
        raise NewsauditError(f"{path}: pages table not found")
    return [path]


def _parquet_slices(files: list[Location], rows: int) -> list[list[tuple[str, int, int, int]]]:
    """Partitions as lists of (file, row group, start, stop), ``rows`` rows each (from metadata)."""
    pieces: list[list[tuple[str, int, int, int]]] = []
    cur: list[tuple[str, int, int, int]] = []
    n_cur = 0
    for f in files:
        meta = storage.parquet_file(f).metadata
        for rg in range(meta.num_row_groups):
            n, start = meta.row_group(rg).num_rows, 0
            while start < n:
                take = min(n - start, rows - n_cur)
                cur.append((str(f), rg, start, start + take))
                n_cur, start = n_cur + take, start + take
                if n_cur == rows:
                    pieces.append(cur)
                    cur, n_cur = [], 0
    if cur or not pieces:
        pieces.append(cur)
    return pieces


def _nullable_columns(files: list[Location], schema: pa.Schema, names: list[str]) -> list[str]:
    """Those of ``names`` (read as numpy integers or booleans) with a null anywhere: pandas reads them
    as float / object for the whole file, so every slice must too, even one without nulls (null
    counts from the metadata)."""
    nullable: set[str] = set()
    for f in files:
        pf = storage.parquet_file(f)
        for name in names:
            col = pf.schema_arrow.get_field_index(name)
            for rg in range(pf.metadata.num_row_groups):
                stats = pf.metadata.row_group(rg).column(col).statistics
                if stats is None or not stats.has_null_count:
                    nulls = pf.read_row_group(rg, columns=[name]).column(0).null_count
                else:
                    nulls = stats.null_count
                if nulls:
                    nullable.add(name)
                    break
    return [n for n in names if n in nullable]


def _read_slices(
    piece: list[tuple[str, int, int, int]], start: int, schema: pa.Schema, dtypes: dict
) -> pd.DataFrame:
    """One partition: its row-group slices as pandas, with the whole file's dtypes."""
    opened: dict[str, pq.ParquetFile] = {}
    tables = []
    for f, rg, a, b in piece:
        pf = opened.setdefault(f, storage.parquet_file(f))
        tables.append(pf.read_row_group(rg).slice(a, b - a))
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    frame = table.to_pandas().astype(dtypes)
    return frame.set_axis(pd.RangeIndex(start, start + len(frame)), axis=0)


def _read_parquet_rows(path: Location, rows: int) -> dd.DataFrame:
    files = _parquet_files(path)
    schema = storage.read_schema(files[0])
    meta = schema.empty_table().to_pandas()  # with pandas' metadata: extension dtypes as written
    numpy_cols = [
        c for c in meta.columns if isinstance(meta[c].dtype, np.dtype) and meta[c].dtype.kind in "iub"
    ]
    nullable = _nullable_columns(files, schema, numpy_cols)
    dtypes = {c: ("float64" if meta[c].dtype.kind in "iu" else object) for c in nullable}
    meta = meta.astype(dtypes)
    pieces = _parquet_slices(files, max(1, rows))
    lengths = [sum(b - a for _, _, a, b in p) for p in pieces]
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(int).tolist()
    return dd.from_map(
        _read_slices,
        pieces,
        starts,
        args=(schema, dtypes),
        meta=meta,
        divisions=_divisions(lengths),
        label="read-pages",
        enforce_metadata=False,
    )
