"""Label rules and leakage handling of the ``labels`` stage, on small frames built here."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from newsaudit.core.errors import NewsauditError
from newsaudit.datasets import conflibert
from newsaudit.training.labels import (
    DEFAULT_VIOLENCE_PATTERN,
    DatasetRule,
    LabelsParams,
    apply_rule,
    assert_no_straddle,
    build_labels,
    strip_artefacts,
)

VIOLENCE = re.compile(DEFAULT_VIOLENCE_PATTERN, re.IGNORECASE)


def frame(dataset: str, rows: list[tuple[str, str, dict[str, int]]], labels: list[str]) -> pd.DataFrame:
    """rows: (split, text, {label: 1}) → a frame shaped like ``conflibert.read_split`` output."""
    recs = []
    counters: dict[str, int] = {}
    for split, text, on in rows:
        i = counters.get(split, 0)
        counters[split] = i + 1
        recs.append(
            {
                "dataset": dataset,
                "split": split,
                "row": i,
                "text": text,
                **{name: int(on.get(name, 0)) for name in labels},
            }
        )
    return pd.DataFrame(recs)


SATP = ["armed_assault", "bombing", "kidnapping", "other_attack"]
IPE = ["KILL", "ARREST", "ANY_ACTION", "FAIL", "FORCE"]


def test_satp_rule_positive_negative_and_screened_negative():
    f = frame(
        "satp_all",
        [
            ("train", "militants attacked a camp", {"armed_assault": 1}),
            ("train", "two militants were killed in an encounter", {}),  # not labelled, but violent
            ("train", "the outfit announced a ceasefire and talks", {}),
        ],
        SATP,
    )
    status = apply_rule(f, "satp_all", DatasetRule(positive_any=SATP), VIOLENCE)
    assert status.tolist() == ["positive", "ambiguous_text", "negative"]


def test_ipe_fail_is_ambiguous_and_arrest_only_is_negative():
    f = frame(
        "IndiaPoliceEvents_docs",
        [
            ("train", "police opened fire", {"FORCE": 1}),
            ("train", "police failed to act", {"FAIL": 1}),
            ("train", "police arrested a clerk for fraud", {"ARREST": 1, "ANY_ACTION": 1}),
        ],
        IPE,
    )
    rule = DatasetRule(positive_any=["KILL", "FORCE"], ambiguous_any=["FAIL"])
    assert apply_rule(f, "IndiaPoliceEvents_docs", rule, VIOLENCE).tolist() == [
        "positive",
        "ambiguous_label",
        "negative",
    ]


def test_unscreened_dataset_keeps_violent_words_as_negatives():
    f = frame("BBC_News", [("train", "the striker shot and killed the game off", {})], ["politics"])
    status = apply_rule(f, "BBC_News", DatasetRule(screen_negatives=False), VIOLENCE)
    assert status.tolist() == ["negative"]


def test_unknown_label_column_names_the_parameter():
    f = frame("BBC_News", [("train", "x", {})], ["politics"])
    with pytest.raises(NewsauditError, match=r"labels\.datasets\.BBC_News"):
        apply_rule(f, "BBC_News", DatasetRule(positive_any=["violence"]), VIOLENCE)


def test_strip_artefacts_removes_the_archive_banner():
    text = pd.Series(["This story is from March 10, 2002  lucknow: a ban was sought"])
    assert strip_artefacts(text, LabelsParams().strip_patterns).tolist() == ["lucknow: a ban was sought"]


def _fixture():
    frames = {
        "satp_all": frame(
            "satp_all",
            [
                ("train", "militants attacked a camp", {"armed_assault": 1}),
                ("train", "a ceasefire was announced", {}),
                ("dev", "a bomb went off", {"bombing": 1}),
                ("test", "militants attacked a camp", {"armed_assault": 1}),  # duplicate of train row 0
                ("test", "talks were held", {}),
                ("test", "talks were held again", {}),  # near duplicate of dev? see pairs
                ("dev", "peace talks were held", {}),
            ],
            SATP,
        ),
        "BBC_News": frame("BBC_News", [("train", "budget", {}), ("test", "election", {})], ["politics"]),
    }
    pairs = pd.DataFrame(
        [
            {
                "dataset": "satp_all",
                "split_a": "train",
                "row_a": 0,
                "split_b": "test",
                "row_b": 0,
                "kind": "exact",
                "similarity": 1.0,
            },
            {
                "dataset": "satp_all",
                "split_a": "dev",
                "row_a": 1,
                "split_b": "test",
                "row_b": 2,
                "kind": "near",
                "similarity": 0.9,
            },
        ]
    )
    params = LabelsParams(
        datasets={"satp_all": DatasetRule(positive_any=SATP), "BBC_News": DatasetRule(screen_negatives=False)}
    )
    return frames, pairs, params


def test_build_labels_moves_duplicates_to_their_earliest_split():
    frames, pairs, params = _fixture()
    labels, report = build_labels(frames, pairs, params)
    assert set(labels.columns) >= {"text", "conflict_event", "source", "orig_split", "row", "split"}
    moved = labels[(labels["source"] == "satp_all") & (labels["orig_split"] == "test") & (labels["row"] == 0)]
    assert moved["split"].tolist() == ["train"]
    near = labels[(labels["source"] == "satp_all") & (labels["orig_split"] == "test") & (labels["row"] == 2)]
    assert near["split"].tolist() == ["dev"]
    assert report["leakage"]["groups_straddling_splits"] == 2
    assert report["leakage"]["rows_moved"] == {"test->dev": 1, "test->train": 1}
    assert_no_straddle(labels, pairs, ["exact", "near"])


def test_build_labels_drop_action_removes_later_members():
    frames, pairs, params = _fixture()
    params = params.model_copy(update={"leakage_action": "drop"})
    labels, report = build_labels(frames, pairs, params)
    satp_test = labels[(labels["source"] == "satp_all") & (labels["orig_split"] == "test")]
    assert satp_test["row"].tolist() == [1]
    assert report["leakage"]["rows_dropped"] == {"test->dev": 1, "test->train": 1}


def test_only_selected_kinds_count_as_leakage():
    frames, pairs, params = _fixture()
    params = params.model_copy(update={"leakage_kinds": ["exact"]})
    labels, report = build_labels(frames, pairs, params)
    assert report["leakage"]["rows_moved"] == {"test->train": 1}
    with pytest.raises(AssertionError):
        assert_no_straddle(labels, pairs, ["exact", "near"])


def test_no_duplicate_straddles_on_the_mirror(tmp_path):
    """Real data, exact duplicates computed here (the leakage stage's file may not exist yet)."""
    root = Path("data/external/conflibert")
    if not (root / "BBC_News" / "train.tsv").is_file():
        pytest.skip("ConfliBERT mirror not fetched (run `newsaudit fetch`)")
    frames = conflibert.read_all(root)
    recs = []
    for ds, f in frames.items():
        for _, g in f.groupby("text"):
            if len(g) > 1:
                first = g.iloc[0]
                for _, other in g.iloc[1:].iterrows():
                    recs.append(
                        {
                            "dataset": ds,
                            "split_a": first["split"],
                            "row_a": first["row"],
                            "split_b": other["split"],
                            "row_b": other["row"],
                            "kind": "exact",
                            "similarity": 1.0,
                        }
                    )
    pairs = pd.DataFrame(recs)
    labels, report = build_labels(frames, pairs, LabelsParams())
    assert_no_straddle(labels, pairs, ["exact"])
    assert report["positives"] > 1000
    assert set(labels["source"]) == set(conflibert.DATASETS)


def test_web_pool_rows_are_train_negatives_with_their_lexicon_hits():
    frames, pairs, params = _fixture()
    pool = pd.DataFrame(
        {
            "source": ["web_dragnet", "web_dragnet", "web_cleaneval"],
            "dataset": ["dragnet", "dragnet", "cleaneval-final"],
            "doc_id": ["7", "8", "9"],
            "text": ["a recipe for apple pie", "the striker shot and scored twice", "new phones on sale"],
        }
    )
    labels, report = build_labels(frames, pairs, params, pool)
    web = labels[labels["origin"] == "web"]
    assert len(web) == 3 and (web["conflict_event"] == 0).all() and (web["split"] == "train").all()
    assert web.set_index("doc_id")["violence_hits"].to_dict() == {
        "dragnet/7": 0,
        "dragnet/8": 1,
        "cleaneval-final/9": 0,
    }
    assert report["web_pool"] == {
        "web_cleaneval": {"rows": 1, "without_violence_terms": 1},
        "web_dragnet": {"rows": 2, "without_violence_terms": 1},
    }
    # the ConfliBERT rows are unchanged by the pool
    assert (
        labels[labels["origin"] == "conflibert"]
        .drop(columns="violence_hits")
        .reset_index(drop=True)
        .equals(
            build_labels(frames, pairs, params)[0][lambda f: f["origin"] == "conflibert"]
            .drop(columns="violence_hits")
            .reset_index(drop=True)
        )
    )
