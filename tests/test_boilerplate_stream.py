"""The streaming boilerplate stage gives the in-memory stage's rows, batch size and workers aside."""

from __future__ import annotations

import pandas as pd
import pytest
from test_boilerplate import ARTICLE, MENAFN_PAGE, _pages

from newsaudit.steps.boilerplate.clean import BoilerplateParams, annotate_boilerplate, corpus_stats
from newsaudit.boilerplate_stream import clean_parquet


def _corpus() -> pd.DataFrame:
    """Two sources with their own header/footer lines (templates), pages without a source (pooled
    scope), an error page, an empty page and a rejected row, in an order that spreads every kind
    over several batches."""
    texts, sources, status = [], [], []
    for i in range(70):
        src = ("a.example", "b.example", None)[i % 3]
        header = {"a.example": "A Daily | Home | World", "b.example": "B Times — Subscribe now"}.get(
            src, "Menu"
        )
        body = [f"{line} Item {i}." for line in ARTICLE[1:]]
        texts.append("\n".join([header, f"Headline number {i}", *body, "© 2024 All rights reserved"]))
        sources.append(src)
        status.append("accepted")
    texts += [MENAFN_PAGE, "", "404 Not Found\nSorry!!", None]
    sources += ["a.example", None, "b.example", None]
    status += ["accepted", "accepted", "accepted", "rejected"]
    return _pages(texts, sources, status)


@pytest.mark.parametrize(("rows", "workers"), [(7, 1), (16, 2), (1000, 1)])
def test_stream_equals_in_memory(tmp_path, rows, workers):
    pages = _corpus()
    src = tmp_path / "pages.parquet"
    pages.to_parquet(src, index=False)
    params = BoilerplateParams(template_source_min_pages=10)
    stats = clean_parquet(
        src, tmp_path / "clean.parquet", tmp_path / "removed.parquet", params, None, rows, workers
    )
    want, want_removed = annotate_boilerplate(pages, params, None)
    got = pd.read_parquet(tmp_path / "clean.parquet")
    for col in (
        "clean_text",
        "clean_status",
        "is_error_page",
        "error_kind",
        "boilerplate_chars",
        "n_lines_kept",
    ):
        assert got[col].astype(object).where(got[col].notna(), None).tolist() == (
            want[col].astype(object).where(want[col].notna(), None).tolist()
        ), col
    removed = pd.read_parquet(tmp_path / "removed.parquet")
    key = ["doc_id", "line_no"]
    pd.testing.assert_frame_equal(
        removed.sort_values(key).reset_index(drop=True)[["doc_id", "line_no", "text"]],
        want_removed.sort_values(key).reset_index(drop=True)[["doc_id", "line_no", "text"]],
        check_dtype=False,
    )
    assert removed["reason"].astype(str).tolist() == (
        removed.merge(want_removed, on=key, suffixes=("", "_want"))["reason_want"].astype(str).tolist()
    )
    assert stats == corpus_stats(want, want_removed, params)
    # the templates were found: every source's header went as a site template
    assert (removed["reason"].astype(str) == "site_template").sum() >= 60


def test_stream_names_missing_columns(tmp_path):
    from newsaudit.core.errors import NewsauditError

    src = tmp_path / "pages.parquet"
    pd.DataFrame({"doc_id": ["a"], "raw_text": ["x"]}).to_parquet(src)
    with pytest.raises(NewsauditError, match=r"pages.parquet.*status"):
        clean_parquet(src, tmp_path / "o.parquet", tmp_path / "r.parquet", BoilerplateParams(), None)
