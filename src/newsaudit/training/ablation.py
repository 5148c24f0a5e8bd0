"""The classifier's training choices, one row each, judged by transfer (``newsaudit ablate-classifier``).

Every row reruns the whole recipe (:func:`newsaudit.training.recipe.run`) with one choice changed
from the shipped parameters (``params.yaml`` section ``train``, and ``labels`` for the negative
screening) and measures what :mod:`newsaudit.training.transfer` measures for the shipped model:
leave-one-source-out PR-AUC and F1 (at the recipe's own threshold, and at the nested threshold
chosen without the held-out source), BBC's false-positive rate with BBC held out, and the web-news
dev set's false positives scored by a model trained without the dev text's collection. A choice
is *kept* when it does not lower the worst held-out PR-AUC by more than ``tolerance`` and does not
raise the false-positive rates on general text (BBC held out, web-news dev) by more than
``tolerance``; a row that only changes the threshold is judged on F1 and false positives.

Too slow for every ``dvc repro`` (a few minutes per row on two cores), so it is a command whose
results file, ``reports/metrics/classifier_ablation.json``, is committed like the benchmark files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from newsaudit.training import recipe, transfer
from newsaudit.training.features import CountViews
from newsaudit.training.labels import DatasetRule, LabelsParams, build_labels
from newsaudit.training.train import TrainParams, binary_metrics, one_thread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    train: dict[str, Any] = field(default_factory=dict)
    screen_negatives: bool | None = None  # None: as in params.yaml


def variants(shipped: TrainParams) -> list[Variant]:
    """The rows: the shipped recipe, the first shipped recipe, then one change each."""
    web_alt = {"none": "screened", "screened": "all", "all": "screened", "pu": "screened"}[shipped.web_negatives]
    rows = [
        Variant("shipped", "the recipe in params.yaml"),
        Variant(
            "first_shipped",
            "the recipe before issue 14: no web text, screened negatives, C=16, best pooled F1 threshold",
            {"web_negatives": "none", "c_grid": [16.0], "threshold_rule": "best_f1", "char_ngrams": False,
             "vocab_min_sources": 0, "normalise": True, "class_weight": "balanced"},
            screen_negatives=True,
        ),
        Variant("normalise_off", "no text normaliser (lower-casing only)", {"normalise": not shipped.normalise}),
        Variant("screening_flipped", "ConfliBERT negatives screened by the violence lexicon: flipped", screen_negatives=None),
        Variant("class_weight_flipped", "class weights: flipped", {"class_weight": None if shipped.class_weight else "balanced"}),
        Variant("char_ngrams_flipped", "word vs word + char_wb 3-5 n-grams: flipped", {"char_ngrams": not shipped.char_ngrams}),
        Variant("vocab_min_sources_2", "vocabulary: terms found in at least 2 training sources", {"vocab_min_sources": 2}),
        Variant("vocab_min_sources_3", "vocabulary: terms found in at least 3 training sources", {"vocab_min_sources": 3}),
        Variant("web_none", "no web text", {"web_negatives": "none"}),
        Variant(f"web_{web_alt}", f"web text: {web_alt}", {"web_negatives": web_alt}),
        Variant("web_pu", "web text as unlabelled data (two-step PU)", {"web_negatives": "pu"}),
        Variant("threshold_best_f1", "threshold: best pooled out-of-source F1", {"threshold_rule": "best_f1"}),
    ]
    for c in (1.0, 4.0, 16.0):
        if [c] != shipped.c_grid:
            rows.append(Variant(f"C_{c:g}", f"C = {c:g}", {"c_grid": [c]}))
    return [v for v in rows if v.train.get("web_negatives") != shipped.web_negatives or v.name == "first_shipped"]


def variant_labels(frames, pairs, pool, label_params: LabelsParams, screen: bool | None, flip: bool) -> pd.DataFrame:
    datasets = dict(label_params.datasets)
    for name, rule in datasets.items():
        if rule.negatives == "rest" and name != "BBC_News":
            value = (not rule.screen_negatives) if flip else (rule.screen_negatives if screen is None else screen)
            datasets[name] = DatasetRule(**{**rule.model_dump(), "screen_negatives": value})
    params = label_params.model_copy(update={"datasets": datasets})
    return build_labels(frames, pairs, params, pool)[0]


def measure(labels: pd.DataFrame, dev: pd.DataFrame, params: TrainParams, n_boot: int, seed: int) -> dict[str, Any]:
    """One row of the table: the recipe on train+dev, then leave-one-source-out and the dev set."""
    with one_thread():
        frame = recipe.training_frame(labels, params)
        texts = frame["text"].tolist() + dev["text"].tolist()
        views = CountViews(texts, recipe.view_specs(params), params.min_df)
        split = frame["split"].to_numpy()
        done = recipe.run(views, frame, np.flatnonzero(np.isin(split, ["train", "dev"])), params)
        decision = float(done.rule["decision"])
        test = np.flatnonzero((split == "test") & (frame["origin"].to_numpy() != "web"))
        y_test = frame["conflict_event"].to_numpy()[test]
        in_domain = binary_metrics(y_test, done.model.decision(views, test), decision, brier=False)
        loso, _ = transfer.leave_one_source_out(views, frame, params, done.c, decision, n_boot, seed)
        dev_rows = np.arange(len(frame), len(frame) + len(dev))
        held = transfer.dev_set_scores(views, frame, dev_rows, dev, params, done.c)
    dev_sum = transfer.dev_set_summary(dev, held, decision)
    row: dict[str, Any] = {"C": done.c, "decision_threshold": decision, "vocabulary": done.model.fold.n_features}
    for src, m in loso.items():
        key = src.split("_")[0]
        if m["positives"]:
            row[f"{key}_pr_auc"] = m["pr_auc"]
            row[f"{key}_f1"] = m["f1"]
            row[f"{key}_f1_nested"] = m["at_nested_threshold"]["f1"]
        else:
            row[f"{key}_fpr"] = m["false_positive_rate"]
            row[f"{key}_fpr_nested"] = m["at_nested_threshold"]["false_positive_rate"]
    two = [m for m in loso.values() if m["positives"]]
    row["min_pr_auc"] = min(m["pr_auc"] for m in two)
    row["mean_pr_auc"] = float(np.mean([m["pr_auc"] for m in two]))
    row["min_f1"] = min(m["f1"] for m in two)
    row["min_f1_nested"] = min(m["at_nested_threshold"]["f1"] for m in two)
    row["dev_fp"] = dev_sum["false_positives"]
    row["dev_fpr"] = dev_sum["false_positive_rate"]
    row["dev_roc_auc"] = dev_sum["roc_auc"]
    row["dev_conflict_ranks"] = [t["rank"] for t in dev_sum["conflict_texts"]]
    row["dev_conflict_flagged"] = dev_sum["true_positives"]
    row["test_pr_auc"] = in_domain["pr_auc"]
    row["test_f1"] = in_domain["f1"]
    return row


def verdict(row: dict[str, Any], base: dict[str, Any], tolerance: float) -> str:
    """kept / dropped against the shipped row (see the module doc)."""
    worse_rank = row["min_pr_auc"] < base["min_pr_auc"] - tolerance
    worse_fp = (row.get("BBC_fpr") or 0) > (base.get("BBC_fpr") or 0) + tolerance or row["dev_fpr"] > base["dev_fpr"] + tolerance
    better = (
        row["min_pr_auc"] > base["min_pr_auc"] + tolerance
        or row["min_f1"] > base["min_f1"] + tolerance
        or row["dev_fpr"] < base["dev_fpr"] - tolerance
    )
    if worse_rank or worse_fp:
        return "dropped: worse on unseen sources"
    return "would help: consider shipping" if better else "dropped: no clear gain"


def run_ablation(
    frames, pairs, pool, dev: pd.DataFrame, label_params: LabelsParams, shipped: TrainParams,
    n_boot: int = 0, seed: int = 7, tolerance: float = 0.005, only: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Every variant's row and verdict. Returns (results, seconds per row)."""
    rows, seconds = {}, {}
    for v in variants(shipped):
        if only and v.name not in only and v.name != "shipped":
            continue
        start = time.perf_counter()
        labels = variant_labels(frames, pairs, pool, label_params, v.screen_negatives, v.name == "screening_flipped")
        params = shipped.model_copy(update=v.train)
        rows[v.name] = {"what": v.what, "changes": v.train, **measure(labels, dev, params, n_boot, seed)}
        seconds[v.name] = time.perf_counter() - start
        log.info("ablation %s: %s (%.0f s)", v.name, {k: rows[v.name][k] for k in ("min_pr_auc", "min_f1", "dev_fp")}, seconds[v.name])
    base = rows["shipped"]
    for name, row in rows.items():
        row["verdict"] = "shipped" if name == "shipped" else verdict(row, base, tolerance)
    return {"rows": rows, "tolerance": tolerance}, seconds
