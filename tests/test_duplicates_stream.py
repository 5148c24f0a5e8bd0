"""The batch-wise stage gives the same table as the in-memory function, whatever the batch size."""

from __future__ import annotations

import pandas as pd
import pytest
from test_duplicates import _article, _edit, _pages

from newsaudit.steps.dedup.step import DuplicatesParams, annotate_duplicates
from newsaudit.duplicates_stream import dedup_parquet
from newsaudit.core.errors import NewsauditError


def _bigger() -> pd.DataFrame:
    base = _pages()
    extra = []
    for i in range(30):  # a site whose footer line repeats on every page (frequent-line filter)
        text = _article(100 + i % 12) + "\nFollow us for more news from the Example Daily"
        if i >= 12:
            text = _edit(text, i)
        extra.append((f"s{i:02d}", text, "accepted", False, "example.com"))
    frame = pd.DataFrame(extra, columns=["doc_id", "clean_text", "status", "is_error_page", "source"])
    frame["raw_text"] = frame["clean_text"]
    return pd.concat([base, frame], ignore_index=True)


@pytest.mark.parametrize("batch", [1, 4, 1000])
def test_same_as_in_memory(tmp_path, batch):
    pages = _bigger().sample(frac=1, random_state=batch).reset_index(drop=True)
    src = tmp_path / "in.parquet"
    pages.to_parquet(src, index=False)
    params = DuplicatesParams(workers=1 + (batch == 4), repetition_batch=batch, frequent_line_pages=5)
    dedup_parquet(src, tmp_path / "out.parquet", params)
    streamed = pd.read_parquet(tmp_path / "out.parquet")
    expected = annotate_duplicates(pd.read_parquet(src), params)
    assert list(streamed.columns) == list(expected.columns)
    assert streamed["near_dup_cluster"].notna().sum() > 30
    for col in expected.columns:
        a, b = streamed[col], expected[col]
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            pd.testing.assert_series_equal(a.astype(float), b.astype(float), check_names=False)
        else:
            assert (
                a.astype(object).where(a.notna(), None).tolist()
                == b.astype(object).where(b.notna(), None).tolist()
            ), col
    assert not (tmp_path / "out.parquet.partial").exists()


def test_duplicate_doc_ids_fail(tmp_path):
    pages = pd.DataFrame({"doc_id": ["a", "a"], "clean_text": ["x y", "z w"]})
    pages.to_parquet(tmp_path / "in.parquet", index=False)
    with pytest.raises(NewsauditError, match="doc_id 'a'"):
        dedup_parquet(tmp_path / "in.parquet", tmp_path / "out.parquet", DuplicatesParams(repetition_batch=1))
