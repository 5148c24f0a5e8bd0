"""The classifier's training choices, one row each, judged by transfer (``newsaudit ablate-classifier``).

Every row reruns the whole recipe (:func:`newsaudit.training.recipe.run`) with one choice changed
from the shipped parameters (``params.yaml`` section ``train``, and ``labels`` for the negative
screening) and measures what :mod:`newsaudit.training.transfer` measures for the shipped model:
leave-one-source-out PR-AUC and F1 (at the recipe's own threshold, and at the nested threshold
chosen without the held-out source), BBC's false-positive rate with BBC held out, and the web-news
dev set's false positives scored by a model trained without the dev text's collection. Each row
is compared with the shipped row on threshold-free ranking (worst and mean held-out PR-AUC) and on
the figures at the recipe's own threshold (worst held-out F1, BBC's and the dev set's
false-positive rates): a row better on some and worse on none, by more than ``tolerance``, means
the shipped choice should change; otherwise the shipped choice is kept (the verdict names the
figures that moved).

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
from newsaudit.training.features import CountViews, passages
from newsaudit.training.labels import DatasetRule, LabelsParams, build_labels
from newsaudit.training.train import TrainParams, binary_metrics, one_thread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    train: dict[str, Any] = field(default_factory=dict)
    screen_negatives: bool | None = None  # None: as in params.yaml
    flip_screening: bool = False
    # score = (1 - w) x the text's decision value + w x its best passage's; 0: the text alone
    passage_weight: float = 0.0
    # passages from the text's first this-many characters only (None: the whole text)
    passage_chars: int | None = None


FIRST_SHIPPED = {
    "web_negatives": "none",
    "c_grid": [16.0],
    "threshold_rule": "best_f1",
    "char_ngrams": False,
    "vocab_min_sources": 0,
    "normalise": True,
    "class_weight": "balanced",
    "lead_chars": None,
}


def variants(shipped: TrainParams) -> list[Variant]:
    """The rows: the shipped recipe, the first shipped recipe, then one change each."""
    rows = [
        Variant("shipped", "the recipe in params.yaml"),
        Variant(
            "first_shipped",
            "the recipe before issue 14: word n-grams, no web text, C=16, best pooled F1 threshold",
            FIRST_SHIPPED,
            screen_negatives=True,
        ),
        Variant(
            "normalise_flipped",
            f"text normaliser {'off' if shipped.normalise else 'on'}",
            {"normalise": not shipped.normalise},
        ),
        Variant(
            "lead_chars_flipped",
            "whole text" if shipped.lead_chars else "first 2,500 characters only",
            {"lead_chars": None if shipped.lead_chars else 2500},
        ),
        Variant(
            "screening_flipped",
            "ConfliBERT negatives matching the violence lexicon: kept as negatives (flipped)",
            flip_screening=True,
        ),
        Variant(
            "class_weight_flipped",
            "no class weights" if shipped.class_weight else "balanced class weights",
            {"class_weight": None if shipped.class_weight else "balanced"},
        ),
        Variant(
            "char_ngrams_flipped",
            "word n-grams only" if shipped.char_ngrams else "word + char_wb n-grams",
            {"char_ngrams": not shipped.char_ngrams},
        ),
    ]
    rows += [
        Variant(
            f"vocab_min_sources_{k}",
            f"vocabulary: terms in at least {k} training sources" if k else "vocabulary: all terms",
            {"vocab_min_sources": k},
        )
        for k in (0, 2, 3, 4)
        if k != shipped.vocab_min_sources
    ]
    web = {
        "none": "no web text",
        "screened": "web text without violence terms as negatives",
        "all": "all web text as negatives",
        "pu": "web text as unlabelled data (two-step PU)",
    }
    rows += [
        Variant(f"web_{k}", what, {"web_negatives": k})
        for k, what in web.items()
        if k != shipped.web_negatives
    ]
    rows += [
        Variant(f"C_{c:g}", f"C = {c:g}", {"c_grid": [c]}) for c in (4.0, 16.0, 64.0) if [c] != shipped.c_grid
    ]
    rows += [
        Variant(
            "threshold_best_f1", "threshold: best pooled out-of-source F1", {"threshold_rule": "best_f1"}
        ),
        Variant("min_precision_0.8", "threshold rule with min_precision 0.8", {"min_precision": 0.8}),
        Variant("max_fpr_0.02", "threshold rule with max_fpr 0.02", {"max_fpr": 0.02}),
        Variant(
            "passage_pooling",
            "score = mean of the text's and its best 60-word passage's decision values, threshold "
            "rule on those scores (not shipped: the classify step scores whole texts)",
            passage_weight=0.5,
        ),
        Variant(
            "passage_pooling_0.75",
            "score = 0.25 x the text's + 0.75 x its best 60-word passage's decision value",
            passage_weight=0.75,
        ),
        Variant(
            "passage_pooling_0.75_max_fpr_0.02",
            "passage_pooling_0.75 with the threshold rule's max_fpr 0.02",
            {"max_fpr": 0.02},
            passage_weight=0.75,
        ),
        Variant(
            "passage_pooling_0.75_lead",
            f"passage_pooling_0.75 with passages from the first {shipped.lead_chars or 2500:,} characters "
            "only (the span the text itself is scored on: a bounded cost per page)",
            passage_weight=0.75,
            passage_chars=shipped.lead_chars or 2500,
        ),
        Variant(
            "passage_pooling_0.75_lead_max_fpr_0.02",
            "passage_pooling_0.75_lead with the threshold rule's max_fpr 0.02",
            {"max_fpr": 0.02},
            passage_weight=0.75,
            passage_chars=shipped.lead_chars or 2500,
        ),
    ]
    return rows


def passage_scorer(
    views: CountViews,
    texts: list[str],
    weight: float = 0.5,
    words: int = 60,
    stride: int = 30,
    chars: int | None = None,
):
    """``score(model, rows)`` = (1 - weight) x each text's decision value + weight x its best
    passage's (windows of ``words`` words every ``stride`` words over the whole text, or over its
    first ``chars`` characters)."""
    parts, owner_arr = passages([t[:chars] for t in texts] if chars else texts, words, stride)
    rows_of = views.extend(parts)

    def score(model, rows: np.ndarray) -> np.ndarray:
        sel = np.isin(owner_arr, rows)
        best = pd.Series(model.decision(views, rows_of[sel])).groupby(owner_arr[sel]).max()
        return (1 - weight) * model.decision(views, rows) + weight * best.reindex(rows).to_numpy()

    return score


def variant_labels(
    frames, pairs, pool, label_params: LabelsParams, screen: bool | None, flip: bool
) -> pd.DataFrame:
    """The labels with ConfliBERT's negative screening set (``screen``) or flipped (``flip``)."""
    datasets = dict(label_params.datasets)
    for name, rule in datasets.items():
        if rule.negatives == "rest" and name != "BBC_News":
            value = (
                (not rule.screen_negatives) if flip else (rule.screen_negatives if screen is None else screen)
            )
            datasets[name] = DatasetRule(**{**rule.model_dump(), "screen_negatives": value})
    params = label_params.model_copy(update={"datasets": datasets})
    return build_labels(frames, pairs, params, pool)[0]


