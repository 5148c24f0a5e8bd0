"""Metric implementations against hand-computed cases, the evaluate core, the train and evaluate stages."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from newsaudit.core.io import write_json
from newsaudit.stages import evaluate as evaluate_stage
from newsaudit.stages import train as train_stage
from newsaudit.steps.classify.model import best_f1_threshold, example_based_f1
from newsaudit.training.evaluate import EvaluateParams, error_sample, evaluate
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


def test_error_sample_is_short_and_ordered():
    test = pd.DataFrame(
        {
            "text": ["a " * 200, "b", "c"],
            "conflict_event": [0, 1, 0],
            "source": "s",
            "orig_split": "test",
            "row": [0, 1, 2],
        }
    )
    out = error_sample(test, np.array([0.9, 0.1, 0.2]), 0.5, n=5, chars=20)
    assert [e["row"] for e in out["false_positives"]] == [0]
    assert len(out["false_positives"][0]["snippet"]) <= 20
    assert [e["row"] for e in out["false_negatives"]] == [1]


def test_evaluate_is_deterministic(tmp_path, make_labels, small_train_params):
    labels = make_labels()
    bundle, _ = train_model(labels, small_train_params)
    params = EvaluateParams(error_samples=2)
    m1, plots = evaluate(labels, bundle, small_train_params, params)
    m2, _ = evaluate(labels, bundle, small_train_params, params)
    write_json(m1, tmp_path / "a.json")
    write_json(m2, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert set(m1["per_source"]) == {"cased", "lower", "nopunct"}
    assert set(m1["leave_one_source_out"]["per_source"]) == {"cased", "lower", "nopunct"}
    assert {"roc", "pr", "confusion", "calibration"} <= set(plots)
    assert m1["confusion_matrix"]["matrix"][1][1] == m1["test"]["confusion"]["tp"]


def _stage_args(module, argv: list[str]):
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", default="params.yaml")
    module.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_train_and_evaluate_stages_write_their_outputs(tmp_path, make_labels, small_train_params):
    labels = tmp_path / "labels.parquet"
    make_labels().to_parquet(labels, index=False)
    params = tmp_path / "params.yaml"
    train = small_train_params.model_dump(mode="json")
    params.write_text(yaml.safe_dump({"train": train, "evaluate": {"error_samples": 2}}), encoding="utf-8")
    model, card, metrics = tmp_path / "m.skops", tmp_path / "card.md", tmp_path / "train.json"
    args = _stage_args(
        train_stage,
        [
            "--params",
            str(params),
            "train",
            "--labels",
            str(labels),
            "--labels-report",
            str(tmp_path / "none"),
            "--model",
            str(model),
            "--card",
            str(card),
            "--metrics",
            str(metrics),
        ],
    )
    args.func(args)
    assert model.is_file() and "Dev metrics" in card.read_text() and json.loads(metrics.read_text())["dev"]
    classifier, plots = tmp_path / "classifier.json", tmp_path / "plots"
    args = _stage_args(
        evaluate_stage,
        [
            "--params",
            str(params),
            "evaluate",
            "--labels",
            str(labels),
            "--model",
            str(model),
            "--metrics",
            str(classifier),
            "--plots",
            str(plots),
        ],
    )
    args.func(args)
    assert json.loads(classifier.read_text())["test"]["f1"] > 0.9
    expected = ["calibration.csv", "confusion.csv", "pr.csv", "roc.csv"]
    assert sorted(p.name for p in plots.iterdir()) == expected
