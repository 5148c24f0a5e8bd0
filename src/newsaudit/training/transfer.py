"""Does the classifier hold on sources it has never seen? (part of stage ``evaluate``)

* **Leave-one-source-out**: for each ConfliBERT source, the whole recipe (out-of-source threshold
  included) is rerun without it and every row of that source is scored: at the shipped decision
  threshold (what a user gets; slightly optimistic, since that threshold saw the source's train and
  dev rows out-of-source) and at the *nested* threshold that recipe chose without the source
  (honest). BBC has no conflict events, so held out it measures the false-positive rate on general
  news a model has never seen.
* **Web-news dev set**: the hand-labelled texts (never trained on) scored by the shipped model and
  by models trained without the pool texts of the dev text's own collection (dragnet or CleanEval:
  same crawl, same sites), at the shipped decision threshold. Its base rate is tiny (2 conflict
  events in 1,082), so it measures false positives on general web text well and recall not at all.
* Percentile bootstrap intervals (resampling within each class) for ROC-AUC, PR-AUC, precision,
  recall and F1; exact (Clopper-Pearson) intervals for false-positive rates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import average_precision_score, roc_auc_score

from newsaudit.training import recipe
from newsaudit.training.features import CountViews
from newsaudit.training.train import binary_metrics
from newsaudit.training.webnews import POOL_SOURCES

AT_KEYS = ("precision", "recall", "f1", "false_positive_rate", "flagged")


def at_threshold(y: np.ndarray, score: np.ndarray, t: float) -> dict[str, Any]:
    m = binary_metrics(y, score, t, brier=False)
    m["flagged"] = m["confusion"]["tp"] + m["confusion"]["fp"]
    return {k: m[k] for k in AT_KEYS}


def fpr_interval(fp: int, negatives: int, level: float = 0.95) -> list[float] | None:
    if negatives == 0:
        return None
    ci = binomtest(fp, negatives).proportion_ci(confidence_level=level, method="exact")
    return [float(ci.low), float(ci.high)]


def bootstrap(y: np.ndarray, score: np.ndarray, t: float, n: int, seed: int) -> dict[str, list[float]]:
    """95 % percentile intervals; resampling within each class keeps both classes in every sample."""
    y = np.asarray(y).astype(int)
    score = np.asarray(score, dtype=float)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if len(pos) == 0 or len(neg) == 0 or n <= 0:
        return {}
    rng = np.random.default_rng(seed)
    stats = {k: [] for k in ("roc_auc", "pr_auc", "precision", "recall", "f1")}
    for _ in range(n):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        yy, ss = y[idx], score[idx]
        flag = ss >= t
        tp = int((flag & (yy == 1)).sum())
        stats["roc_auc"].append(roc_auc_score(yy, ss))
        stats["pr_auc"].append(average_precision_score(yy, ss))
        stats["precision"].append(tp / flag.sum() if flag.sum() else 0.0)
        stats["recall"].append(tp / len(pos))
        stats["f1"].append(2 * tp / (flag.sum() + len(pos)))
    return {k: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] for k, v in stats.items()}


def score_summary(y, score, t: float, n_boot: int, seed: int) -> dict[str, Any]:
    """ROC/PR-AUC, metrics at ``t`` and their intervals for one scored set (decision values)."""
    y = np.asarray(y).astype(int)
    both = len(np.unique(y)) == 2
    at = at_threshold(y, score, t)
    fp = int(((np.asarray(score) >= t) & (y == 0)).sum())
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, score)) if both else None,
        "pr_auc": float(average_precision_score(y, score)) if both else None,
        **at,
        "false_positive_rate_ci": fpr_interval(fp, int((y == 0).sum())),
        "ci": bootstrap(y, score, t, n_boot, seed),
    }


def leave_one_source_out(
    views: CountViews,
    frame: pd.DataFrame,
    params,
    c: float,
    shipped_decision: float,
    n_boot: int,
    seed: int,
    score=None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Per ConfliBERT source: the recipe without it, all its rows scored. Returns (table, scores).

    ``score(model, rows)`` replaces the model's decision function (the ablation's passage pooling).
    """
    score = score or recipe.decision_scorer(views)
    origin, source, split = (frame[k].to_numpy() for k in ("origin", "source", "split"))
    fit_rows = np.flatnonzero(np.isin(split, ["train", "dev"]))
    out, scored = {}, []
    for src in sorted(np.unique(source[origin != "web"])):
        done = recipe.run(views, frame, fit_rows[source[fit_rows] != src], params, c, score=score)
        held = np.flatnonzero(source == src)
        y = frame["conflict_event"].to_numpy()[held]
        d = score(done.model, held)
        nested = float(done.rule["decision"])
        row = score_summary(y, d, shipped_decision, n_boot, seed)
        row["at_nested_threshold"] = {**at_threshold(y, d, nested), "decision_threshold": nested}
        out[src] = row
        scored.append(pd.DataFrame({"source": src, "y": y, "decision": d}))
    return out, pd.concat(scored, ignore_index=True)


