"""The stream engine's bounded-memory paths give the in-memory tables bit for bit: template and
frequent-line counts spilled to disk on every merge (a budget of one row), signatures on disk."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from newsaudit.core.config import Execution
from newsaudit.engines.dispatch import run_step
from newsaudit.engines.stream import batches
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.step import BoilerplateStep
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.step import DedupStep
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams
from newsaudit.steps.ingest.step import IngestStep

ROWS = 16
DUP = DuplicatesParams(max_bucket_pairs=3, frequent_line_pages=4)


def test_spilled_counts_and_stored_signatures_give_the_in_memory_tables(small_corpus, tmp_path):
    pages = tmp_path / "pages.parquet"
    ingest = IngestStep(CorpusParams(path=str(small_corpus)), IngestParams(row_group_size=ROWS))
    run_step(ingest, Execution(engine="memory"), None, pages, row_group_size=ROWS)
    memory, stream = Execution(engine="memory"), Execution(engine="stream")
    out = {}
    for name, ex, budget in (("memory", memory, 10**9), ("stream", stream, 1)):
        clean = tmp_path / f"clean-{name}.parquet"
        side = {"removed_lines": tmp_path / f"removed-{name}.parquet"}
        run_step(BoilerplateStep(BoilerplateParams(), None, count_rows=budget), ex, pages, clean, side, ROWS)
        dedup = tmp_path / f"dedup-{name}.parquet"
        state = run_step(DedupStep(DUP, count_rows=budget), ex, clean, dedup, {}, ROWS)
        out[name] = [pd.read_parquet(p) for p in (clean, side["removed_lines"], dedup)], state
    for got, want in zip(out["stream"][0], out["memory"][0], strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert out["stream"][1]["near_notes"] == out["memory"][1]["near_notes"]
    assert out["memory"][0][2]["near_dup_cluster"].value_counts().max() > 5
    assert len(out["stream"][1]["frequent_lines"]) > 0  # the frequent-line filter took part
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name or ".npy" in p.name) == []


def test_reading_batch_by_batch_holds_a_batch_not_the_table(tmp_path):
    """pyarrow's pre-buffering reader keeps every column chunk it has read: a pass over a table
    would end up holding all of it. The engine's reader must not."""
    path = tmp_path / "pages.parquet"
    group_rows, groups = 200, 40
    text = pa.array([f"{i:06d} " + "w" * 5000 for i in range(group_rows * groups)])  # ~1 MB a group
    pq.write_table(pa.table({"clean_text": text}), path, row_group_size=group_rows, compression="none")
    del text
    start = pa.total_allocated_bytes()
    held, rows = 0, 0
    for batch in batches(path, group_rows, ["clean_text"]):
        rows += len(batch)
        held = max(held, pa.total_allocated_bytes() - start)
    assert rows == group_rows * groups
    assert held < 8 * 2**20  # a few row groups (1 MB each) at most, not the 40 MB table
