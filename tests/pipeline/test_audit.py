"""``pipeline.audit``: the per-page chain on a user's corpus, file to file; never overwrites what the
user has; says which steps ran and which could not (and why)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from newsaudit.core.config import ParamsError
from newsaudit.core.errors import NewsauditError
from newsaudit.lib.tables import has_text, read_small
from newsaudit.pipeline.audit import audit
from newsaudit.pipeline.outdir import check_out_dir
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.stats import stats_from_files
from newsaudit.steps.classify.stats import corpus_stats as classify_stats
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.stats import duplicate_stats
from newsaudit.steps.ingest.step import summarise

LINE_MODEL = Path(__file__).resolve().parents[2] / "models" / "line_model.skops"
TEXT = (
    "Gunmen attacked a checkpoint in the north of the country on Monday, killing two soldiers, police said."
)


def make_small_corpus(root: Path) -> Path:
    root.mkdir()
    (root / "001_a.txt").write_text(TEXT)
    (root / "002_b.txt").write_text("Another page. " + TEXT)
    (root / "003_c.txt").write_bytes(b"")
    return root


def make_article_corpus(root: Path) -> Path:
    """An error block glued before an article, the same article alone (a duplicate), another story."""
    root.mkdir()
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
    (root / "001_a.txt").write_text(error + article)
    (root / "002_b.txt").write_text(article)
    (root / "003_c.txt").write_text(
        "<script>alert(1)</script> The central bank kept interest rates unchanged on Wednesday and said "
        "inflation was expected to ease gradually over the coming year as energy prices fell back."
    )
    return root


def test_audit_writes_pages_and_summary(tmp_path):
    corpus = make_small_corpus(tmp_path / "crawl")
    summary = audit(corpus, tmp_path / "out", {}, tmp_path / "models").summary
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet")
    assert len(pages) == 3 and summary["ingest"]["rejected"] == 1
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["ingest"]["inputs"] == 3 and "ingest" in on_disk["steps"]
    assert on_disk["engine"]["name"] == "stream" and on_disk["corpus"] == str(corpus)
    assert (tmp_path / "out" / "removed_lines.parquet").is_file()
    assert not (tmp_path / "out" / ".steps").exists()  # intermediate tables are removed


def test_audit_refuses_to_overwrite_without_force(tmp_path):
    corpus = make_small_corpus(tmp_path / "crawl")
    audit(corpus, tmp_path / "out", {}, tmp_path / "models", engine="memory")
    with pytest.raises(NewsauditError, match=r"already holds audit results .*--force"):
        audit(corpus, tmp_path / "out", {}, tmp_path / "models", engine="memory")
    (tmp_path / "out" / "pages.parquet").unlink()  # any one result file is enough to refuse
    with pytest.raises(NewsauditError, match=r"already holds audit results \(summary.json, removed_lines"):
        audit(corpus, tmp_path / "out", {}, tmp_path / "models", engine="memory")
    audit(corpus, tmp_path / "out", {}, tmp_path / "models", force=True, engine="memory")
    assert (tmp_path / "out" / "pages.parquet").is_file()


def test_audit_of_a_corpus_with_non_utf8_names(tmp_path):
    """Before: the whole audit stopped on ``UnicodeEncodeError: surrogates not allowed``."""
    corpus = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"crawl\xff")))
    make_small_corpus(corpus)
    with open(os.path.join(os.fsencode(corpus), b"\x81page.txt"), "wb") as fh:
        fh.write(TEXT.encode())
    summary = audit(corpus, tmp_path / "out", {}, tmp_path / "models", engine="memory").summary
    assert summary["ingest"]["accepted"] == 3 and summary["corpus"].endswith("crawl\\xff")
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet")
    assert "\\x81page.txt" in set(pages["path"])


def test_out_inside_the_corpus_is_refused(tmp_path):
    corpus = make_small_corpus(tmp_path / "crawl")
    with pytest.raises(NewsauditError, match="inside the corpus"):
        check_out_dir(corpus, corpus / "audit", force=True)
    with pytest.raises(NewsauditError, match="inside the corpus"):
        check_out_dir(corpus, corpus, force=True)
    check_out_dir(corpus, tmp_path / "elsewhere", force=False)


def test_audit_runs_the_per_page_steps_and_says_what_it_skipped(tmp_path):
    corpus = make_article_corpus(tmp_path / "crawl")
    summary = audit(corpus, tmp_path / "out", {}, tmp_path / "no-models").summary
    assert summary["steps"] == ["ingest", "boilerplate", "duplicates"]
    assert "no trained classifier" in summary["skipped_steps"]["classify"]
    assert "fallback rule" in summary["line_model"]
    assert {"boilerplate", "duplicates"} <= set(summary) and "predictions" not in summary
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet").set_index("path")
    assert {"clean_text", "near_dup_cluster", "dup_para_frac"} <= set(pages.columns)
    assert not pages.loc["001_a.txt", "is_error_page"] and pages.loc["001_a.txt", "error_prefix_chars"] > 0
    assert pages.loc["001_a.txt", "near_dup_cluster"] == pages.loc["002_b.txt", "near_dup_cluster"]
    assert pages.loc["003_c.txt", "near_dup_cluster"] != pages.loc["002_b.txt", "near_dup_cluster"]
    assert summary["duplicates"]["exact_duplicate_pages"] == 1  # equal once the error block is gone


def test_audit_with_trained_models_runs_every_step(tmp_path, labels_bundle):
    from newsaudit.core.errors import NewsauditError as Error
    from newsaudit.steps.boilerplate.linemodel import load_line_model
    from newsaudit.steps.classify.model import save_model

    models = tmp_path / "models"
    save_model(labels_bundle, models / "conflict_clf.skops")
    if LINE_MODEL.is_file():
        try:
            load_line_model(LINE_MODEL)
            shutil.copy(LINE_MODEL, models / "line_model.skops")
        except Error:  # trained by an older version of the features: the fallback rule
            pass
    corpus = make_article_corpus(tmp_path / "crawl")
    params = {"classify": {"min_chars": 50}}
    ctx = audit(corpus, tmp_path / "out", params, models, measure_steps=True)
    summary = ctx.summary
    assert summary["steps"] == ["ingest", "boilerplate", "duplicates", "classify"]
    assert summary["skipped_steps"] == {}
    assert summary["predictions"]["overall"]["pages"] == 3
    assert set(ctx.measurements) == {"ingest", "boilerplate", "duplicates", "classify"}
    assert all(m.seconds >= 0 and m.peak_rss_mb > 0 for m in ctx.measurements.values())
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet").set_index("path")
    assert {"conflict_prob", "cluster_size", "unclassified_reason"} <= set(pages.columns)
    # the error-prefixed copy is the representative (longest); its duplicate is not scored
    assert pages["unclassified_reason"].tolist().count("near_duplicate") == 1
    # each step's statistics read back only its STATS_COLUMNS: the same figures as from every column
    whole = read_small(tmp_path / "out" / "pages.parquet")
    assert summary["ingest"] == summarise(whole)
    removed = tmp_path / "out" / "removed_lines.parquet"
    assert summary["boilerplate"] == stats_from_files(whole, removed, BoilerplateParams())
    with_text = whole.assign(_has_text=has_text(tmp_path / "out" / "pages.parquet"))
    assert summary["duplicates"] == duplicate_stats(with_text, DuplicatesParams())
    assert summary["predictions"] == classify_stats(whole)


@pytest.mark.parametrize("engine", ["memory", "stream"])
def test_engines_give_the_same_audit(tmp_path, engine):
    corpus = make_article_corpus(tmp_path / "crawl")
    ref = audit(corpus, tmp_path / "ref", {"execution": {"engine": "memory"}}, tmp_path / "models").summary
    got = audit(corpus, tmp_path / engine, {}, tmp_path / "models", engine=engine).summary
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "ref" / "pages.parquet"),
        pd.read_parquet(tmp_path / engine / "pages.parquet"),
    )
    for key in ("ingest", "boilerplate", "duplicates", "steps"):
        assert got[key] == ref[key], key
    assert got["engine"]["name"] == engine


def test_unknown_engine_is_named(tmp_path):
    corpus = make_small_corpus(tmp_path / "crawl")
    with pytest.raises(ParamsError, match=r"execution\.engine 'spark'"):
        audit(corpus, tmp_path / "out", {"execution": {"engine": "spark"}}, tmp_path / "models")
    with pytest.raises(ParamsError, match="engine 'spark'"):
        audit(corpus, tmp_path / "out", {}, tmp_path / "models", engine="spark")
    assert not (tmp_path / "out").exists()  # nothing written before the parameters are checked


@pytest.mark.slow
def test_dask_engine_writes_the_stream_engines_pages(tmp_path):
    """Both engines through the chain, on a corpus with a copy, a repeated paragraph, an empty file
    and site furniture; a 2-worker LocalCluster with small partitions."""
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    for i in range(12):
        body = f"{TEXT} Report number {i} from the northern province.\n" * (2 if i == 3 else 1)
        (corpus / f"site{i % 2}.example_{i:03d}.txt").write_text(
            f"Home | Menu\n{body}© 2024 All rights reserved\n"
        )
    (corpus / "site0.example_copy.txt").write_text((corpus / "site0.example_004.txt").read_text())
    (corpus / "site1.example_empty.txt").write_bytes(b"")
    params = {"execution": {"dask": {"workers": 2, "partition_rows": 4}}}
    local = audit(corpus, tmp_path / "local", params, tmp_path / "models", engine="local").summary
    dask = audit(corpus, tmp_path / "dask", params, tmp_path / "models", engine="dask").summary
    a, b = pd.read_parquet(tmp_path / "local/pages.parquet"), pd.read_parquet(tmp_path / "dask/pages.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert len(a) == 14
    assert a["exact_dup_of"].notna().sum() == 1 and a["repeated_paragraphs_removed"].sum() >= 1
    for key in ("ingest", "boilerplate", "duplicates"):
        assert local[key] == dask[key], key
    assert local["engine"]["name"] == "stream" and dask["engine"]["name"] == "dask"
    assert any("shuffled on (band, key)" in s for s in dask["engine"]["duplicates"]["shuffles"])