def dev_set_scores(
    views: CountViews,
    frame: pd.DataFrame,
    dev_rows: np.ndarray,
    dev: pd.DataFrame,
    params,
    c: float,
    score=None,
) -> np.ndarray:
    """Decision values of the dev texts from models trained without their collection's pool texts.

    ``dev_rows`` are the dev texts' rows in ``views`` (never in ``frame``'s training rows).
    """
    score = score or recipe.decision_scorer(views)
    source, split = frame["source"].to_numpy(), frame["split"].to_numpy()
    train = np.flatnonzero(split == "train")
    out = np.full(len(dev), np.nan)
    for pool, datasets in POOL_SOURCES.items():
        mine = np.flatnonzero(dev["dataset"].isin(datasets).to_numpy())
        if len(mine) == 0:
            continue
        rows = train[source[train] != f"web_{pool}"]
        rows = recipe.reliable_negatives(views, frame, rows, params, c)
        out[mine] = score(recipe.fit(views, frame, rows, params, c), dev_rows[mine])
    if np.isnan(out).any():
        raise ValueError(
            "dev set: a dataset without a pool collection"
        )  # GOLD_FILES and POOL_SOURCES disagree
    return out


def dev_set_summary(
    dev: pd.DataFrame, score: np.ndarray, t: float, prob: np.ndarray | None = None
) -> dict[str, Any]:
    """False positives on the `not` texts, where the conflict and unsure texts rank, ROC-AUC (two
    positives: a rough figure). ``score`` and ``t`` share one scale; ``prob`` is reported if given."""
    ids = (dev["dataset"] + "/" + dev["doc_id"]).to_numpy()
    shown = prob if prob is not None else score
    rank = pd.Series(score).rank(ascending=False, method="min").to_numpy().astype(int)
    labelled = dev["label"].isin(["conflict", "not"]).to_numpy()
    y = (dev["label"] == "conflict").to_numpy().astype(int)
    negatives = dev["label"].eq("not").to_numpy()
    fp = negatives & (score >= t)
    pos = np.flatnonzero(y == 1)

    def listed(mask: np.ndarray) -> list[dict[str, Any]]:
        idx = np.flatnonzero(mask)
        idx = idx[np.argsort(-score[idx], kind="stable")]
        return [{"id": str(ids[i]), "score": float(shown[i]), "rank": int(rank[i])} for i in idx]

    tp = int((score[pos] >= t).sum())
    by_sample = {}
    for sample in sorted(dev["sample"].unique()):
        neg = negatives & dev["sample"].eq(sample).to_numpy()
        by_sample[sample] = {
            "not": int(neg.sum()),
            "false_positives": int((neg & fp).sum()),
            "false_positive_rate": float((neg & fp).sum() / neg.sum()) if neg.any() else None,
            "false_positive_rate_ci": fpr_interval(int((neg & fp).sum()), int(neg.sum())),
        }
    return {
        "n": len(dev),
        "conflict": len(pos),
        "not": int(negatives.sum()),
        "unsure": int(dev["label"].eq("unsure").sum()),
        "false_positives": int(fp.sum()),
        "false_positive_rate": float(fp.sum() / negatives.sum()) if negatives.any() else None,
        "false_positive_rate_ci": fpr_interval(int(fp.sum()), int(negatives.sum())),
        "by_sample": by_sample,
        "true_positives": tp,
        "precision": tp / (tp + int(fp.sum())) if tp + fp.sum() else None,
        "recall": tp / len(pos) if len(pos) else None,
        "roc_auc": float(roc_auc_score(y[labelled], score[labelled]))
        if 0 < len(pos) < labelled.sum()
        else None,
        "flagged_not": listed(fp),
        "conflict_texts": listed(y == 1),
        "unsure_texts": listed(dev["label"].eq("unsure").to_numpy()),
    }


def threshold_curve(scored: pd.DataFrame, to_prob, thresholds: np.ndarray, digits: int) -> pd.DataFrame:
    """Per source and probability threshold: precision, recall, FPR and share flagged, from
    out-of-source scores (``source, y, decision``; ``y`` NaN rows are left out)."""
    rows = []
    scored = scored[scored["y"].notna()]
    for src, g in scored.groupby("source", sort=True):
        p = to_prob(g["decision"].to_numpy())
        y = g["y"].to_numpy().astype(int)
        for t in thresholds:
            flag = p >= t
            tp, fp = int((flag & (y == 1)).sum()), int((flag & (y == 0)).sum())
            rows.append(
                {
                    "source": src,
                    "threshold": round(float(t), digits),
                    "precision": round(tp / (tp + fp), digits) if tp + fp else None,
                    "recall": round(tp / y.sum(), digits) if y.sum() else None,
                    "false_positive_rate": round(fp / (y == 0).sum(), digits) if (y == 0).any() else None,
                    "flagged_share": round(float(flag.mean()), digits),
                }
            )
    return pd.DataFrame(rows)
