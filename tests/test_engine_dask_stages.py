"""The DVC stages honour ``engine: dask``: same tables and metrics as the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from newsaudit import cli

pytestmark = pytest.mark.slow

TEXT = "Gunmen attacked a checkpoint in the north of the country on Monday, killing two soldiers."


def _params(tmp_path: Path, engine: str) -> Path:
    path = tmp_path / f"params-{engine}.yaml"
    path.write_text(yaml.safe_dump({"engine": engine, "dask": {"workers": 2, "partition_rows": 4}}))
    return path


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for col in a.columns:
        assert a[col].astype(object).where(a[col].notna(), None).tolist() == (
            b[col].astype(object).where(b[col].notna(), None).tolist()
        ), col


def test_ingest_and_duplicates_stages_on_both_engines(tmp_path):
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    for i in range(10):
        (corpus / f"site{i % 2}.example_{i:03d}.txt").write_text(f"{TEXT} Report {i} of the week.\n" * 3)
    (corpus / "site0.example_copy.txt").write_text((corpus / "site0.example_004.txt").read_text())
    (corpus / "empty.txt").write_bytes(b"")
    out = {}
    for engine in ("local", "dask"):
        d = tmp_path / engine
        params = str(_params(tmp_path, engine))
        args = ["--params", params, "ingest", "--corpus", str(corpus), "--out", str(d / "pages.parquet")]
        args += ["--manifest", str(d / "manifest.csv"), "--metrics", str(d / "ingest.json")]
        assert cli.main(args) == 0
        pages = pd.read_parquet(d / "pages.parquet")
        pages.assign(clean_text=pages["raw_text"]).to_parquet(d / "clean.parquet", index=False)
        args = ["--params", params, "duplicates", "--input", str(d / "clean.parquet")]
        args += [
            "--output",
            str(d / "dedup.parquet"),
            "--metrics",
            str(d / "dup.json"),
            "--plots",
            str(d / "plots"),
        ]
        assert cli.main(args) == 0
        out[engine] = d
    for name in ("pages.parquet", "dedup.parquet"):
        _same(pd.read_parquet(out["local"] / name), pd.read_parquet(out["dask"] / name))
    for name in ("ingest.json", "dup.json"):
        assert json.loads((out["local"] / name).read_text()) == json.loads((out["dask"] / name).read_text())
    dedup = pd.read_parquet(out["dask"] / "dedup.parquet")
    assert dedup["exact_dup_of"].notna().sum() == 1 and dedup["repeated_paragraphs_removed"].sum() == 22
