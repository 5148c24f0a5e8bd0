"""``newsaudit predict INPUT --out OUT``: any input ingest reads, one output row per input document
(rejected ones included, with the reason), ids from the records or the file names."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from newsaudit import cli
from newsaudit.steps.classify.model import normalise_text

ATTACK = "rebels attacked a police post in Imphal and killed 9 officers. officials said on monday. " * 3
CALM = "the local football club from Cali won the cup final after extra time. the report said. " * 3
FRENCH = "des militants ont attaqué la ville " * 5


def _predict(params_file, model_file, src, out, params: str = "{}\n") -> int:
    argv = [
        "--params",
        params_file(params),
        "predict",
        str(src),
        "--out",
        str(out),
        "--model",
        str(model_file),
    ]
    return cli.main(argv)


def test_ad_hoc_jsonl_every_text_scored_as_read(tmp_path, params_file, model_file):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(json.dumps({"id": i, "text": t}) for i, t in [("x", ATTACK), ("y", CALM), ("z", FRENCH)]),
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert _predict(params_file, model_file, src, out) == 0
    res = pd.read_csv(out)
    assert res.columns.tolist() == [
        "id",
        "conflict_prob",
        "conflict_label",
        "conflict_terms",
        "language",
        "unclassified_reason",
    ]
    assert res["id"].tolist() == ["x", "y", "z"]
    assert res["conflict_label"].tolist()[:2] == [1, 0]
    # the flagged text says why: terms of its own that pushed the score up
    terms = res["conflict_terms"].iloc[0].split("; ")
    norm = normalise_text(ATTACK)
    assert terms and all(set(t.split()) <= set(norm.split()) or t in f" {norm} " for t in terms)
    assert pd.isna(res["conflict_terms"].iloc[2])
    assert res["language"].tolist() == ["en", "en", "fr"]
    assert pd.isna(res["conflict_prob"].iloc[2])
    assert res["unclassified_reason"].iloc[2] == "language_not_supported"
    assert not list(tmp_path.glob("*.partial"))


def test_every_input_gets_a_row_rejected_ones_with_the_reason(tmp_path, params_file, model_file):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "one.txt").write_text(ATTACK, encoding="utf-8")
    (folder / "two.html").write_text(f"<html><body><p>{CALM}</p></body></html>", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "no_text.csv").write_text("id,body\n1,hello\n", encoding="utf-8")
    (folder / "records.jsonl").write_text(
        json.dumps({"text": ATTACK}) + "\n{not json\n" + json.dumps({"id": "r3", "text": CALM}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert _predict(params_file, model_file, folder, out) == 0
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    # ids: the record's own id, else the file (and the record number within it)
    assert list(rows) == [
        "empty.txt",
        "no_text.csv",
        "one.txt",
        "records.jsonl#1",
        "records.jsonl#2",
        "r3",
        "two.html",
    ]
    assert rows["empty.txt"]["unclassified_reason"] == "rejected: empty"
    assert rows["no_text.csv"]["unclassified_reason"] == "rejected: no_text_column"
    assert rows["records.jsonl#2"]["unclassified_reason"] == "rejected: malformed_json"
    for rejected in ("empty.txt", "no_text.csv", "records.jsonl#2"):
        assert rows[rejected]["conflict_prob"] is None and rows[rejected]["conflict_label"] is None
    assert rows["one.txt"]["conflict_label"] == 1 and rows["two.html"]["conflict_label"] == 0
    assert rows["records.jsonl#1"]["unclassified_reason"] is None


def test_a_single_page_is_an_input(tmp_path, params_file, model_file):
    page = tmp_path / "one.txt"
    page.write_text(ATTACK, encoding="utf-8")
    out = tmp_path / "out.csv"
    assert _predict(params_file, model_file, page, out) == 0
    assert pd.read_csv(out)["id"].tolist() == ["one.txt"]


def test_short_texts_are_scored_outside_the_pipeline(tmp_path, params_file, model_file):
    """classify.min_chars is for pages of the pipeline; predict scores any text with a word."""
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "s", "text": "gunmen killed 3 officers"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert _predict(params_file, model_file, src, out, "classify:\n  min_chars: 500\n") == 0
    assert pd.read_csv(out)["conflict_prob"].notna().all()


def test_the_old_predict_section_is_still_read(tmp_path, params_file, model_file, caplog):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "x", "text": ATTACK}) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert _predict(params_file, model_file, src, out, "predict:\n  languages: [fr]\n") == 0
    assert "section 'predict' is deprecated" in caplog.text
    assert pd.read_csv(out)["unclassified_reason"].tolist() == ["language_not_supported"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing_input", "input not found"),
        ("bad_suffix", "must end in .jsonl or .csv"),
        ("missing_model", "not found"),
        ("both_sections", "both 'classify' and its old name 'predict'"),
    ],
)
def test_errors_exit_2_with_a_clear_message(tmp_path, params_file, model_file, caplog, case, message):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": ATTACK}) + "\n", encoding="utf-8")
    out, model, params = tmp_path / "out.csv", model_file, "{}\n"
    if case == "missing_input":
        src = tmp_path / "absent.txt"
    elif case == "bad_suffix":
        out = tmp_path / "out.parquet"
    elif case == "missing_model":
        model = tmp_path / "none.skops"
    else:
        params = "classify: {}\npredict: {}\n"
    assert _predict(params_file, model, src, out, params) == 2
    assert message in caplog.text
    assert not out.exists()