def measure(
    labels: pd.DataFrame,
    dev: pd.DataFrame,
    params: TrainParams,
    n_boot: int,
    seed: int,
    passage_weight: float = 0.0,
    passage_chars: int | None = None,
) -> dict[str, Any]:
    """One row of the table: the recipe on train+dev, then leave-one-source-out and the dev set."""
    with one_thread():
        frame = recipe.training_frame(labels, params)
        texts = frame["text"].tolist() + dev["text"].tolist()
        views = CountViews(texts, recipe.view_specs(params), params.min_df)
        score = (
            passage_scorer(views, texts, passage_weight, chars=passage_chars)
            if passage_weight
            else recipe.decision_scorer(views)
        )
        split = frame["split"].to_numpy()
        fit_rows = np.flatnonzero(np.isin(split, ["train", "dev"]))
        done = recipe.run(views, frame, fit_rows, params, score=score)
        decision = float(done.rule["decision"])
        test = np.flatnonzero((split == "test") & (frame["origin"].to_numpy() != "web"))
        y_test = frame["conflict_event"].to_numpy()[test]
        in_domain = binary_metrics(y_test, score(done.model, test), decision, brier=False)
        loso, _ = transfer.leave_one_source_out(views, frame, params, done.c, decision, n_boot, seed, score)
        dev_rows = np.arange(len(frame), len(frame) + len(dev))
        held = transfer.dev_set_scores(views, frame, dev_rows, dev, params, done.c, score)
    dev_sum = transfer.dev_set_summary(dev, held, decision)
    origin = frame["origin"].to_numpy()
    row: dict[str, Any] = {
        "C": done.c,
        "decision_threshold": decision,
        "vocabulary": done.model.fold.n_features,
        "train_rows": len(done.train_rows),
        "train_web_rows": int((origin[done.train_rows] == "web").sum()),
    }
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
    row["dev_fp_random_sample"] = dev_sum["by_sample"].get("random", {}).get("false_positives")
    row["dev_fpr"] = dev_sum["false_positive_rate"]
    row["dev_roc_auc"] = dev_sum["roc_auc"]
    row["dev_conflict_ranks"] = [t["rank"] for t in dev_sum["conflict_texts"]]
    row["dev_conflict_flagged"] = dev_sum["true_positives"]
    row["test_pr_auc"] = in_domain["pr_auc"]
    row["test_f1"] = in_domain["f1"]
    return row


