"""The ConfliBERT benchmark's helpers (task score, thresholds, leakage, label implications) on
hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from newsaudit.benchmarks.conflibert import (
    apply_implications,
    comparison,
    comparison_plot,
    label_implications,
    leaked_test_rows,
    task_score,
    tune_thresholds,
)
from newsaudit.steps.classify.model import example_based_f1


def test_binary_task_score_is_positive_class_f1():
    y = np.array([[1], [1], [0], [0]])
    p = np.array([[1], [0], [1], [0]])
    assert task_score("BBC_News", y, p) == pytest.approx(0.5)


def test_tune_thresholds_never_worse_than_half():
    rng = np.random.default_rng(1)
    y = (rng.random((60, 3)) < 0.2).astype(int)
    prob = np.clip(y * 0.3 + rng.random((60, 3)) * 0.5, 0, 1)
    _, tuned = tune_thresholds("satp_all", y, prob, [0.1 * i for i in range(1, 10)], 2)
    assert tuned >= example_based_f1(y, prob >= 0.5)


def test_leaked_test_rows_only_counts_groups_reaching_train_or_dev():
    pairs = pd.DataFrame(
        [
            {"dataset": "d", "split_a": "train", "row_a": 1, "split_b": "test", "row_b": 5, "kind": "exact"},
            {"dataset": "d", "split_a": "test", "row_a": 6, "split_b": "test", "row_b": 7, "kind": "exact"},
            {"dataset": "e", "split_a": "dev", "row_a": 1, "split_b": "test", "row_b": 8, "kind": "near"},
        ]
    )
    assert leaked_test_rows(pairs, "d", ["exact", "near"]) == {5}


def test_comparison_records_and_targets():
    res = {"BBC_News": {"test_original": {"f1": 97.5}, "test_deduplicated": {"f1": 97.0}}}
    out = comparison(res)
    models = {r["model"] for r in out["records"]}
    assert {"TF-IDF (ours, original test)", "BERT-base (paper)", "best ConfliBERT (paper)"} <= models
    assert out["targets"]["BBC_News"]["beats_bert_base"] is True
    assert out["targets"]["BBC_News"]["within_2_points_of_best"] is True


def test_label_implications_found_and_applied():
    y = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0]] * 3)
    pairs = label_implications(y, min_support=2)
    assert pairs == [(0, 1), (0, 2), (1, 2)]
    prob = apply_implications(np.array([[0.9, 0.2, 0.1]]), pairs)
    assert prob.tolist() == [[0.9, 0.9, 0.9]]
    assert label_implications(y, None) == []


def test_comparison_plot_has_one_row_per_dataset_and_model():
    res = {"BBC_News": {"test_original": {"f1": 97.456}, "test_deduplicated": {"f1": 97.0}}}
    plot = comparison_plot(comparison(res))
    assert list(plot.columns) == ["dataset", "model", "f1"]
    assert not plot.duplicated(["dataset", "model"]).any()
    assert 97.46 in plot["f1"].tolist()
