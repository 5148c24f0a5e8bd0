"""``newsaudit ingest``: the pages table, the manifest (the same rows without text) and the metrics."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from newsaudit import cli
from newsaudit.steps.ingest.readers import MANIFEST_COLUMNS

ARTICLE = (
    "Security forces repelled an attack on a police post near the border on Tuesday, officials said. "
    "Two attackers were killed and three officers were wounded in the exchange of fire that lasted an hour."
)


@pytest.fixture()
def corpus(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.example.com_1.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "records.jsonl").write_text(
        json.dumps({"id": "r1", "text": ARTICLE}) + "\n{not json\n", encoding="utf-8"
    )
    (root / "empty.txt").write_bytes(b"")
    (root / "notes.xyz").write_text("what is this", encoding="utf-8")
    (root / "skip.html").write_text(f"<p>{ARTICLE}</p>", encoding="utf-8")
    return root


def _argv(tmp_path, corpus, params_text: str = "{}\n", *extra: str) -> list[str]:
    params = tmp_path / "params.yaml"
    params.write_text(params_text, encoding="utf-8")
    out = tmp_path / "out"
    return [
        "--params",
        str(params),
        "ingest",
        "--corpus",
        str(corpus),
        "--out",
        str(out / "pages.parquet"),
        "--manifest",
        str(out / "manifest.csv"),
        "--metrics",
        str(out / "ingest.json"),
        *extra,
    ]


def test_writes_pages_manifest_and_metrics(tmp_path, corpus):
    assert cli.main(_argv(tmp_path, corpus)) == 0
    out = tmp_path / "out"
    pages = pd.read_parquet(out / "pages.parquet")
    manifest = pd.read_csv(out / "manifest.csv")
    metrics = json.loads((out / "ingest.json").read_text())
    assert len(pages) == len(manifest) == metrics["inputs"] == 6
    assert list(manifest.columns) == MANIFEST_COLUMNS
    assert manifest["doc_id"].tolist() == pages["doc_id"].tolist()
    assert set(manifest["status"]) == {"accepted", "rejected"}
    assert metrics["accepted"] + metrics["rejected"] == metrics["inputs"]
    reasons = pd.read_csv(out / "ingest.tables" / "rejected_by_reason.csv")  # beside the metrics
    assert dict(zip(reasons["reason"], reasons["inputs"], strict=True)) == {
        "empty": 1,
        "malformed_json": 1,
        "unsupported_format": 1,
    }
    assert not list(out.glob("*.partial"))


def test_corpus_argument_replaces_corpus_path_and_include(tmp_path, corpus):
    """``--corpus`` takes every file of the folder, whatever corpus.include selects."""
    params = "corpus:\n  path: nowhere\n  include: ['*.html']\n"
    assert cli.main(_argv(tmp_path, corpus, params)) == 0
    assert len(pd.read_parquet(tmp_path / "out" / "pages.parquet")) == 6


def test_engines_write_the_same_files(tmp_path, corpus):
    files = {}
    for engine in ("memory", "stream"):
        d = tmp_path / engine
        d.mkdir()
        assert cli.main(_argv(d, corpus, "{}\n", "--engine", engine)) == 0
        files[engine] = d / "out"
    pd.testing.assert_frame_equal(
        pd.read_parquet(files["memory"] / "pages.parquet"), pd.read_parquet(files["stream"] / "pages.parquet")
    )
    for name in ("manifest.csv", "ingest.json"):
        assert (files["memory"] / name).read_bytes() == (files["stream"] / name).read_bytes()


def test_cli_reports_a_missing_corpus_with_exit_code_2(tmp_path, caplog):
    assert cli.main(_argv(tmp_path, tmp_path / "nowhere", "corpus:\n  path: nowhere\n")) == 2
    assert "nowhere does not exist" in caplog.text


def test_unknown_engine_exits_2_naming_it(tmp_path, corpus, caplog):
    assert cli.main(_argv(tmp_path, corpus, "{}\n", "--engine", "spark")) == 2
    assert "engine 'spark'" in caplog.text


def test_manifest_shows_a_non_utf8_file_name_escaped(tmp_path, corpus):
    """Before: ``UnicodeEncodeError: surrogates not allowed``, exit 1, no manifest at all."""
    with open(os.path.join(os.fsencode(corpus), b"r\xe9sum\xe9.txt"), "wb") as fh:
        fh.write(ARTICLE.encode())
    assert cli.main(_argv(tmp_path, corpus)) == 0
    manifest = (tmp_path / "out" / "manifest.csv").read_text(encoding="utf-8")
    assert "r\\xe9sum\\xe9.txt,,txt,accepted" in manifest
