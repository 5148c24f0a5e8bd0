"""Scale-out engine: the per-page stages on a Dask cluster, with the local engine's exact output.

Every stage calls the local building blocks on partitions of the pages table, so a page's result is
computed by the same code as in :mod:`newsaudit.steps.boilerplate.clean`, :mod:`newsaudit.steps.dedup.step` and
:mod:`newsaudit.steps.classify.score`; what Dask adds is where the corpus-wide steps happen:

* ``ingest``: a ``dask.bag`` of input files mapped with :func:`newsaudit.steps.ingest.readers.read_input`
  (partition-wise), written in discovery order (one Parquet file through the client, or one part
  file per partition written by the workers);
* ``boilerplate``: site-template line counts per partition (partition-wise), summed by a hash
  aggregation (a tree reduction while the table is small), reduced per template scope on the
  cluster; the template index is built on the client and broadcast once; cleaning is
  partition-wise;
* ``duplicates``: repetition statistics and exact keys (partition-wise); canonical pages chosen on
  the client from a few small columns per page (as ``dedup_parquet`` pass 2); frequent-line counts
  (aggregation); MinHash signatures (partition-wise); LSH banding as a shuffle of ``(band, bucket
  key, page)`` rows on ``(band, bucket key)``, candidate pairs per bucket with
  :func:`~newsaudit.lib.minhash.candidate_pairs` itself, a shuffle to drop pairs found in
  several bands, two hash joins of the pairs with the signatures for the verification; connected
  components on the client (:func:`~newsaudit.lib.minhash.connected_labels`) and the
  cluster columns by :func:`~newsaudit.steps.dedup.step.cluster_fields`;
* ``predict``: the model broadcast once, scoring partition-wise; ``cluster_size`` (a corpus-wide
  group size) by a value count joined back to the rows (a join and one shuffle back into row order).

Rows keep a global row number as their index (known divisions), so per-row results computed on the
client are cut at the partition boundaries and zipped with the partitions, without a shuffle.
Strings stay the pandas dtypes the local engine sees (Dask's conversion to pyarrow strings is off
while graphs are built), so outputs compare equal, dtypes included; a Dask frame passed in is used
as it is (build it with ``dataframe.convert-string`` off to get pandas' dtypes).

What the client holds: the ``doc_id``, length and exact key of each page with words (as
``dedup_parquet``), the verified near-duplicate edges (16 bytes each, at most
``dask.client_edges_max``, beyond which the run stops: components on the cluster are not
implemented), the signatures of pages in clusters of several distinct texts, the template
candidates and the final table when :func:`audit_pages_dask` returns it. The removed lines of the
boilerplate stage come in page order; :func:`audit_pages_dask` sorts them as
``annotate_boilerplate`` does.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import dask
import dask.bag as db
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dask import delayed
from distributed import Client, LocalCluster

from newsaudit.core.config import Section, section
from newsaudit.core.errors import NewsauditError
from newsaudit.lib.minhash import (
    MinHasher,
    NearDuplicates,
    band_keys,
    candidate_pairs,
    connected_labels,
    estimated_jaccard,
    page_line_hashes,
    remove_lines,
)
from newsaudit.steps.boilerplate.clean import (
    COUNT_COLUMNS,
    BoilerplateParams,
    TemplateIndex,
    _accepted,
    _sources,
    annotate_batch,
    build_template_index,
    source_page_counts,
    template_line_counts,
)
from newsaudit.steps.boilerplate.lines import split_lines
from newsaudit.steps.classify.score import PredictParams, annotate_predictions
from newsaudit.steps.dedup.step import (
    DuplicatesParams,
    canonical_pages,
    cluster_fields,
    eligible_exact_keys,
    with_repetition,
)
from newsaudit.steps.ingest.readers import (
    MANIFEST_COLUMNS,
    PAGES_SCHEMA,
    CorpusParams,
    IngestParams,
    discover,
    read_input,
)
from newsaudit.steps.ingest.readers import summarise as summarise_ingest

log = logging.getLogger(__name__)

CLUSTER_COLUMNS = ["exact_dup_of", "near_dup_cluster", "is_representative", "sim_to_representative"]


class DaskParams(Section):
    """``dask`` section of params.yaml: where the cluster is and how the pages are partitioned."""

    scheduler: str = "local"  # "local" starts a LocalCluster; else an address, e.g. tcp://host:8786
    workers: int = 0  # LocalCluster workers (processes); 0 = one per core / threads_per_worker
    threads_per_worker: int = 1
    partition_rows: int = 2000  # pages per partition
    # Verified near-duplicate edges gathered on the client for connected components; above this the
    # components would have to run on the cluster, which is not implemented: the run stops.
    client_edges_max: int = 50_000_000


@dataclass
class DaskAudit:
    """What :func:`audit_pages_dask` returns: the local chain's tables and what each stage cost."""

    pages: pd.DataFrame
    removed: pd.DataFrame
    notes: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Cluster and plumbing


