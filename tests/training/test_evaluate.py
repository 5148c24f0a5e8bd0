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
from newsaudit.training.evaluate import TARGETS, EvaluateParams, error_sample, evaluate, targets
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


def _dev_frame() -> pd.DataFrame:
    """A tiny stand-in for the web-news dev set: two conflict texts, calm ones, one unsure."""
    rows = [
        (
            "dragnet",
            "1",
            "random",
            "conflict",
            "militants attacked a police post in Sukma and killed 9 officers",
        ),
        (
            "dragnet",
            "2",
            "random",
            "not",
            "the local football club from Cali won the cup final after extra time",
        ),
        (
            "dragnet",
            "3",
            "random",
            "not",
            "voters in Quetta went to the polls on sunday in a peaceful election",
        ),
        (
            "cleaneval-final",
            "4",
            "lexicon_screened",
            "conflict",
            "a bomb exploded in a market in Mosul, killing 12 people",
        ),
        ("cleaneval-final", "5", "lexicon_screened", "not", "a new hospital opened in Imphal with 40 beds"),
        ("cleaneval-final", "6", "lexicon_screened", "unsure", "police arrested 5 men in Cali after a fight"),
    ]
    dev = pd.DataFrame(rows, columns=["dataset", "doc_id", "sample", "label", "text"])
    dev["y"] = dev["label"].map({"conflict": 1.0, "not": 0.0})
    return dev


def test_evaluate_is_deterministic_and_measures_transfer(tmp_path, make_labels, small_train_params):
    labels = make_labels()
    bundle, _ = train_model(labels, small_train_params)
    params = EvaluateParams(error_samples=2, n_bootstrap=50)
    m1, plots = evaluate(labels, bundle, small_train_params, params, _dev_frame())
    m2, _ = evaluate(labels, bundle, small_train_params, params, _dev_frame())
    write_json(m1, tmp_path / "a.json")
    write_json(m2, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert set(m1["per_source"]) == {"cased", "lower", "nopunct"}
    loso = m1["leave_one_source_out"]["per_source"]
    assert set(loso) == {"cased", "lower", "nopunct"}
    for row in loso.values():
        assert row["ci"]["pr_auc"][0] - 1e-9 <= row["pr_auc"] <= row["ci"]["pr_auc"][1] + 1e-9
        assert "decision_threshold" in row["at_nested_threshold"]
    dev = m1["webnews_dev"]
    assert (dev["n"], dev["conflict"], dev["not"], dev["unsure"]) == (6, 2, 3, 1)
    assert [t["id"] for t in dev["conflict_texts"]] and dev["recall"] == 1.0
    assert set(dev["by_sample"]) == {"random", "lexicon_screened"}
    assert {
        "roc",
        "pr",
        "confusion",
        "calibration",
        "loso",
        "threshold_curve",
        "webnews_dev_scores",
        "errors",
    } <= set(plots)
    assert set(plots["threshold_curve"]["source"]) == {"cased", "lower", "nopunct", "webnews_dev"}
    assert m1["confusion_matrix"]["matrix"][1][1] == m1["test"]["confusion"]["tp"]
    assert set(m1["targets"]) and all(t["met"] in (True, False, None) for t in m1["targets"].values())


def test_targets_report_the_worst_source():
    metrics = {
        "leave_one_source_out": {
            "per_source": {
                "a": {"positives": 5, "pr_auc": 0.95, "f1": 0.8},
                "b": {"positives": 5, "pr_auc": 0.85, "f1": 0.75},
                "BBC_News": {"positives": 0, "pr_auc": None, "f1": None, "false_positive_rate": 0.03},
            }
        },
        "webnews_dev": {"roc_auc": 0.99, "precision": 0.5, "recall": 1.0},
    }
    t = targets(metrics)
    assert t["loso pr_auc (every source with conflict events)"] == {
        "value": 0.85,
        "target": 0.9,
        "kind": "at least",
        "met": False,
    }
    assert t["BBC false-positive rate, BBC held out"]["met"] is False
    assert t["webnews_dev recall"]["met"] is True


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
    evaluate = {"error_samples": 2, "n_bootstrap": 20, "webnews_dev": False}
    params.write_text(yaml.safe_dump({"train": train, "evaluate": evaluate}), encoding="utf-8")
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
            "--timings",
            str(tmp_path / "timings.json"),
        ],
    )
    args.func(args)
    assert model.is_file() and "Dev metrics" in card.read_text() and json.loads(metrics.read_text())["dev"]
    assert json.loads((tmp_path / "timings.json").read_text())["train_seconds"] > 0
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
    expected = [
        "calibration.csv",
        "confusion.csv",
        "errors.csv",
        "loso.csv",
        "pr.csv",
        "roc.csv",
        "threshold_curve.csv",
    ]
    assert sorted(p.name for p in plots.iterdir()) == expected
    # Each target is named in the table beside the metrics (its bound is a column of its own).
    table = pd.read_csv(tmp_path / "classifier.tables" / "targets.csv")
    assert list(table["metric"]) == list(TARGETS) and table["target"].between(0, 1).all()
