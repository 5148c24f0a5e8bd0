"""Pages tables in an object store: the per-page steps read ``s3://`` URLs and write their outputs
there, on the Dask engine (workers open their own slices) and on the stream engine, against a real
S3-compatible server started by the test (moto in server mode, reached over HTTP through s3fs).

Ingest reads local files (its readers belong to the ingest step), so the corpus enters the store as
its ingested pages table; from there boilerplate, duplicates and classify run store to store and
give the in-memory engine's local tables bit for bit.
"""

from __future__ import annotations

import pandas as pd
import pytest
import s3fs
from distributed import Client, LocalCluster

from newsaudit.core.config import DaskSettings, Execution, StepWorkers
from newsaudit.engines.dispatch import run_step
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.step import BoilerplateStep
from newsaudit.steps.classify.score import ClassifyParams
from newsaudit.steps.classify.step import ClassifyStep
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.step import DedupStep
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams
from newsaudit.steps.ingest.step import IngestStep

ROWS = 16
DUP = DuplicatesParams(max_bucket_pairs=3, frequent_line_pages=4)


@pytest.fixture(scope="module")
def cluster_address(s3_bucket):
    """A 2-worker LocalCluster started after the S3 variables are set (its workers inherit them)."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster),
    ):
        yield cluster.scheduler_address


def _steps(bundle):
    return [
        ("boilerplate", BoilerplateStep(BoilerplateParams(), None), ("removed_lines",)),
        ("duplicates", DedupStep(DUP), ()),
        ("classify", ClassifyStep(ClassifyParams(min_chars=50), bundle), ()),
    ]


def _chain(ex: Execution, pages: str, folder: str, bundle) -> dict[str, str]:
    """boilerplate -> duplicates -> classify from ``pages`` into ``folder`` (paths or URLs)."""
    out, src = {}, pages
    for name, step, side in _steps(bundle):
        dst = f"{folder}/{name}.parquet"
        sides = {s: f"{folder}/{name}-{s}.parquet" for s in side}
        run_step(step, ex, src, dst, sides, batch_rows=ROWS, workers=2, row_group_size=ROWS)
        out[name], src = dst, dst
        out.update({f"{name}-{s}": p for s, p in sides.items()})
    return out


def test_steps_read_and_write_an_object_store(
    s3_bucket, cluster_address, small_corpus, small_bundle, tmp_path
):
    local_pages = tmp_path / "pages.parquet"
    ingest = IngestStep(CorpusParams(path=str(small_corpus)), IngestParams(row_group_size=ROWS))
    run_step(ingest, Execution(engine="memory"), None, local_pages, row_group_size=ROWS)
    fs = s3fs.S3FileSystem()
    pages_url = f"{s3_bucket}/corpus/pages.parquet"
    fs.put(str(local_pages), pages_url)
    want = _chain(Execution(engine="memory"), str(local_pages), str(tmp_path / "local"), small_bundle)
    engines = {
        "dask": Execution(engine="dask", dask=DaskSettings(scheduler=cluster_address, partition_rows=ROWS)),
        "stream": Execution(
            engine="stream", workers=StepWorkers(ingest=2, boilerplate=2, duplicates=2, classify=2)
        ),
    }
    for name, ex in engines.items():
        got = _chain(ex, pages_url, f"{s3_bucket}/{name}", small_bundle)
        for table, url in got.items():
            assert url.startswith("s3://")
            pd.testing.assert_frame_equal(
                pd.read_parquet(url), pd.read_parquet(want[table]), check_exact=True, obj=f"{name} {table}"
            )
        listed = fs.ls(f"{s3_bucket}/{name}")
        assert not [p for p in listed if p.endswith(".partial")], listed  # renamed when complete
    final = pd.read_parquet(f"{s3_bucket}/dask/classify.parquet")
    assert final["near_dup_cluster"].value_counts().max() > 5 and final["classified"].sum() > 20
