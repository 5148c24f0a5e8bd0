"""Headline metrics and breakdown tables: what each stage's metrics file keeps (what `dvc metrics
diff` and `dvc exp show` list), where its breakdowns go, and the notebook's view of an audit."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from newsaudit.core.io import flat, read_key_values, write_tables
from newsaudit.report.data import load_tables
from newsaudit.report.explore import Explorer
from newsaudit.stages import boilerplate, classify, duplicates, ingest, leakage, train_linemodel
from newsaudit.steps.classify.stats import corpus_stats

ROOT = Path(__file__).resolve().parents[2]
MAX_METRIC_COLUMNS = 60  # `dvc exp show` stays readable in a terminal


def dvc_columns(data) -> int:
    """The columns DVC shows for a metrics file: scalar leaves (lists and nulls are not shown)."""
    return sum(1 for v in flat(data).values() if v is not None and not isinstance(v, list))


@pytest.fixture(scope="module")
def summary(small_audit) -> dict:
    return json.loads((small_audit / "summary.json").read_text())


def test_breakdowns_leave_the_metrics_files(summary, small_audit, tmp_path):
    """The audit's full statistics, split as the stages split them: a few headline figures per
    file, every per-source/per-language/per-reason count in a table, nothing dropped."""
    pages = pd.read_parquet(small_audit / "pages.parquet")
    splits = {
        "ingest": ingest.split_metrics(summary["ingest"]),
        "boilerplate": boilerplate.split_metrics(summary["boilerplate"]),
        "duplicates": duplicates.split_metrics(summary["duplicates"]),
        # classify did not run in this audit: score nothing, the counts still split
        "classify": classify.split_metrics(
            corpus_stats(pages.assign(classified=False, unclassified_reason="no model", conflict_label=None))
        ),
    }
    for name, (headline, tables) in splits.items():
        assert 0 < dvc_columns(headline) <= 7, (name, headline)
        write_tables(tables, tmp_path / name)
    read = load_tables(tmp_path)
    assert read["ingest"]["rejected_by_reason"].to_dict("records") == [
        {"reason": "binary", "inputs": 1},
        {"reason": "empty", "inputs": 1},
    ]
    assert set(read["boilerplate"]["by_source"]["source"]) == {
        "dailyexample.com",
        "morningherald.co.uk",
        "smalltimes.org",
    }
    assert read["duplicates"]["cluster_sizes"]["clusters"].sum() == summary["duplicates"]["clusters"]
    assert read["classify"]["by_source"]["pages"].sum() == len(pages)
    # Scalars that are neither headline nor a breakdown are kept in other.csv.
    assert (
        read_key_values(tmp_path / "ingest" / "other.csv")["with_source"] == summary["ingest"]["with_source"]
    )
    dup_other = read_key_values(tmp_path / "duplicates" / "other.csv")
    assert dup_other["repeated_paragraphs_removed"] == summary["duplicates"]["repeated_paragraphs_removed"]
    assert dup_other["s_curve"]["formula"].startswith("P(candidate")


def test_leakage_totals_and_the_labels_leakage_table_round_trip(tmp_path):
    report = {
        "params": {"threshold": 0.8},
        "datasets": {
            name: {
                "train_texts_in_dev_or_test": {"exact": n, "exact+near": n + 1},
                "texts_in_more_than_one_split": {"exact": n, "exact+near": n + 2},
                "examples": [{"kind": "exact", "a": "train:1", "b": "test:2", "text_a": "x", "text_b": "x"}],
            }
            for name, n in (("bbc", 2), ("satp", 5))
        },
    }
    headline, tables = leakage.split_metrics(report)
    assert headline == {"train_texts_in_dev_or_test": 9, "texts_in_more_than_one_split": 11}
    assert list(tables["examples"]["dataset"]) == ["bbc", "satp"]
    write_tables(
        {"leakage": pd.DataFrame({"key": ["action", "rows_moved.test->train"], "value": ["move", 96]})},
        tmp_path,
    )
    assert read_key_values(tmp_path / "leakage.csv") == {"action": "move", "rows_moved": {"test->train": 96}}


def test_the_line_model_card_headline():
    card = (
        json.loads((ROOT / "models" / "line_model.json").read_text())
        if (ROOT / "models/line_model.json").is_file()
        else None
    )
    if card is None:
        pytest.skip("models/line_model.json not in this checkout")
    head = train_linemodel.headline(card)
    assert 2 <= dvc_columns(head) <= 5 and "threshold" in head["cv"]


@pytest.mark.pipeline
def test_dvc_metrics_stay_a_few_dozen_columns():
    """After `dvc repro`: every file in dvc.yaml's metrics list, counted as `dvc exp show` does."""
    listed = yaml.safe_load((ROOT / "dvc.yaml").read_text())["metrics"]
    missing = [m for m in listed if not (ROOT / m).is_file()]
    if missing:
        pytest.skip(f"not produced yet: {missing}")
    columns = {m: dvc_columns(json.loads((ROOT / m).read_text())) for m in listed}
    assert sum(columns.values()) <= MAX_METRIC_COLUMNS, columns


def test_explorer_opens_an_audit_folder(small_audit, hostile):
    audit = Explorer.open(small_audit)
    assert audit.sections()[:2] == ["findings", "sources"]
    html = audit.section("findings")._repr_html_()
    assert html.startswith("<style>.newsaudit ") and "pages read, 2 rejected" in html
    assert "<figure>" not in audit.section("boilerplate")._repr_html_()  # figures are shown on their own
    assert audit.figure("largest_clusters")._repr_svg_().lstrip().startswith("<?xml")
    assert set(audit.figures()) >= {"boilerplate_frac", "removed_by_reason", "largest_clusters"}
    assert audit.scorecard()["pages"].sum() == len(audit.pages())
    assert audit.by_month() is None  # no dates in this crawl
    missing = audit.section(hostile[0])._repr_html_()
    assert hostile[0] not in missing and "&lt;script&gt;" in missing
    with pytest.raises(KeyError, match="no figure 'nope'"):
        audit.figure("nope")
