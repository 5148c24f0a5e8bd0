"""What the parity test does not cover on the Dask engine: Parquet read in row slices exactly as
pandas reads the file, frames renumbered by row, the LSH notes, clear errors, and the stage
commands on ``--engine dask`` writing the stream engine's files (2-worker LocalCluster)."""

from __future__ import annotations

import json

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from newsaudit import cli
from newsaudit.core.config import DaskSettings, Execution
from newsaudit.core.errors import NewsauditError
from newsaudit.core.step import output_schema
from newsaudit.engines import memory, stream
from newsaudit.engines.dask import lsh
from newsaudit.engines.dask import run as dask_run
from newsaudit.engines.dask.cluster import connect, plain_strings
from newsaudit.engines.dask.frames import pages_frame, split_rows
from newsaudit.engines.dask.lsh import forest
from newsaudit.engines.dispatch import run_step
from newsaudit.lib.graph import connected_labels
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.step import BoilerplateStep
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.step import DedupStep
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams
from newsaudit.steps.ingest.step import IngestStep

ROWS = 16  # pages per partition: the corpus spans several partitions
SETTINGS = DaskSettings(partition_rows=ROWS, workers=2)
BP = BoilerplateParams()
DUP = DuplicatesParams(max_bucket_pairs=3, frequent_line_pages=4)  # small: big buckets are stars


@pytest.fixture(scope="module")
def tables(small_corpus, tmp_path_factory):
    """The small corpus ingested, cleaned (memory engine, row groups of 10) and their paths."""
    tmp = tmp_path_factory.mktemp("dask")
    ex = Execution(engine="memory")
    pages, clean = tmp / "pages.parquet", tmp / "clean.parquet"
    run_step(
        IngestStep(CorpusParams(path=str(small_corpus)), IngestParams()), ex, None, pages, row_group_size=10
    )
    run_step(BoilerplateStep(BP, None), ex, pages, clean, {"removed_lines": tmp / "removed.parquet"}, 10)
    return pages, clean


def _compute(client, ddf):
    with plain_strings():
        return client.compute(ddf, sync=True)