def verdict(row: dict[str, Any], base: dict[str, Any], tolerance: float) -> str:
    """The shipped row's choice against this row's (see the module doc). Threshold-free figures
    (held-out PR-AUC, dev ROC-AUC) and the false-positive rates at the recipe's own threshold."""

    def worse(key: str, higher_is_better: bool) -> bool:
        a, b = row.get(key), base.get(key)
        if a is None or b is None:
            return False
        return a < b - tolerance if higher_is_better else a > b + tolerance

    def better(key: str, higher_is_better: bool) -> bool:
        a, b = row.get(key), base.get(key)
        if a is None or b is None:
            return False
        return a > b + tolerance if higher_is_better else a < b - tolerance

    checks = [
        ("min_pr_auc", True),
        ("mean_pr_auc", True),
        ("min_f1", True),
        ("BBC_fpr", False),
        ("dev_fpr", False),
    ]
    lost = [k for k, hi in checks if worse(k, hi)]
    won = [k for k, hi in checks if better(k, hi)]
    if won and not lost:
        return f"better on {', '.join(won)}: the shipped choice should change"
    if won:
        return f"trade-off (better {', '.join(won)}; worse {', '.join(lost)}): shipped choice kept"
    if lost:
        return f"worse on {', '.join(lost)}: shipped choice kept"
    return "no difference beyond the tolerance: shipped choice kept"


def run_ablation(
    frames,
    pairs,
    pool,
    dev: pd.DataFrame,
    label_params: LabelsParams,
    shipped: TrainParams,
    n_boot: int = 0,
    seed: int = 7,
    tolerance: float = 0.005,
    only: list[str] | None = None,
    done: dict[str, Any] | None = None,
    on_row=None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Every variant's row and verdict. Returns (results, seconds per row).

    ``done``: rows measured before with the same shipped parameters (kept, not rerun); ``on_row``
    is called with the rows so far after each new one (the command saves them: a killed run resumes).
    """
    rows, seconds = dict(done or {}), {}
    for v in variants(shipped):
        if (only and v.name not in only and v.name != "shipped") or v.name in rows:
            continue
        start = time.perf_counter()
        labels = variant_labels(frames, pairs, pool, label_params, v.screen_negatives, v.flip_screening)
        params = shipped.model_copy(update=v.train)
        measured = measure(labels, dev, params, n_boot, seed, v.passage_weight, v.passage_chars)
        rows[v.name] = {"what": v.what, "changes": v.train, **measured}
        seconds[v.name] = time.perf_counter() - start
        if on_row is not None:
            on_row(rows)
        log.info(
            "ablation %s: %s (%.0f s)",
            v.name,
            {k: rows[v.name][k] for k in ("min_pr_auc", "min_f1", "dev_fp")},
            seconds[v.name],
        )
    base = rows["shipped"]
    for name, row in rows.items():
        row["verdict"] = "shipped" if name == "shipped" else verdict(row, base, tolerance)
    return {"rows": rows, "tolerance": tolerance}, seconds


TABLE_COLUMNS = (  # (key, header): the transfer figures first, in-domain last
    ("min_pr_auc", "worst LOSO PR-AUC"),
    ("mean_pr_auc", "mean LOSO PR-AUC"),
    ("min_f1", "worst LOSO F1"),
    ("BBC_fpr", "BBC FPR (held out)"),
    ("dev_fp", "dev false positives"),
    ("dev_roc_auc", "dev ROC-AUC"),
    ("test_f1", "test F1 (in-domain)"),
)


def markdown_table(results: dict[str, Any], tolerance: float | None = None) -> str:
    """The ablation as a Markdown table, one row per variant, with its verdict against the shipped
    row (computed here for a run that stopped before the end, which has no verdicts yet)."""
    rows = results["rows"]
    tol = results.get("tolerance", 0.005) if tolerance is None else tolerance
    base = rows.get("shipped")
    head = ["row", "what", *[h for _, h in TABLE_COLUMNS], "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = sorted(rows, key=lambda name: name != "shipped")  # shipped first, the rest as stored
    for name in order:
        row = rows[name]
        cells = [f"`{name}`", str(row.get("what", ""))]
        for key, _ in TABLE_COLUMNS:
            value = row.get(key)
            cells.append(
                "–" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))
            )
        if name == "shipped":
            decided = "shipped"
        else:
            decided = row.get("verdict") or (verdict(row, base, tol) if base else "no shipped row to compare")
        cells.append(decided)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
