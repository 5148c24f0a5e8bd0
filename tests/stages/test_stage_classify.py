"""``newsaudit classify``: the pipeline's pages table scored, the predictions table and the metrics."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from newsaudit import cli
from newsaudit.steps.classify.score import PREDICTION_COLUMNS

ATTACK = "rebels attacked a police post in Imphal and killed 9 officers. officials said on monday. " * 3
CALM = "the local football club from Cali won the cup final after extra time. the report said. " * 3


@pytest.fixture()
def dedup_table(tmp_path):
    path = tmp_path / "pages_dedup.parquet"
    pd.DataFrame(
        {
            "doc_id": ["a", "b", "c", "d", "e"],
            "source": ["s1", "s1", "s2", "s2", None],
            "language": ["en", "en", "en", "fr", "en"],
            "status": ["accepted", "accepted", "rejected", "accepted", "accepted"],
            "raw_text": [ATTACK, CALM, None, "des militants " * 30, ATTACK],
            "clean_text": [ATTACK, CALM, None, "des militants " * 30, ATTACK],
            "is_error_page": [False, False, None, False, False],
            "is_representative": [True, True, False, True, False],
            "near_dup_cluster": ["a", "b", None, "d", "a"],
        }
    ).to_parquet(path, index=False)
    return path


def _argv(tmp_path, params: str, pages, model, *extra: str) -> list[str]:
    out = tmp_path / "out"
    return [
        "--params",
        params,
        "classify",
        "--pages",
        str(pages),
        "--out",
        str(out / "pages.parquet"),
        "--predictions",
        str(out / "predictions.parquet"),
        "--metrics",
        str(out / "classify.json"),
        "--model",
        str(model),
        *extra,
    ]


def test_writes_pages_predictions_and_metrics(tmp_path, params_file, model_file, dedup_table):
    assert cli.main(_argv(tmp_path, params_file(), dedup_table, model_file)) == 0
    out = tmp_path / "out"
    pages = pd.read_parquet(out / "pages.parquet")
    src = pd.read_parquet(dedup_table)
    assert list(pages.columns[: len(src.columns)]) == list(src.columns)  # every column so far, in order
    assert pages["classified"].tolist() == [True, True, False, False, False]
    assert pages["unclassified_reason"].tolist()[2:] == [
        "rejected",
        "language_not_supported",
        "near_duplicate",
    ]
    assert pages["cluster_size"].tolist() == [2, 1, 1, 1, 2]
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert list(predictions.columns) == PREDICTION_COLUMNS  # no text
    assert predictions["doc_id"].tolist() == pages["doc_id"].tolist()
    metrics = json.loads((out / "classify.json").read_text())
    assert metrics["overall"]["classified"] == 2 and metrics["overall"]["conflict_events"] == 1
    by_source = pd.read_csv(out / "classify.tables" / "by_source.csv")  # breakdowns beside the metrics
    assert set(by_source["source"]) == {"s1", "s2", "(none)"} and by_source["pages"].sum() == 5
    assert not list(out.glob("*.partial"))


def test_engines_write_the_same_files(tmp_path, params_file, model_file, dedup_table):
    files = {}
    for engine in ("memory", "stream"):
        d = tmp_path / engine
        d.mkdir()
        assert cli.main(_argv(d, params_file(), dedup_table, model_file, "--engine", engine)) == 0
        files[engine] = d / "out"
    for name in ("pages.parquet", "predictions.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(files["memory"] / name), pd.read_parquet(files["stream"] / name)
        )
    assert (files["memory"] / "classify.json").read_bytes() == (
        files["stream"] / "classify.json"
    ).read_bytes()


def test_the_old_predict_section_is_read_with_a_warning(
    tmp_path, params_file, model_file, dedup_table, caplog
):
    params = params_file("predict:\n  min_chars: 10000\n")
    assert cli.main(_argv(tmp_path, params, dedup_table, model_file)) == 0
    assert "section 'predict' is deprecated" in caplog.text
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet")
    assert not pages["classified"].any() and pages["unclassified_reason"].iloc[0] == "too_short"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("classify: {}\npredict: {}\n", "both 'classify' and its old name 'predict'"),
        ("classify:\n  text_column: body\n", "no 'body' column (params classify.text_column)"),
        ("classify:\n  min_char: 3\n", "classify.min_char: Extra inputs are not permitted"),
    ],
)
def test_bad_parameters_exit_2_naming_them(
    tmp_path, params_file, model_file, dedup_table, caplog, params, message
):
    assert cli.main(_argv(tmp_path, params_file(params), dedup_table, model_file)) == 2
    assert message in caplog.text


def test_missing_inputs_exit_2(tmp_path, params_file, model_file, dedup_table, caplog):
    assert cli.main(_argv(tmp_path, params_file(), tmp_path / "nope.parquet", model_file)) == 2
    assert "nope.parquet: pages table not found" in caplog.text
    assert cli.main(_argv(tmp_path, params_file(), dedup_table, tmp_path / "none.skops")) == 2
    assert "none.skops not found" in caplog.text