def test_parquet_partitions_read_as_pandas_reads_the_file(tables):
    for path in tables:  # the ingest table, and the cleaned one (Int64, boolean, string dtypes)
        whole = pd.read_parquet(path)
        ddf = pages_frame(path, ROWS)
        assert ddf.npartitions == -(-len(whole) // ROWS) and ddf.known_divisions
        pd.testing.assert_frame_equal(ddf.compute(), whole, check_exact=True)


def test_a_column_with_nulls_in_one_row_group_is_float_in_every_slice(tmp_path):
    """pandas reads an integer or boolean column with a null anywhere as float / object for the whole
    file: a slice without nulls must too."""
    path = tmp_path / "t.parquet"
    table = pa.table(
        {
            "n": pa.array([1, 2, 3, 4, None, 6], pa.int64()),
            "flag": pa.array([True, False, True, True, None, False]),
            "full": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
        }
    )
    pq.write_table(table, path, row_group_size=3)
    ddf = pages_frame(path, 2)
    got = ddf.compute()
    pd.testing.assert_frame_equal(got, pd.read_parquet(path), check_exact=True)
    assert got["n"].dtype == np.float64 and got["flag"].dtype == object and got["full"].dtype == np.int64
    assert ddf.partitions[0].compute()["n"].dtype == np.float64  # rows 0-1: no null there


def test_a_folder_of_part_files_reads_as_one_table(tmp_path, tables):
    whole = pd.read_parquet(tables[0])
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, start in enumerate(range(0, len(whole), 30)):
        whole.iloc[start : start + 30].to_parquet(folder / f"part.{i}.parquet", index=False)
    pd.testing.assert_frame_equal(pages_frame(folder, ROWS).compute(), whole, check_exact=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NewsauditError, match="no Parquet files"):
        pages_frame(tmp_path / "empty", ROWS)
    with pytest.raises(NewsauditError, match="pages table not found"):
        pages_frame(tmp_path / "nope.parquet", ROWS)


def test_frames_are_indexed_by_row_number(tables):
    pages = pd.read_parquet(tables[0])
    shuffled = pages.sample(frac=1, random_state=3)
    shuffled.index = [f"row-{i}" for i in shuffled.index]
    ddf = pages_frame(shuffled, ROWS)  # a pandas frame's own index is replaced by row positions
    assert ddf.known_divisions
    pd.testing.assert_frame_equal(ddf.compute(), shuffled.reset_index(drop=True))
    with dask.config.set({"dataframe.convert-string": False}):  # pandas' dtypes, as the engine reads
        unknown = dd.from_pandas(pages, npartitions=5).clear_divisions()
    renumbered = pages_frame(unknown, ROWS)
    assert not unknown.known_divisions and renumbered.known_divisions
    assert renumbered.npartitions == 5
    pd.testing.assert_frame_equal(renumbered.compute(), pages)


def test_split_rows_cuts_a_row_table_at_the_partition_boundaries():
    frame = pd.DataFrame({"v": [10, 11, 13, 17]}, index=[7, 0, 3, 8])
    parts = split_rows(frame, (0, 4, 8, 9))
    assert [p.index.tolist() for p in parts] == [[0, 3], [7], [8]]


def test_a_frame_of_unknown_divisions_gives_the_in_memory_rows(client, tables):
    pages = pd.read_parquet(tables[0])
    with dask.config.set({"dataframe.convert-string": False}):
        unknown = dd.from_pandas(pages, npartitions=5).clear_divisions()
    out, side, _ = dask_run.run(client, BoilerplateStep(BP, None), pages_frame(unknown, ROWS), SETTINGS)
    want, want_side = memory.run(BoilerplateStep(BP, None), pages)
    pd.testing.assert_frame_equal(_compute(client, out), want, check_exact=True)
    removed = _compute(client, side["removed_lines"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(removed, want_side["removed_lines"], check_exact=True)


def test_lsh_on_the_cluster_finds_the_same_candidates_and_edges(client, tables, tmp_path):
    """The shuffled LSH keeps big buckets as stars exactly as one machine does."""
    ddf = pages_frame(tables[1], ROWS)
    _, _, state = dask_run.run(client, DedupStep(DUP), ddf, SETTINGS)
    local = stream.run(DedupStep(DUP), stream.StreamRun(tables[1], tmp_path / "d.parquet", batch_rows=ROWS))
    notes, want = state["near_notes"], local["near_notes"]
    assert (notes["candidate_pairs"], notes["verified_edges"]) == (
        want["candidate_pairs"],
        want["verified_edges"],
    )
    assert notes["verified_edges"] > 10
    assert any("shuffled on (band, key)" in s for s in notes["shuffles"])
    loose = DUP.model_copy(update={"max_bucket_pairs": 50})
    _, _, all_pairs = dask_run.run(client, DedupStep(loose), ddf, SETTINGS)
    assert notes["candidate_pairs"] < all_pairs["near_notes"]["candidate_pairs"]  # stars were used


def test_components_on_the_cluster_give_the_local_clusters(client, tables, tmp_path):
    """Above ``client_edges_max`` the verified edges stay on the cluster (forests merged in a tree):
    the output table is the in-memory engine's, bit for bit."""
    tight = SETTINGS.model_copy(update={"client_edges_max": 1})
    out, _, state = dask_run.run(client, DedupStep(DUP), pages_frame(tables[1], ROWS), tight)
    want_state: dict = {}
    want, _ = memory.run(DedupStep(DUP), pd.read_parquet(tables[1]), want_state)
    assert state["near_notes"]["components_on"] == "cluster"
    assert state["near_notes"]["edge_partitions"] > 1  # forests merged across partitions
    assert state["near_notes"]["verified_edges"] == want_state["near_notes"]["verified_edges"] > 10
    assert any("union-find" in s for s in state["near_notes"]["shuffles"])
    schema = output_schema(pq.read_schema(tables[1]), DedupStep(DUP))
    for name, frame in (("dask", _compute(client, out)), ("memory", want)):
        stream.write_frame(frame, tmp_path / f"{name}.parquet", schema, ROWS)
    got = pd.read_parquet(tmp_path / "dask.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "memory.parquet"), check_exact=True)
    assert got["near_dup_cluster"].value_counts().max() > 5


def test_similarity_fetched_a_chunk_of_pairs_at_a_time_gives_the_local_table(
    client, tables, tmp_path, monkeypatch
):
    """The client gathers signatures for a chunk of (page, representative) pairs at a time; with
    chunks of 3 pairs (many chunks) the similarities, in order, are the in-memory engine's."""
    monkeypatch.setattr(lsh, "PAIR_CHUNK", 3)
    out, _, _ = dask_run.run(client, DedupStep(DUP), pages_frame(tables[1], ROWS), SETTINGS)
    want, _ = memory.run(DedupStep(DUP), pd.read_parquet(tables[1]), {})
    got = _compute(client, out).sort_index()
    in_clusters = want["sim_to_representative"].notna() & ~want["is_representative"]
    assert in_clusters.sum() > 3 * 3  # more pairs than three chunks
    np.testing.assert_array_equal(
        got["sim_to_representative"].to_numpy(float), want["sim_to_representative"].to_numpy(float)
    )
    assert got["near_dup_cluster"].fillna("").tolist() == want["near_dup_cluster"].fillna("").tolist()


def test_forests_merged_in_any_tree_give_the_connected_components():
    """Random graphs cut into edge partitions, reduced in trees of several shapes: the labels of
    :func:`connected_labels` (smallest node of each component), including chains across parts."""
    rng = np.random.default_rng(5)
    for n, m in ((50, 40), (400, 300), (1000, 1500)):
        edges = rng.integers(0, n, size=(m, 2))
        edges = np.concatenate((edges, np.stack((np.arange(n - 1), np.arange(1, n)), 1)[::7]))
        want = connected_labels(n, edges)
        for n_parts, fan_in in ((1, 2), (7, 2), (13, 8)):
            parts = [pd.DataFrame(p, columns=["a", "b"]) for p in np.array_split(edges, n_parts)]
            level = [forest([p]) for p in parts]
            while len(level) > 1:
                level = [forest(level[i : i + fan_in]) for i in range(0, len(level), fan_in)]
            pairs = level[0].to_numpy()
            labels = np.arange(n)
            labels[pairs[:, 0]] = pairs[:, 1]
            np.testing.assert_array_equal(labels, want)
    assert forest([]).empty


def test_repeated_doc_id_fails(client):
    frame = pd.DataFrame({"doc_id": ["a", "a"], "clean_text": ["x y", "z w"]})
    with pytest.raises(NewsauditError, match="doc_id 'a'"):
        dask_run.run(client, DedupStep(DUP), pages_frame(frame, ROWS), SETTINGS)


def test_missing_columns_are_named_before_any_work(client):
    frame = pd.DataFrame({"doc_id": ["a"], "raw_text": ["x"]})
    with pytest.raises(NewsauditError, match=r"lacks column\(s\) \['status'\]"):
        dask_run.run(client, BoilerplateStep(BP, None), pages_frame(frame, ROWS), SETTINGS)


def test_connect_starts_and_stops_a_local_cluster():
    with connect(DaskSettings(workers=1)) as c:
        assert len(c.scheduler_info()["workers"]) == 1
        assert c.submit(sum, [1, 2]).result() == 3
        assert not dask.config.get("dataframe.convert-string")  # pandas' own string dtypes inside
    assert c.status == "closed"


# --------------------------------------------------------------------------------------------
# The stage commands honour --engine dask (each starts its own LocalCluster: slow)

TEXT = "Gunmen attacked a checkpoint in the north of the country on Monday, killing two soldiers."


@pytest.mark.slow
def test_ingest_and_duplicates_stages_on_both_engines(tmp_path):
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    for i in range(10):
        (corpus / f"site{i % 2}.example_{i:03d}.txt").write_text(f"{TEXT} Report {i} of the week.\n" * 3)
    (corpus / "site0.example_copy.txt").write_text((corpus / "site0.example_004.txt").read_text())
    (corpus / "empty.txt").write_bytes(b"")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"execution": {"dask": {"workers": 2, "partition_rows": 4}}}))
    out = {}
    for engine in ("stream", "dask"):
        d = tmp_path / engine
        common = ["--params", str(params)]
        args = [*common, "ingest", "--corpus", str(corpus), "--out", str(d / "pages.parquet")]
        args += [
            "--manifest",
            str(d / "manifest.csv"),
            "--metrics",
            str(d / "ingest.json"),
            "--engine",
            engine,
        ]
        assert cli.main(args) == 0
        pages = pd.read_parquet(d / "pages.parquet")
        pages.assign(clean_text=pages["raw_text"]).to_parquet(d / "clean.parquet", index=False)
        args = [
            *common,
            "duplicates",
            "--input",
            str(d / "clean.parquet"),
            "--output",
            str(d / "dedup.parquet"),
        ]
        args += ["--metrics", str(d / "dup.json"), "--plots", str(d / "plots"), "--engine", engine]
        assert cli.main(args) == 0
        out[engine] = d
    for name in ("pages.parquet", "dedup.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out["stream"] / name), pd.read_parquet(out["dask"] / name), check_exact=True
        )
    for name in ("manifest.csv", "ingest.json", "dup.json", "plots/cluster_sizes.csv"):
        assert (out["stream"] / name).read_bytes() == (out["dask"] / name).read_bytes(), name
    assert json.loads((out["dask"] / "ingest.json").read_text())["rejected"] == 1
    dedup = pd.read_parquet(out["dask"] / "dedup.parquet")
    assert dedup["exact_dup_of"].notna().sum() == 1 and dedup["repeated_paragraphs_removed"].sum() == 22
