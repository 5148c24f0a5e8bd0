"""Reading back a written pages table without its text (what the statistics need)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from newsaudit.lib import storage
from newsaudit.lib.tables import column_batches, has_text, read_columns, read_small


def test_read_small_leaves_the_text_columns_out(tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame(
        {"doc_id": ["a", "b"], "raw_text": ["x", None], "clean_text": ["x", None], "n": [1, 2]}
    ).to_parquet(path)
    small = read_small(path)
    assert list(small.columns) == ["doc_id", "n"] and len(small) == 2


def test_has_text_batch_by_batch(tmp_path):
    path = tmp_path / "p.parquet"
    table = pa.table({"clean_text": ["a", None, "", None, "b"]})
    pq.write_table(table, path, row_group_size=2)
    assert has_text(path).tolist() == [True, False, True, False, True]  # "" is a text (empty)
    empty = tmp_path / "e.parquet"
    pq.write_table(table.slice(0, 0), empty)
    assert has_text(empty).tolist() == []


def test_read_columns_reads_only_the_wanted_columns_the_table_has(tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame(
        {"doc_id": ["a", "b"], "url": ["u", "v"], "clean_text": ["x", None], "n": [1, 2]}
    ).to_parquet(path)
    got = read_columns(path, ("n", "doc_id", "missing"))
    assert list(got.columns) == ["doc_id", "n"] and got["n"].tolist() == [1, 2]  # the table's order


def test_has_text_holds_a_batch_of_text_not_the_table(tmp_path, monkeypatch):
    """pyarrow's default batch is 65,536 rows (hundreds of MB of news text): has_text reads fewer."""
    path = tmp_path / "p.parquet"
    n = 40_000
    text = pa.array([None if i % 7 == 0 else f"{i:06d} " + "w" * 1000 for i in range(n)])  # ~40 MB
    pq.write_table(pa.table({"clean_text": text}), path, row_group_size=1000, compression="none")
    del text
    start, held = pa.total_allocated_bytes(), []
    real = storage.parquet_file

    def spied(p):
        pf = real(p)
        read = pf.iter_batches

        def each(*args, **kwargs):
            for batch in read(*args, **kwargs):
                held.append(pa.total_allocated_bytes() - start)
                yield batch

        pf.iter_batches = each
        return pf

    monkeypatch.setattr(storage, "parquet_file", spied)
    got = has_text(path)
    assert got.tolist() == [i % 7 != 0 for i in range(n)]
    assert len(held) > 1 and max(held) < 16 * 2**20  # a few batches of ~2 MB, not the 40 MB column


def test_column_batches_cut_the_wanted_columns_into_row_batches(tmp_path):
    path = tmp_path / "p.parquet"
    frame = pd.DataFrame({"doc_id": list("abcde"), "clean_text": list("vwxyz"), "n": range(5)})
    frame.to_parquet(path)
    parts = list(column_batches(path, ("n", "doc_id", "missing"), rows=2))
    assert [len(p) for p in parts] == [2, 2, 1]
    assert pd.concat(parts, ignore_index=True).equals(read_columns(path, ("n", "doc_id")))
