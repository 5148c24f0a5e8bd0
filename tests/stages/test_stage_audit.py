"""``newsaudit audit CORPUS --out DIR``: the command's files, its report, its errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from newsaudit import cli

TEXT = (
    "Gunmen attacked a checkpoint in the north of the country on Monday, killing two soldiers, police said."
)


@pytest.fixture()
def corpus(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "001_a.txt").write_text(TEXT)
    (root / "002_b.txt").write_text("Another page. " + TEXT)
    (root / "003_c.txt").write_text("<script>alert(1)</script> " + TEXT + " The markets were calm.")
    (root / "004_d.txt").write_bytes(b"")
    return root


def _audit(
    params_file, corpus, out, *extra: str, params: str = "execution:\n  workers:\n    ingest: 1\n"
) -> int:
    return cli.main(["--params", params_file(params), "audit", str(corpus), "--out", str(out), *extra])


def test_cli_audit_writes_pages_removed_lines_and_summary(tmp_path, params_file, corpus):
    out = tmp_path / "o"
    assert _audit(params_file, corpus, out, "--models", str(tmp_path / "no-models")) == 0
    assert (out / "pages.parquet").is_file() and (out / "removed_lines.parquet").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ingest"]["inputs"] == 4 and "classify" in summary["skipped_steps"]
    assert not (out / "report.html").exists()
    assert len(pd.read_parquet(out / "pages.parquet")) == 4


def test_report_is_self_contained_and_escapes_the_corpus(tmp_path, params_file, corpus):
    out = tmp_path / "o"
    assert _audit(params_file, corpus, out, "--models", str(tmp_path / "no-models"), "--report") == 0
    html = (out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html


def test_existing_results_need_force(tmp_path, params_file, corpus, caplog):
    out = tmp_path / "o"
    models = str(tmp_path / "no-models")
    assert _audit(params_file, corpus, out, "--models", models) == 0
    assert _audit(params_file, corpus, out, "--models", models) == 2
    assert "--force" in caplog.text
    assert _audit(params_file, corpus, out, "--models", models, "--force") == 0


def test_errors_exit_2(tmp_path, params_file, corpus, caplog):
    assert _audit(params_file, tmp_path / "missing", tmp_path / "p") == 2
    assert "missing does not exist" in caplog.text
    assert _audit(params_file, corpus, corpus / "audit") == 2
    assert "inside the corpus" in caplog.text
    assert _audit(params_file, corpus, tmp_path / "q", params="execution:\n  engine: spark\n") == 2
    assert "execution.engine 'spark'" in caplog.text
    assert _audit(params_file, corpus, tmp_path / "r", params="ingest:\n  workers: 1\n") == 2
    assert "ingest.workers: Extra inputs are not permitted" in caplog.text


def test_engine_choices_include_the_local_alias(tmp_path, params_file, corpus):
    assert (
        _audit(params_file, corpus, tmp_path / "o", "--engine", "local", "--models", str(tmp_path / "m")) == 0
    )
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["engine"]["name"] == "stream"
    with pytest.raises(SystemExit) as exc:
        _audit(params_file, corpus, tmp_path / "p", "--engine", "spark")
    assert exc.value.code == 2  # argparse refuses it before anything runs