@contextmanager
def connect(params: DaskParams) -> Iterator[Client]:
    """A client of ``params.scheduler``; for "local", of a LocalCluster started (and stopped) here.

    Worker processes, not threads: the stages are mostly Python code holding the GIL. Inside the
    block Dask keeps pandas' string dtypes (see :func:`_plain_strings`).
    """
    with _plain_strings():
        if params.scheduler != "local":
            with Client(params.scheduler) as client:
                log.info("dask: connected to %s", params.scheduler)
                yield client
            return
        n = params.workers or max(1, (os.cpu_count() or 1) // params.threads_per_worker)
        with (
            LocalCluster(
                n_workers=n, threads_per_worker=params.threads_per_worker, processes=True
            ) as cluster,
            Client(cluster) as client,
        ):
            log.info("dask: LocalCluster with %d workers x %d threads", n, params.threads_per_worker)
            yield client


@contextmanager
def _plain_strings() -> Iterator[None]:
    """Graphs built inside keep pandas' own string dtypes (Dask would turn them into pyarrow
    ``string``, whose missing values compare differently): the local functions see what they see
    locally."""
    with dask.config.set({"dataframe.convert-string": False}):
        yield


def _broadcast(client: Client, obj: Any) -> Any:
    """One copy of ``obj`` on every worker (a future), sent once rather than with every task."""
    if obj is None:
        return None
    return client.scatter([obj], broadcast=True, hash=False)[0]


def _split_out(ddf: dd.DataFrame) -> int:
    """Output partitions of a hash aggregation: 1 (a tree reduction) for small inputs."""
    return max(1, ddf.npartitions // 16)


def _zip_map(
    func: Callable, ddf: dd.DataFrame, per_partition: list, meta: pd.DataFrame, *args: Any
) -> dd.DataFrame:
    """``func(partition_i, per_partition[i], *args)`` for each partition, keeping the divisions."""
    parts = ddf.to_delayed()
    out = [delayed(func)(p, x, *args) for p, x in zip(parts, per_partition, strict=True)]
    return dd.from_delayed(out, meta=meta, divisions=ddf.divisions)


def _split_rows(frame: pd.DataFrame, divisions: tuple) -> list[pd.DataFrame]:
    """Rows of ``frame`` (indexed by row number) cut at the partition boundaries ``divisions``."""
    frame = frame.sort_index()
    cuts = np.searchsorted(frame.index.to_numpy(), np.asarray(divisions[1:-1]), side="left")
    bounds = [0, *cuts.tolist(), len(frame)]
    return [frame.iloc[a:b] for a, b in pairwise(bounds)]


def _scatter_rows(client: Client, frame: pd.DataFrame, divisions: tuple) -> list:
    """Per-partition pieces of a client-side table, each sent to the cluster once."""
    return client.scatter(_split_rows(frame, divisions), hash=False)


# --------------------------------------------------------------------------------------------
# The pages table as a Dask DataFrame, index = global row number


def pages_frame(source: pd.DataFrame | dd.DataFrame | Path | str, partition_rows: int) -> dd.DataFrame:
    """The pages table, partitioned, with the row number as index (known divisions).

    A pandas frame's own index is replaced by its row positions (:func:`audit_pages_dask` puts it
    back); Parquet (a file or a folder of part files) is read in ``partition_rows`` row slices with
    the dtypes ``pandas.read_parquet`` gives the whole file.
    """
    with _plain_strings():
        if isinstance(source, dd.DataFrame):
            return source if source.known_divisions else _row_indexed(source)
        if isinstance(source, pd.DataFrame):
            frame = source.reset_index(drop=True)
            return dd.from_pandas(frame, chunksize=max(1, partition_rows), sort=True)
        return _read_parquet_rows(Path(source), partition_rows)


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


def _parquet_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise NewsauditError(f"{path}: no Parquet files in this folder")
        return files
    if not path.is_file():
        raise NewsauditError(f"{path}: pages table not found")
    return [path]


def _parquet_slices(files: list[Path], rows: int) -> list[list[tuple[str, int, int, int]]]:
    """Partitions as lists of (file, row group, start, stop), ``rows`` rows each (from metadata)."""
    pieces: list[list[tuple[str, int, int, int]]] = []
    cur: list[tuple[str, int, int, int]] = []
    n_cur = 0
    for f in files:
        meta = pq.ParquetFile(f).metadata
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


def _nullable_columns(files: list[Path], schema: pa.Schema, names: list[str]) -> list[str]:
    """Those of ``names`` (read as numpy integers or booleans) with a null anywhere: pandas reads them
    as float / object for the whole file, so every slice must too, even one without nulls (null
    counts from the metadata)."""
    nullable: set[str] = set()
    for f in files:
        pf = pq.ParquetFile(f)
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
    tables = [pq.ParquetFile(f).read_row_group(rg).slice(a, b - a) for f, rg, a, b in piece]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    frame = table.to_pandas().astype(dtypes)
    return frame.set_axis(pd.RangeIndex(start, start + len(frame)), axis=0)


def _read_parquet_rows(path: Path, rows: int) -> dd.DataFrame:
    files = _parquet_files(path)
    schema = pq.ParquetFile(files[0]).schema_arrow
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


# --------------------------------------------------------------------------------------------
# Ingest: a bag of input files


def ingest_dask(
    client: Client,
    corpus: CorpusParams,
    params: IngestParams,
    out: Path,
    manifest: Path | None = None,
    files_per_partition: int = 32,
    parts: bool = False,
) -> dict:
    """The ingest stage on the cluster: the rows and row order of :func:`newsaudit.steps.ingest.readers.ingest`.

    Files are read partition-wise (``read_input`` on a bag of discovered files) and turned into
    Arrow tables on the workers. ``parts=False`` writes one Parquet file at ``out``, the tables
    streamed through the client in discovery order; ``parts=True`` has each worker write its
    partition as ``out/part.NNNNN.parquet`` (nothing passes through the client; the folder is read
    back in name order, which is discovery order).
    """
    jobs = [(str(path), rel, params) for path, rel in discover(corpus)]
    n_parts = max(1, -(-len(jobs) // max(1, files_per_partition)))
    bag = db.from_sequence(jobs, npartitions=n_parts).map(read_input).flatten()
    tables = bag.map_partitions(_rows_table).to_delayed()
    log.info("ingest (dask): %d inputs in %d partitions", len(jobs), len(tables))
    if parts:
        _write_parts(client, tables, out)
    else:
        _write_single(client, tables, out, params.row_group_size)
    pages = pd.read_parquet(out, columns=[c for c in PAGES_SCHEMA.names if c != "raw_text"])
    summary = summarise_ingest(pages)
    if manifest is not None:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        pages[MANIFEST_COLUMNS].to_csv(manifest, index=False)
    log.info("ingest (dask): %d inputs, %d accepted -> %s", summary["inputs"], summary["accepted"], out)
    return summary


def _rows_table(rows: list[dict]) -> list[pa.Table]:
    return [pa.Table.from_pylist(list(rows), schema=PAGES_SCHEMA)]


def _write_single(client: Client, tables: list, out: Path, row_group_size: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    futures = client.compute(tables)
    with pq.ParquetWriter(tmp, PAGES_SCHEMA) as writer:
        for fut in futures:
            for table in fut.result():
                writer.write_table(table, row_group_size=row_group_size)
            fut.release()
    tmp.replace(out)


def _write_part(tables: list[pa.Table], path: str) -> int:
    table = pa.concat_tables(tables) if tables else PAGES_SCHEMA.empty_table()
    pq.write_table(table, path)
    return table.num_rows


def _write_parts(client: Client, tables: list, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part.*.parquet"):
        old.unlink()
    writes = [delayed(_write_part)(t, str(out / f"part.{i:05d}.parquet")) for i, t in enumerate(tables)]
    client.gather(client.compute(writes))


# --------------------------------------------------------------------------------------------
# Boilerplate


def _partition_template_counts(part: pd.DataFrame, params: BoilerplateParams) -> pd.DataFrame:
    acc = part[_accepted(part)]
    return template_line_counts(_sources(acc).tolist(), [split_lines(t) for t in acc["raw_text"]], params)


def _partition_source_pages(part: pd.DataFrame) -> pd.DataFrame:
    counts = source_page_counts(_sources(part[_accepted(part)]))
    return pd.DataFrame({"source": list(counts), "pages": list(counts.values())}, dtype=object).astype(
        {"pages": "int64"}
    )


def template_counts_dask(pages: dd.DataFrame, params: BoilerplateParams) -> dd.DataFrame:
    """On how many accepted pages each (source, line hash) occurs, corpus-wide (lazy).

    Per-partition counts (:func:`newsaudit.steps.boilerplate.clean.template_line_counts`) summed by a hash
    aggregation; the same table as the local counts over the whole frame, in another row order.
    """
    cols = [c for c in ("doc_id", "status", "raw_text", "source") if c in pages.columns]
    with _plain_strings():
        meta = template_line_counts([], [], params)
        parts = pages[cols].map_partitions(_partition_template_counts, params, meta=meta)
        counts = parts.groupby(["source", "line_hash"]).agg(
            {"pages": "sum", "long_plain": "first"}, split_out=_split_out(pages)
        )
        return counts.reset_index()[COUNT_COLUMNS]


def _source_pages_dask(pages: dd.DataFrame) -> dict[str, int]:
    cols = [c for c in ("status", "raw_text", "source") if c in pages.columns]
    meta = _partition_source_pages(pages._meta[cols])
    per = pages[cols].map_partitions(_partition_source_pages, meta=meta)
    total = per.groupby("source")["pages"].sum().compute()
    return {str(k): int(v) for k, v in sorted(total.items())}


def _scope_counts(counts: pd.DataFrame, scope_of_source: dict[str, str]) -> pd.DataFrame:
    return counts.assign(scope=counts["source"].map(scope_of_source).fillna("*"))


def template_index_dask(pages: dd.DataFrame, params: BoilerplateParams) -> tuple[TemplateIndex, dict]:
    """The template index of the whole corpus, equal to the local one.

    The counts are summed per template scope on the cluster and only lines on at least
    ``template_min_pages`` pages of a scope (the least any scope needs) come to the client, where
    :func:`newsaudit.steps.boilerplate.clean.build_template_index` picks the templates, as locally.
    """
    with _plain_strings():
        source_pages = _source_pages_dask(pages)
        # the scope of each source, as build_template_index assigns it (no lines needed)
        scope_map = build_template_index(
            pd.DataFrame(columns=COUNT_COLUMNS), source_pages, params
        ).scope_of_source
        counts = template_counts_dask(pages, params)
        meta = _scope_counts(counts._meta, scope_map)
        scoped = counts.map_partitions(_scope_counts, scope_map, meta=meta)
        by_scope = scoped.groupby(["scope", "line_hash"]).agg(
            {"pages": "sum", "long_plain": "first"}, split_out=_split_out(pages)
        )
        frequent = by_scope[by_scope["pages"] >= params.template_min_pages].reset_index()
        seen, frequent, n_counted = dask.compute(scoped["scope"].unique(), frequent, counts.shape[0])
    # one counts row per (scope, line): the scope's own source, '' for the corpus-wide pool
    frequent = frequent.assign(
        source=frequent["scope"].str.removeprefix("source:").where(frequent["scope"] != "*", "")
    )
    index = build_template_index(frequent[COUNT_COLUMNS], source_pages, params)
    lines = {str(s): index.lines.get(str(s), {}) for s in sorted(seen.tolist())}
    index = TemplateIndex(index.scope_of_source, lines)
    info = {"template_count_rows": int(n_counted), "template_candidate_rows": len(frequent)}
    return index, info


def _clean_partition(
    part: pd.DataFrame, templates: TemplateIndex, params: BoilerplateParams, line_model: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`annotate_batch` with one OpenMP/BLAS thread, as the streaming stage runs it: the
    workers are the parallelism, the line model's own threads would oversubscribe the cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return annotate_batch(part, templates, params, line_model)


def boilerplate_dask(
    client: Client,
    pages: pd.DataFrame | dd.DataFrame | Path,
    params: BoilerplateParams,
    line_model: Any,
    dask_params: DaskParams | None = None,
    notes: dict | None = None,
) -> tuple[dd.DataFrame, dd.DataFrame]:
    """Boilerplate on the cluster: (annotated pages, removed lines), lazy.

    The pages equal :func:`newsaudit.steps.boilerplate.clean.annotate_boilerplate`'s; the removed lines are
    listed in page order (locally sorted by doc_id and line: sort after computing to compare).
    Compute or persist both together: each is one output of the same cleaning task.
    """
    ddf = pages_frame(pages, (dask_params or DaskParams()).partition_rows)
    missing = {"doc_id", "raw_text", "status"} - set(ddf.columns)
    if missing:
        raise NewsauditError(f"pages table: missing column(s) {sorted(missing)}")
    with _plain_strings():
        templates, info = template_index_dask(ddf, params)
        log.info(
            "boilerplate (dask): site templates %s", {k: len(v) for k, v in templates.lines.items() if v}
        )
        t_fut, m_fut = _broadcast(client, templates), _broadcast(client, line_model)
        meta_out, meta_removed = annotate_batch(ddf._meta, templates, params, line_model)
        both = [delayed(_clean_partition, nout=2)(p, t_fut, params, m_fut) for p in ddf.to_delayed()]
        annotated = dd.from_delayed([b[0] for b in both], meta=meta_out, divisions=ddf.divisions)
        removed = dd.from_delayed([b[1] for b in both], meta=meta_removed)
    if notes is not None:
        notes["boilerplate"] = {
            "partitions": ddf.npartitions,
            "partition_wise": ["template line counts per partition", "cleaning (annotate_batch)"],
            "aggregations": [
                "accepted pages per source (tree reduction)",
                "template counts per (source, line hash): hash aggregation",
                "template counts per (scope, line hash): hash aggregation",
            ],
            "shuffles": [] if _split_out(ddf) == 1 else ["the two hash aggregations (split_out > 1)"],
            "broadcast": ["template index", "line model"],
            "client": ["template index from the lines on >= template_min_pages pages of a scope"],
            **info,
        }
    return annotated, removed


# --------------------------------------------------------------------------------------------
# Duplicates


def _prepare_partition(part: pd.DataFrame, params: DuplicatesParams) -> pd.DataFrame:
    """Repetition statistics, de-repeated text (as :func:`annotate_duplicates`), plus the exact key
    and text length of eligible pages (helper columns ``_len``, ``_key``)."""
    out = with_repetition(part, params)
    keys = eligible_exact_keys(out)
    out["_len"] = out["clean_text"].str.len().astype("float64")
    out["_key"] = keys
    return out


def _canonical_texts(part: pd.DataFrame, canon: pd.DataFrame) -> list[str]:
    return part.loc[canon.index, "clean_text"].tolist()


def _partition_line_counts(part: pd.DataFrame, canon: pd.DataFrame) -> pd.DataFrame:
    """Distinct-line counts over the partition's canonical pages (for the frequent-line filter)."""
    hashes = page_line_hashes(_canonical_texts(part, canon)) if len(canon) else np.empty(0, np.int64)
    counts = pd.Series(hashes, dtype="int64").value_counts()
    return pd.DataFrame({"line_hash": counts.index.to_numpy(np.int64), "pages": counts.to_numpy(np.int64)})


def _partition_signatures(
    part: pd.DataFrame, canon: pd.DataFrame, frequent: np.ndarray, params: DuplicatesParams
) -> pd.DataFrame:
    """MinHash signatures of the partition's canonical pages (frequent lines removed), one
    ``num_perm`` x uint32 row per page kept as bytes."""
    texts = remove_lines(_canonical_texts(part, canon), frequent, params.frequent_line_min_keep)
    hasher = MinHasher(num_perm=params.num_perm, shingle=params.shingle, seed=params.seed)
    sig, sizes = hasher.signatures(texts) if texts else (np.empty((0, params.num_perm), np.uint32), [])
    return pd.DataFrame(
        {
            "pos": canon["pos"].to_numpy(np.int64),
            "n_shingles": np.asarray(sizes, dtype=np.int64),
            "sig": pd.Series([row.tobytes() for row in sig], dtype=object).to_numpy(),
        }
    )


def _sig_matrix(values: pd.Series, num_perm: int) -> np.ndarray:
    return np.frombuffer(b"".join(values.tolist()), dtype=np.uint32).reshape(-1, num_perm)


def _band_rows(sigs: pd.DataFrame, bands: int, rows: int, num_perm: int) -> pd.DataFrame:
    """One (band, bucket key, page) row per band of each page with shingles."""
    active = sigs[sigs["n_shingles"] > 0]
    keys = band_keys(_sig_matrix(active["sig"], num_perm), bands, rows)
    return pd.DataFrame(
        {
            "band": np.tile(np.arange(bands, dtype=np.int64), len(active)),
            "key": keys.ravel().view(np.int64),
            "pos": np.repeat(active["pos"].to_numpy(np.int64), bands),
        }
    )


def _bucket_pairs(rows: pd.DataFrame, max_bucket_pairs: int) -> pd.DataFrame:
    """Candidate pairs of the whole buckets in this shuffled partition, by the local rule itself:
    each (band, key) bucket becomes one key of :func:`candidate_pairs`, ranked by canonical position
    (doc_id order), so big buckets get the same star around their smallest doc_id."""
    if rows.empty:
        return pd.DataFrame({"a": np.empty(0, np.int64), "b": np.empty(0, np.int64)})
    bucket = rows.groupby(["band", "key"], sort=False).ngroup().to_numpy(np.int64)
    pos = rows["pos"].to_numpy(np.int64)
    idx = candidate_pairs(bucket.reshape(-1, 1), max_bucket_pairs, rank=pos)
    pairs = np.sort(pos[idx], axis=1) if len(idx) else np.empty((0, 2), np.int64)
    return pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1]})


def _verify(pairs: pd.DataFrame, threshold: float, num_perm: int) -> pd.DataFrame:
    """Estimated Jaccard of each candidate pair (both signatures joined to it); pairs >= threshold."""
    m = len(pairs)
    sig = np.concatenate((_sig_matrix(pairs["sig_a"], num_perm), _sig_matrix(pairs["sig_b"], num_perm)))
    sim = estimated_jaccard(sig, np.stack((np.arange(m), np.arange(m) + m), axis=1))
    keep = sim >= threshold
    return pd.DataFrame(
        {
            "a": pairs["a"].to_numpy(np.int64)[keep],
            "b": pairs["b"].to_numpy(np.int64)[keep],
            "similarity": sim[keep],
        }
    )


def _assign_clusters(part: pd.DataFrame, fields: pd.DataFrame) -> pd.DataFrame:
    """The partition with the cluster columns, assigned as :func:`annotate_duplicates` does."""
    out = part.drop(columns=["_len", "_key"])
    out["exact_dup_of"] = pd.Series(None, index=out.index, dtype=object)
    out["near_dup_cluster"] = pd.Series(None, index=out.index, dtype=object)
    out["is_representative"] = False
    out["sim_to_representative"] = np.nan
    for col in CLUSTER_COLUMNS:
        out.loc[fields.index, col] = fields[col]
    out["is_representative"] = out["is_representative"].astype(bool)
    out["sim_to_representative"] = out["sim_to_representative"].astype(float)
    return out


def _empty_fields() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exact_dup_of": pd.Series(dtype=object),
            "near_dup_cluster": pd.Series(dtype=object),
            "is_representative": pd.Series(dtype=bool),
            "sim_to_representative": pd.Series(dtype=float),
        }
    )


@dataclass
class _Canonical:
    """Client-side facts of the exact-duplicate step: ``frame`` (doc_id, _len, _key, _canon per page
    with words, index = row number) and the canonical pages in doc_id order (``pos``)."""

    frame: pd.DataFrame
    canon: pd.DataFrame  # index = row number, columns doc_id, pos

    @property
    def ids(self) -> np.ndarray:
        return self.canon.sort_values("pos")["doc_id"].to_numpy(dtype=object)


def _canonical(rep: dd.DataFrame) -> _Canonical:
    """Canonical pages from the small per-page columns gathered on the client; fails on a repeated
    doc_id (the local stage's check, here by a distributed value count)."""
    keyed = rep[rep["_key"].notnull()][["doc_id", "_len", "_key"]]
    counts = rep["doc_id"].value_counts(split_out=_split_out(rep))
    meta, repeated = dask.compute(keyed, counts[counts > 1])
    if len(repeated):
        raise NewsauditError(f"pages table: doc_id {sorted(repeated.index)[0]!r} occurs more than once")
    meta = meta.assign(doc_id=meta["doc_id"].astype(str))
    if meta.empty:
        return _Canonical(
            meta.assign(_canon=pd.Series(dtype=object)), pd.DataFrame({"doc_id": [], "pos": []})
        )
    frame = canonical_pages(meta)
    canon = frame.loc[frame["_canon"] == frame["doc_id"], ["doc_id"]]
    canon = canon.assign(pos=np.arange(len(canon), dtype=np.int64))  # frame is in doc_id order
    return _Canonical(frame, canon)


def _frequent_line_hashes(
    client: Client, rep: dd.DataFrame, canon_parts: list, n_canon: int, params: DuplicatesParams
) -> np.ndarray:
    """Lines on at least ``frequent_line_pages`` canonical pages: per-partition distinct-line
    counts summed by a hash aggregation (the filter is off as locally for too few pages)."""
    if params.frequent_line_pages <= 0 or n_canon < params.frequent_line_pages:
        return np.empty(0, dtype=np.int64)
    meta = _partition_line_counts(rep._meta, pd.DataFrame({"pos": []}, index=pd.Index([], dtype=np.int64)))
    counts = _zip_map(_partition_line_counts, rep, canon_parts, meta)
    total = counts.groupby("line_hash")["pages"].sum(split_out=_split_out(rep))
    frequent = total[total >= params.frequent_line_pages].compute()
    return np.sort(frequent.index.to_numpy(np.int64))


def _candidate_pairs(sigs: dd.DataFrame, params: DuplicatesParams) -> dd.DataFrame:
    """LSH on the cluster: band rows shuffled on (band, key), pairs per bucket, duplicates dropped."""
    p = params.num_perm
    meta_rows = _band_rows(sigs._meta, params.bands, params.rows, p)
    band_rows = sigs.map_partitions(_band_rows, params.bands, params.rows, p, meta=meta_rows)
    buckets = band_rows.shuffle(on=["band", "key"])
    meta_pairs = _bucket_pairs(meta_rows, params.max_bucket_pairs)
    pairs = buckets.map_partitions(_bucket_pairs, params.max_bucket_pairs, meta=meta_pairs)
    return pairs.drop_duplicates(split_out=True)


def _verified_edges(
    client: Client, sigs: dd.DataFrame, cand: dd.DataFrame, params: DuplicatesParams, max_edges: int
) -> tuple[np.ndarray, int]:
    """Candidate pairs joined to both signatures (two hash joins), verified; the kept edges come to
    the client unless there are more than ``max_edges``."""
    sig_a = sigs[["pos", "sig"]].rename(columns={"pos": "a", "sig": "sig_a"})
    sig_b = sigs[["pos", "sig"]].rename(columns={"pos": "b", "sig": "sig_b"})
    joined = cand.merge(sig_a, on="a").merge(sig_b, on="b")
    meta = _verify(joined._meta, params.threshold, params.num_perm)
    verified = client.persist(joined.map_partitions(_verify, params.threshold, params.num_perm, meta=meta))
    n_edges = int(verified.shape[0].compute())
    if n_edges > max_edges:
        raise NewsauditError(
            f"duplicates (dask): {n_edges:,} verified near-duplicate edges exceed dask.client_edges_max = "
            f"{max_edges:,}; connected components on the cluster are not implemented: raise the limit "
            "if the client has the memory (16 bytes per edge), or tighten duplicates.threshold / bands"
        )
    edges = verified[["a", "b"]].compute()
    return edges.to_numpy(np.int64).reshape(-1, 2), n_edges


def _cluster_fields_split(
    canonical: _Canonical, labels: np.ndarray, sigs: dd.DataFrame, num_perm: int
) -> pd.DataFrame:
    """:func:`cluster_fields` with only the signatures it needs: clusters of one canonical page (a
    page and its exact copies) have similarity 1 whatever the signature, so only pages of clusters
    with several canonical pages bring theirs to the client."""
    ids = canonical.ids
    names = ids[labels]  # cluster name per canonical page, as cluster_fields names them
    n_members = pd.Series(names).map(pd.Series(names).value_counts()).to_numpy()
    multi = np.flatnonzero(n_members > 1)
    single = np.flatnonzero(n_members == 1)
    frame = canonical.frame
    parts = []
    if single.size:
        near = NearDuplicates(
            ids=ids[single].tolist(),
            labels=np.arange(single.size),
            pairs=pd.DataFrame(),
            signatures=np.zeros((single.size, 1), dtype=np.uint32),
            n_candidates=0,
        )
        parts.append(cluster_fields(frame[frame["_canon"].isin(set(ids[single]))], near))
    if multi.size:
        got = sigs[sigs["pos"].isin(multi.tolist())][["pos", "sig"]].compute().sort_values("pos")
        codes, _ = pd.factorize(names[multi])
        first = np.full(codes.max() + 1, multi.size, dtype=np.int64)
        np.minimum.at(first, codes, np.arange(multi.size))
        near = NearDuplicates(
            ids=ids[multi].tolist(),
            labels=first[codes],
            pairs=pd.DataFrame(),
            signatures=_sig_matrix(got["sig"], num_perm),
            n_candidates=0,
        )
        parts.append(cluster_fields(frame[frame["_canon"].isin(set(ids[multi]))], near))
    return pd.concat(parts).loc[frame.index] if parts else _empty_fields()


def duplicates_dask(
    client: Client,
    pages: pd.DataFrame | dd.DataFrame | Path,
    params: DuplicatesParams,
    dask_params: DaskParams | None = None,
    notes: dict | None = None,
) -> dd.DataFrame:
    """The duplicates stage on the cluster; computes to :func:`annotate_duplicates`'s table.

    Signatures stay on the cluster: verification joins them to the candidate pairs, and only the
    pages of multi-page clusters send theirs to the client (for ``sim_to_representative``).
    """
    dp = dask_params or DaskParams()
    ddf = pages_frame(pages, dp.partition_rows)
    missing = {"doc_id", "clean_text"} - set(ddf.columns)
    if missing:
        raise NewsauditError(f"pages table lacks column(s) {sorted(missing)} needed by the duplicates stage")
    one = params.model_copy(update={"workers": 1})  # no process pool inside a worker
    with _plain_strings():
        rep = client.persist(
            ddf.map_partitions(_prepare_partition, one, meta=_prepare_partition(ddf._meta, one))
        )
        canonical = _canonical(rep)
        n_canon = len(canonical.canon)
        canon_parts = _scatter_rows(client, canonical.canon, rep.divisions)
        info: dict[str, Any] = {"pages_with_words": len(canonical.frame), "canonical_pages": n_canon}
        fields = _empty_fields()
        if n_canon:
            fields = _clusters(client, rep, canonical, canon_parts, params, dp, info)
        field_parts = _scatter_rows(client, fields, rep.divisions)
        meta = _assign_clusters(rep._meta, _empty_fields())
        out = _zip_map(_assign_clusters, rep, field_parts, meta)
    log.info("duplicates (dask): %s", info)
    if notes is not None:
        notes["duplicates"] = _duplicates_notes(ddf.npartitions, n_canon > 1, info)
    return out


def _clusters(
    client: Client,
    rep: dd.DataFrame,
    canonical: _Canonical,
    canon_parts: list,
    params: DuplicatesParams,
    dp: DaskParams,
    info: dict,
) -> pd.DataFrame:
    """Near-duplicate clusters of the canonical pages: the cluster columns of every page with words."""
    n_canon = len(canonical.canon)
    frequent = _frequent_line_hashes(client, rep, canon_parts, n_canon, params)
    info["frequent_lines"] = int(frequent.size)
    empty_canon = pd.DataFrame({"pos": pd.Series(dtype=np.int64)}, index=pd.Index([], dtype=np.int64))
    meta = _partition_signatures(rep._meta, empty_canon, frequent, params)
    sigs = _zip_map(_partition_signatures, rep, canon_parts, meta, _broadcast(client, frequent), params)
    sigs = client.persist(sigs)
    edges, n_candidates = np.empty((0, 2), np.int64), 0
    if n_canon > 1:
        cand = client.persist(_candidate_pairs(sigs, params))
        n_candidates = int(cand.shape[0].compute())
        edges, info["verified_edges"] = _verified_edges(client, sigs, cand, params, dp.client_edges_max)
    info["candidate_pairs"] = n_candidates
    labels = connected_labels(n_canon, edges)
    labels[sigs[sigs["n_shingles"] == 0]["pos"].compute().to_numpy(np.int64)] = -1
    return _cluster_fields_split(canonical, labels, sigs, params.num_perm)


def _duplicates_notes(partitions: int, lsh: bool, info: dict) -> dict:
    return {
        "partitions": partitions,
        "partition_wise": [
            "repetition statistics, repeated paragraphs, exact keys",
            "distinct-line counts of canonical pages",
            "MinHash signatures of canonical pages",
            "band keys; candidate pairs per bucket; verification",
            "cluster columns joined to the rows (pieces cut at the partition boundaries)",
        ],
        "aggregations": ["doc_id value counts (uniqueness)", "frequent-line counts per line hash"],
        "shuffles": [
            "LSH buckets: one row per (page, band) shuffled on (band, key)",
            "candidate pairs: drop_duplicates (pairs found in several bands)",
            "verification: pairs joined to signatures on a, then on b (two hash joins)",
        ]
        if lsh
        else [],
        "broadcast": ["frequent line hashes"],
        "client": [
            "doc_id, length and exact key of each page with words: canonical pages",
            "connected components over the verified edges",
            "signatures of pages in multi-page clusters (similarity to the representative)",
        ],
        **info,
    }


# --------------------------------------------------------------------------------------------
# Predict


def _assign_sizes(part: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    out = part.copy()
    out["cluster_size"] = sizes["cluster_size"].reindex(out.index).fillna(1).astype("int64").to_numpy()
    return out


def _cluster_sizes(ddf: dd.DataFrame) -> dd.DataFrame:
    """Pages per near-duplicate cluster, per row (lazy, NaN outside clusters), back in row order:
    a value count, a join to the rows, a shuffle into the pages' divisions."""
    counts = ddf["near_dup_cluster"].dropna().value_counts(split_out=_split_out(ddf))
    counts = counts.rename("cluster_size").to_frame()
    rows = ddf[["near_dup_cluster"]].reset_index()
    rows = rows.rename(columns={rows.columns[0]: "_row"})  # the row number, whatever the index's name
    joined = rows.merge(counts, left_on="near_dup_cluster", right_index=True, how="left")
    return joined[["_row", "cluster_size"]].set_index("_row", divisions=ddf.divisions)


def predict_dask(
    client: Client,
    pages: pd.DataFrame | dd.DataFrame | Path,
    model_bundle: dict[str, Any],
    params: PredictParams,
    dask_params: DaskParams | None = None,
    notes: dict | None = None,
) -> dd.DataFrame:
    """:func:`annotate_predictions` per partition with the model sent once to each worker;
    ``cluster_size`` is corpus-wide (a partition sees only part of a cluster)."""
    ddf = pages_frame(pages, (dask_params or DaskParams()).partition_rows)
    if params.text_column not in ddf.columns:
        raise NewsauditError(f"pages table: no '{params.text_column}' column (params predict.text_column)")
    with _plain_strings():
        model = _broadcast(client, model_bundle)
        meta = annotate_predictions(ddf._meta, model_bundle, params)
        out = ddf.map_partitions(annotate_predictions, model, params, meta=meta)
        if "near_dup_cluster" in ddf.columns:
            sizes = client.persist(_cluster_sizes(ddf))
            parts = sizes.to_delayed()
            out = dd.from_delayed(
                [delayed(_assign_sizes)(p, s) for p, s in zip(out.to_delayed(), parts, strict=True)],
                meta=meta,
                divisions=ddf.divisions,
            )
    if notes is not None:
        notes["predict"] = {
            "partitions": ddf.npartitions,
            "partition_wise": ["scoring (annotate_predictions)"],
            "aggregations": ["near_dup_cluster value counts"],
            "shuffles": ["cluster sizes joined to the rows", "sizes shuffled back into row order"]
            if "near_dup_cluster" in ddf.columns
            else [],
            "broadcast": ["model bundle"],
            "client": [],
        }
    return out


# --------------------------------------------------------------------------------------------
# The chain


def audit_pages_dask(
    client: Client,
    pages: pd.DataFrame | Path,
    params: dict[str, Any],
    line_model: Any,
    model_bundle: dict[str, Any] | None,
) -> DaskAudit:
    """boilerplate -> duplicates -> predict on the cluster: the table of the local chain
    ``annotate_boilerplate`` -> ``annotate_duplicates`` -> ``annotate_predictions`` (same rows, index,
    columns and dtypes), the removed lines sorted as ``annotate_boilerplate`` sorts them, and per
    stage what ran partition-wise, what was aggregated, shuffled, broadcast or done on the client.
    ``model_bundle=None`` stops after duplicates (no classifier)."""
    dp = section(params, "dask", DaskParams)
    notes: dict[str, Any] = {"workers": len(client.scheduler_info().get("workers", {}))}
    ddf = pages_frame(pages, dp.partition_rows)
    bp = section(params, "boilerplate", BoilerplateParams)
    clean, removed = boilerplate_dask(client, ddf, bp, line_model, dp, notes)
    clean, removed = client.persist([clean, removed])  # one cleaning pass feeds both
    dup = section(params, "duplicates", DuplicatesParams)
    out = duplicates_dask(client, clean, dup, dp, notes)
    if model_bundle is not None:
        out = predict_dask(client, out, model_bundle, section(params, "predict", PredictParams), dp, notes)
    with _plain_strings():
        table, removed_lines = dask.compute(out, removed)
    if isinstance(pages, pd.DataFrame):
        table.index = pages.index
    removed_lines = removed_lines.sort_values(["doc_id", "line_no"], kind="stable").reset_index(drop=True)
    return DaskAudit(table, removed_lines, notes)
