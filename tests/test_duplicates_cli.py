"""The ``duplicates`` sub-command on a small pages table written here."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from newsaudit.cli import main

PARAS = [
    "The council approved the new budget after a long debate on Tuesday evening in the town hall.",
    "Opposition members walked out before the final vote was taken by the chair of the session.",
    "The mayor said the plan would fund three new schools and a clinic in the northern district.",
]


def _table(path):
    body = "\n".join(PARAS)
    pages = pd.DataFrame(
        {
            "doc_id": ["d1", "d2", "d3", "d4"],
            "source": ["a.com", "b.com", None, "c.com"],
            "status": ["accepted", "accepted", "rejected", "accepted"],
            "clean_text": [body, body + "\n" + body, None, "Something else entirely, about the weather."],
            "is_error_page": [False, False, False, False],
        }
    )
    pages.to_parquet(path, index=False)


def test_stage_writes_table_metrics_and_plots(tmp_path):
    src = tmp_path / "pages_clean.parquet"
    _table(src)
    out = tmp_path / "pages_dedup.parquet"
    metrics = tmp_path / "duplicates.json"
    plots = tmp_path / "plots"
    argv = ["duplicates", "--input", str(src), "--output", str(out), "--metrics", str(metrics)]
    assert main([*argv, "--plots", str(plots)]) == 0
    table = pd.read_parquet(out).set_index("doc_id")
    assert table.at["d2", "exact_dup_of"] == "d1"  # equal once the repeated copy is removed
    assert table.at["d2", "repeated_paragraphs_removed"] == 3
    assert pd.isna(table.at["d3", "near_dup_cluster"])
    stats = json.loads(metrics.read_text())
    assert stats["exact_duplicate_pages"] == 1 and stats["pages_with_repeated_paragraphs"] == 1
    assert stats["syndication"] == [{"from": "a.com", "pages": 1, "to": "b.com"}]
    assert (plots / "cluster_sizes.csv").is_file() and (plots / "s_curve.csv").is_file()
    first = metrics.read_bytes()
    assert main([*argv, "--plots", str(plots)]) == 0
    assert metrics.read_bytes() == first


def test_missing_input_is_a_clear_error(tmp_path, caplog):
    code = main(
        ["duplicates", "--input", str(tmp_path / "nope.parquet"), "--output", str(tmp_path / "o.parquet")]
    )
    assert code == 2
    assert "nope.parquet" in caplog.text


def test_audit_step_adds_columns_and_summary(tmp_path):
    from newsaudit.pipeline import AuditContext, StepUnavailable
    from newsaudit.steps.dedup.step import audit_step

    src, dst = tmp_path / "p.parquet", tmp_path / "d.parquet"
    _table(src)
    ctx = AuditContext(params={}, models=tmp_path, out=tmp_path)
    audit_step(src, dst, ctx)
    out = pd.read_parquet(dst)
    assert "near_dup_cluster" in out and ctx.summary["duplicates"]["exact_duplicate_pages"] == 1
    no_text = tmp_path / "no_text.parquet"
    pd.read_parquet(src).drop(columns=["clean_text"]).to_parquet(no_text)
    with pytest.raises(StepUnavailable):
        audit_step(no_text, tmp_path / "x.parquet", ctx)
