"""``newsaudit audit``: runs on a user's corpus, never overwrites what the user has."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from newsaudit import cli
from newsaudit.pipeline import audit, check_out_dir
from newsaudit.core.errors import NewsauditError

TEXT = (
    "Gunmen attacked a checkpoint in the north of the country on Monday, killing two soldiers, police said."
)


def make_corpus(root: Path) -> Path:
    root.mkdir()
    (root / "001_a.txt").write_text(TEXT)
    (root / "002_b.txt").write_text("Another page. " + TEXT)
    (root / "003_c.txt").write_bytes(b"")
    return root


def test_audit_writes_pages_and_summary(tmp_path):
    corpus = make_corpus(tmp_path / "crawl")
    summary = audit(corpus, tmp_path / "out", {}, tmp_path / "models").summary
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet")
    assert len(pages) == 3 and summary["ingest"]["rejected"] == 1
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["ingest"]["inputs"] == 3 and "ingest" in on_disk["steps"]


def test_audit_refuses_to_overwrite_without_force(tmp_path):
    corpus = make_corpus(tmp_path / "crawl")
    audit(corpus, tmp_path / "out", {}, tmp_path / "models")
    with pytest.raises(NewsauditError, match=r"already holds audit results .*--force"):
        audit(corpus, tmp_path / "out", {}, tmp_path / "models")
    audit(corpus, tmp_path / "out", {}, tmp_path / "models", force=True)


def test_out_inside_the_corpus_is_refused(tmp_path):
    corpus = make_corpus(tmp_path / "crawl")
    with pytest.raises(NewsauditError, match="inside the corpus"):
        check_out_dir(corpus, corpus / "audit", force=True)


def test_cli_audit(tmp_path):
    corpus = make_corpus(tmp_path / "crawl")
    params = tmp_path / "params.yaml"
    params.write_text("ingest:\n  workers: 1\n")
    assert cli.main(["--params", str(params), "audit", str(corpus), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "pages.parquet").is_file()
    assert (
        cli.main(["--params", str(params), "audit", str(tmp_path / "missing"), "--out", str(tmp_path / "p")])
        == 2
    )


def test_audit_runs_the_per_page_steps_and_says_what_it_skipped(tmp_path):
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    paragraphs = [
        TEXT,
        "Residents said the fighting lasted for several hours before troops arrived and secured the area.",
        "The army said it had launched an operation to find the attackers, who fled towards the hills.",
        "Local officials appealed for calm and said schools in the district would stay closed.",
        "No group has claimed responsibility for the attack, the third one this month.",
    ]
    # Long enough that, even with the fallback line rule (no trained model here), it is an article.
    article = "\n\n".join(f"{p} Officials gave no further details on Tuesday evening." for p in paragraphs)
    error = "403\nSorry!!\nError! We're sorry, but the page you were looking for doesn't exist.\n"
    (corpus / "001_a.txt").write_text(error + article)
    (corpus / "002_b.txt").write_text(article)  # the same story without the error block: a duplicate
    (corpus / "003_c.txt").write_text(
        "<script>alert(1)</script> The central bank kept interest rates unchanged on Wednesday and said "
        "inflation was expected to ease gradually over the coming year as energy prices fell back."
    )
    summary = audit(corpus, tmp_path / "out", {}, tmp_path / "no-models", report=True).summary
    assert summary["steps"] == ["ingest", "boilerplate", "duplicates"]
    assert "no trained classifier" in summary["skipped_steps"]["predict"]
    assert "fallback rule" in summary["line_model"]
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet").set_index("path")
    assert {"clean_text", "near_dup_cluster", "dup_para_frac"} <= set(pages.columns)
    assert not pages.loc["001_a.txt", "is_error_page"] and pages.loc["001_a.txt", "error_prefix_chars"] > 0
    assert pages.loc["001_a.txt", "near_dup_cluster"] == pages.loc["002_b.txt", "near_dup_cluster"]
    assert pages.loc["003_c.txt", "near_dup_cluster"] != pages.loc["002_b.txt", "near_dup_cluster"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html


def test_unknown_engine_is_named(tmp_path):
    corpus = make_corpus(tmp_path / "crawl")
    with pytest.raises(NewsauditError, match="engine 'spark'"):
        audit(corpus, tmp_path / "out", {"engine": "spark"}, tmp_path / "models")


@pytest.mark.slow
def test_dask_engine_writes_the_local_engines_pages(tmp_path):
    """Both engines through the command, on a corpus with a copy, a repeated paragraph, an empty
    file and site furniture; a 2-worker LocalCluster with small partitions."""
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    for i in range(12):
        body = f"{TEXT} Report number {i} from the northern province.\n" * (2 if i == 3 else 1)
        (corpus / f"site{i % 2}.example_{i:03d}.txt").write_text(
            f"Home | Menu\n{body}© 2024 All rights reserved\n"
        )
    (corpus / "site0.example_copy.txt").write_text((corpus / "site0.example_004.txt").read_text())
    (corpus / "site1.example_empty.txt").write_bytes(b"")
    params = {"dask": {"workers": 2, "partition_rows": 4}}
    local = audit(corpus, tmp_path / "local", params, tmp_path / "models", engine="local").summary
    dask = audit(corpus, tmp_path / "dask", params, tmp_path / "models", engine="dask").summary
    a, b = pd.read_parquet(tmp_path / "local/pages.parquet"), pd.read_parquet(tmp_path / "dask/pages.parquet")
    assert list(a.columns) == list(b.columns) and len(a) == len(b) == 14
    for col in a.columns:
        assert a[col].astype(object).where(a[col].notna(), None).tolist() == (
            b[col].astype(object).where(b[col].notna(), None).tolist()
        ), col
    assert a["exact_dup_of"].notna().sum() == 1 and a["repeated_paragraphs_removed"].sum() >= 1
    for key in ("ingest", "boilerplate", "duplicates"):
        assert local[key] == dask[key], key
    assert dask["engine"]["name"] == "dask" and "duplicates" in dask["engine"]["shuffles"]
