"""The ConfliBERT benchmark's helpers (task score, thresholds, leakage, label implications) on
hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from newsaudit.benchmarks import conflibert_variants
from newsaudit.benchmarks.conflibert import (
    BenchmarkParams,
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


# --- the variants the comparison had not tried ---------------------------------------------------


def _multilabel_data(n: int = 120, seed: int = 0):
    """Three labels with their own cue words (label 2 implies label 1), sparse count features."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 3)) < 0.3).astype(int)
    y[:, 1] |= y[:, 2]
    x = rng.poisson(0.3, size=(n, 20)).astype(float)
    for j in range(3):
        x[:, j] += 3 * y[:, j]
    return sparse.csr_matrix(x), y


@pytest.mark.parametrize("kind", ["nbsvm", "classifier_chain", "label_powerset"])
def test_each_variant_gives_one_probability_per_label_and_learns_the_cues(kind):
    x, y = _multilabel_data()
    params = BenchmarkParams()
    prob = conflibert_variants._predict(kind, x[:90], y[:90], x[90:], 4.0, params, {})
    assert prob.shape == (30, 3) and ((prob >= 0) & (prob <= 1 + 1e-9)).all()
    assert example_based_f1(y[90:], prob >= 0.5) > 0.8


def test_label_powerset_marginals_sum_the_combinations_holding_the_label():
    x, y = _multilabel_data()
    prob = conflibert_variants.label_powerset(x, y, x, 4.0, BenchmarkParams())
    # label 2 implies label 1 in every fit combination, so its marginal can never exceed label 1's
    assert (prob[:, 2] <= prob[:, 1] + 1e-12).all()


def test_passages_cover_the_text_with_overlapping_windows():
    parts, owner = conflibert_variants.passages(["w " * 130, "short text"], words=60, stride=30)
    assert owner.tolist() == [0, 0, 0, 0, 1]
    assert [len(p.split()) for p in parts] == [60, 60, 60, 40, 2]


def test_passage_pooling_raises_a_long_document_with_one_violent_passage():
    x, y = _multilabel_data()
    params = BenchmarkParams(structure="independent")
    doc = sparse.csr_matrix(np.zeros((1, 20)))
    passage = sparse.csr_matrix(np.eye(1, 20, 0) * 4)  # label 0's cue
    pooled = conflibert_variants.passage_pooling(x, y, doc, 4.0, params, passage, np.array([0]))
    plain = conflibert_variants.predict_models(conflibert_variants.fit_models(x, y, 4.0, params), doc)
    assert pooled[0, 0] > plain[0, 0]
