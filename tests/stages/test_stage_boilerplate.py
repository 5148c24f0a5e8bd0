"""``newsaudit boilerplate``: the cleaned table, every removed line, metrics and plots."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from newsaudit.cli import main
from newsaudit.core.errors import NewsauditError

LINE_MODEL = Path(__file__).resolve().parents[2] / "models" / "line_model.skops"
ARTICLE = (
    "The council of the harbour city voted on Tuesday to build a flood barrier along the old port, "
    "ending a debate that had divided residents, shop owners and the regional government for most "
    "of the year."
)


@pytest.fixture(scope="module")
def line_model() -> Path:
    from newsaudit.steps.boilerplate.linemodel import load_line_model

    if not LINE_MODEL.is_file():
        pytest.skip(f"{LINE_MODEL} not trained")
    try:
        load_line_model(LINE_MODEL)
    except NewsauditError as exc:  # trained by an older version of the features: dvc repro retrains it
        pytest.skip(str(exc))
    return LINE_MODEL


def _pages(path: Path) -> None:
    texts = [f"Daily | Home | World\n{ARTICLE} Story {'ABCDEFGH'[i]}.\nShare this article" for i in range(8)]
    texts += ["404 Not Found\nThe page you requested could not be found.", None]
    n = len(texts)
    pd.DataFrame(
        {
            "doc_id": [f"d{i}" for i in range(n)],
            "source": ["daily.example"] * n,
            "status": ["accepted"] * (n - 1) + ["rejected"],
            "raw_text": texts,
        }
    ).to_parquet(path, index=False)


def _argv(tmp_path: Path, params_file, model: Path, *extra: str) -> list[str]:
    src = tmp_path / "pages.parquet"
    if not src.exists():
        _pages(src)
    return [
        "--params",
        params_file("boilerplate:\n  template_min_pages: 3\n"),
        "boilerplate",
        "--pages",
        str(src),
        "--out",
        str(tmp_path / "pages_clean.parquet"),
        "--removed",
        str(tmp_path / "removed_lines.parquet"),
        "--metrics",
        str(tmp_path / "boilerplate.json"),
        "--plots",
        str(tmp_path / "plots"),
        "--model",
        str(model),
        *extra,
    ]


def test_stage_writes_clean_pages_removed_lines_metrics_and_plots(tmp_path, params_file, line_model):
    assert main(_argv(tmp_path, params_file, line_model)) == 0
    clean = pd.read_parquet(tmp_path / "pages_clean.parquet")
    assert clean["clean_status"].tolist()[:9] == ["ok"] * 8 + ["error_page"]
    assert pd.isna(clean["clean_text"].iloc[9])
    assert all("Share this article" not in t and ARTICLE in t for t in clean["clean_text"].iloc[:8])
    removed = pd.read_parquet(tmp_path / "removed_lines.parquet")
    assert set(removed["reason"].astype(str)) >= {"site_template", "error_page"}
    stats = json.loads((tmp_path / "boilerplate.json").read_text())
    assert stats["n_pages_cleaned"] == 9
    assert stats["error_pages"] == 1  # by kind: reports/tables/boilerplate/
    by_reason = pd.read_csv(tmp_path / "boilerplate.tables" / "by_reason.csv")
    assert by_reason["lines"].sum() == len(removed)
    plots = tmp_path / "plots"
    assert (plots / "removed_frac_hist.csv").is_file() and (plots / "removed_by_source.csv").is_file()


def test_engines_write_the_same_files(tmp_path, params_file, line_model):
    dirs = {}
    for engine in ("memory", "stream"):
        d = tmp_path / engine
        d.mkdir()
        assert main(_argv(d, params_file, line_model, "--engine", engine)) == 0
        dirs[engine] = d
    for name in ("pages_clean.parquet", "removed_lines.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(dirs["memory"] / name), pd.read_parquet(dirs["stream"] / name)
        )
    assert (dirs["memory"] / "boilerplate.json").read_bytes() == (
        dirs["stream"] / "boilerplate.json"
    ).read_bytes()


def test_missing_pages_or_model_exit_2(tmp_path, params_file, caplog):
    argv = _argv(tmp_path, params_file, tmp_path / "no_model.skops")
    assert main(argv) == 2
    assert "no line model (run `newsaudit train-linemodel` first)" in caplog.text
    (tmp_path / "pages.parquet").unlink()
    assert main(argv) == 2
    assert "run `newsaudit ingest` first" in caplog.text
