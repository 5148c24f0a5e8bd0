"""Metric implementations against hand-computed cases, the evaluate core and the benchmark helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_train import SMALL, make_labels

from newsaudit.benchmarks.conflibert import (
    apply_implications,
    comparison,
    label_implications,
    leaked_test_rows,
    task_score,
    tune_thresholds,
)
from newsaudit.steps.classify.model import best_f1_threshold, example_based_f1
from newsaudit.training.evaluate import EvaluateParams, error_sample, evaluate
from newsaudit.core.io import write_json
from newsaudit.training.train import binary_metrics, train_model


def test_example_based_f1_hand_computed():
    y = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0], [0, 0, 0]])
    p = np.array([[1, 1, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0]])
    # row 0: 2*1/(2+2)=0.5; row 1 skipped (both empty); row 2: 0/(1+0)=0; row 3: 0/(0+1)=0
    assert example_based_f1(y, p) == pytest.approx(0.5 / 3)


def test_example_based_f1_all_empty_is_zero_and_perfect_is_one():
    zeros = np.zeros((3, 2), dtype=int)
    assert example_based_f1(zeros, zeros) == 0.0
    y = np.array([[1, 0], [0, 1], [0, 0]])
    assert example_based_f1(y, y) == 1.0


def test_binary_task_score_is_positive_class_f1():
    y = np.array([[1], [1], [0], [0]])
    p = np.array([[1], [0], [1], [0]])
    assert task_score("BBC_News", y, p) == pytest.approx(0.5)


def test_binary_metrics_hand_computed():
    y = np.array([1, 1, 0, 0, 0])
    prob = np.array([0.9, 0.4, 0.6, 0.1, 0.2])
    m = binary_metrics(y, prob, 0.5)
    assert m["confusion"] == {"tn": 2, "fp": 1, "fn": 1, "tp": 1}
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.5)
    assert m["roc_auc"] == pytest.approx(5 / 6)
    assert m["brier"] == pytest.approx(np.mean((prob - y) ** 2))


def test_best_f1_threshold_separates_perfectly_when_possible():
    t, f = best_f1_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.6, 0.8]))
    assert f == 1.0 and 0.3 < t <= 0.6


def test_tune_thresholds_never_worse_than_half():
    rng = np.random.default_rng(1)
    y = (rng.random((60, 3)) < 0.2).astype(int)
    prob = np.clip(y * 0.3 + rng.random((60, 3)) * 0.5, 0, 1)
    _, tuned = tune_thresholds("satp_all", y, prob, [0.1 * i for i in range(1, 10)], 2)
    assert tuned >= example_based_f1(y, prob >= 0.5)


def test_leaked_test_rows_only_counts_groups_reaching_train_or_dev():
    pairs = pd.DataFrame([
        {"dataset": "d", "split_a": "train", "row_a": 1, "split_b": "test", "row_b": 5, "kind": "exact"},
        {"dataset": "d", "split_a": "test", "row_a": 6, "split_b": "test", "row_b": 7, "kind": "exact"},
        {"dataset": "e", "split_a": "dev", "row_a": 1, "split_b": "test", "row_b": 8, "kind": "near"},
    ])
    assert leaked_test_rows(pairs, "d", ["exact", "near"]) == {5}


def test_comparison_records_and_targets():
    res = {"BBC_News": {"test_original": {"f1": 97.5}, "test_deduplicated": {"f1": 97.0}}}
    out = comparison(res)
    models = {r["model"] for r in out["records"]}
    assert {"TF-IDF (ours, original test)", "BERT-base (paper)", "best ConfliBERT (paper)"} <= models
    assert out["targets"]["BBC_News"]["beats_bert_base"] is True
    assert out["targets"]["BBC_News"]["within_2_points_of_best"] is True


def test_error_sample_is_short_and_ordered():
    test = pd.DataFrame({"text": ["a " * 200, "b", "c"], "conflict_event": [0, 1, 0], "source": "s",
                         "orig_split": "test", "row": [0, 1, 2]})
    out = error_sample(test, np.array([0.9, 0.1, 0.2]), 0.5, n=5, chars=20)
    assert [e["row"] for e in out["false_positives"]] == [0]
    assert len(out["false_positives"][0]["snippet"]) <= 20
    assert [e["row"] for e in out["false_negatives"]] == [1]


def test_evaluate_is_deterministic(tmp_path):
    labels = make_labels()
    bundle, _ = train_model(labels, SMALL)
    params = EvaluateParams(error_samples=2)
    m1, plots = evaluate(labels, bundle, SMALL, params)
    m2, _ = evaluate(labels, bundle, SMALL, params)
    write_json(m1, tmp_path / "a.json")
    write_json(m2, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert set(m1["per_source"]) == {"cased", "lower", "nopunct"}
    assert set(m1["leave_one_source_out"]["per_source"]) == {"cased", "lower", "nopunct"}
    assert {"roc", "pr", "confusion", "calibration"} <= set(plots)
    assert m1["confusion_matrix"]["matrix"][1][1] == m1["test"]["confusion"]["tp"]


def test_label_implications_found_and_applied():
    y = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0]] * 3)
    pairs = label_implications(y, min_support=2)
    assert pairs == [(0, 1), (0, 2), (1, 2)]
    prob = apply_implications(np.array([[0.9, 0.2, 0.1]]), pairs)
    assert prob.tolist() == [[0.9, 0.9, 0.9]]
    assert label_implications(y, None) == []
