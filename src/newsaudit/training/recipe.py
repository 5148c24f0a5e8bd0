"""The training recipe as functions of row indices, so that the shipped model, leave-one-source-out,
the out-of-source threshold and the ablation all run the same code.

* :func:`training_frame` decides which rows train and with what weight: ConfliBERT rows always; the
  web pool (``origin = web``) not at all, screened by the violence lexicon, all, or as unlabelled
  data (``pu``: a two-step positive-unlabelled scheme, see :func:`reliable_negatives`).
* :func:`fit` fits TF-IDF (via :class:`~newsaudit.training.features.CountViews`) and an L2 logistic
  regression on some rows; :func:`out_of_source` scores every source with a model that has not seen
  it; :func:`rule_threshold` turns those scores into the decision threshold.

The threshold rule (``threshold_rule: precision``): the lowest decision value above which, on every
source scored out-of-source, precision stays at least ``min_precision`` (sources with positives)
and the false-positive rate at most ``max_fpr`` (sources without positives: BBC and the web pool,
i.e. general news and web text). "Above which" means at that value and every higher one, so a
source whose precision dips again higher up moves the threshold up. Precision depends on the base
rate; the FPR bound on general text is what keeps precision on a crawl with few conflict events.
Precision is not judged where fewer than ``min_flagged`` of a source's texts are flagged (a
precision of 0/1 at the very top would otherwise forbid every threshold).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from newsaudit.core.errors import NewsauditError
from newsaudit.steps.classify.model import best_f1_threshold
from newsaudit.training.features import CountViews, Fold, ViewSpec

log = logging.getLogger(__name__)


def view_specs(params) -> list[ViewSpec]:
    specs = [
        ViewSpec(
            "word",
            "word",
            (1, params.word_ngram_max),
            params.word_max_features,
            params.normalise,
            params.lead_chars,
        )
    ]
    if params.char_ngrams:
        specs.append(
            ViewSpec(
                "char",
                "char_wb",
                (params.char_ngram_min, params.char_ngram_max),
                params.char_max_features,
                params.normalise,
                params.lead_chars,
            )
        )
    return specs


def training_frame(labels: pd.DataFrame, params) -> pd.DataFrame:
    """Rows the recipe may train on, with ``weight`` and ``origin``; web rows per ``web_negatives``.

    ``pu`` keeps every web row here; :func:`reliable_negatives` removes the likely positives.
    """
    frame = labels.copy()
    if "origin" not in frame:
        frame["origin"] = "conflibert"
    web = frame["origin"].eq("web")
    if params.web_negatives == "none":
        frame = frame[~web]
    elif params.web_negatives == "screened" and web.any():
        if "violence_hits" not in frame:
            raise NewsauditError("train.web_negatives: screened needs the labels' violence_hits column")
        frame = frame[~web | frame["violence_hits"].eq(0)]
    frame = frame.reset_index(drop=True)
    frame["weight"] = np.where(frame["origin"].eq("web"), params.web_weight, 1.0)
    return frame


@dataclass
class Fitted:
    fold: Fold
    clf: LogisticRegression

    def decision(self, views: CountViews, rows: np.ndarray) -> np.ndarray:
        return self.clf.decision_function(self.fold.transform(rows))


def make_classifier(params, c: float) -> LogisticRegression:
    return LogisticRegression(
        C=c, class_weight=params.class_weight, max_iter=2000, solver="liblinear", random_state=params.seed
    )


def fit(views: CountViews, frame: pd.DataFrame, rows: np.ndarray, params, c: float) -> Fitted:
    rows = np.asarray(rows)
    y = frame["conflict_event"].to_numpy()[rows]
    if len(np.unique(y)) < 2:
        raise NewsauditError("train: a fit has one class only; check the labels stage")
    fold = views.fold(rows, frame["source"].to_numpy(), params.vocab_min_sources)
    clf = make_classifier(params, c).fit(
        fold.transform(rows), y, sample_weight=frame["weight"].to_numpy()[rows]
    )
    return Fitted(fold, clf)


def reliable_negatives(
    views: CountViews, frame: pd.DataFrame, rows: np.ndarray, params, c: float
) -> np.ndarray:
    """``rows`` without the web rows that look positive (two-step positive-unlabelled learning).

    Step 1: the web rows, unlabelled, are split into ``pu_folds`` folds; each fold is scored by a
    model trained on the labelled rows plus the other folds as negatives. Step 2: web rows scored
    above ``pu_decision`` (decision value; 0 = probability 0.5 before calibration) are dropped as
    possible positives, the rest are the reliable negatives the final fit uses.
    """
    rows = np.asarray(rows)
    if params.web_negatives != "pu":
        return rows
    web = rows[frame["origin"].to_numpy()[rows] == "web"]
    if len(web) < params.pu_folds:
        return rows
    labelled = rows[frame["origin"].to_numpy()[rows] != "web"]
    order = np.random.default_rng(params.seed).permutation(len(web))
    drop = []
    for k in range(params.pu_folds):
        held = web[order[k :: params.pu_folds]]
        rest = np.setdiff1d(web, held)
        model = fit(views, frame, np.concatenate([labelled, rest]), params, c)
        drop.append(held[model.decision(views, held) >= params.pu_decision])
    return np.setdiff1d(rows, np.concatenate(drop))


def decision_scorer(views: CountViews):
    """``score(model, rows)``: the fitted model's decision values, what the shipped model scores
    (the default wherever a scorer can be swapped, e.g. for the ablation's passage pooling)."""
    return lambda model, rows: model.decision(views, rows)


def out_of_source(
    views: CountViews,
    frame: pd.DataFrame,
    rows: np.ndarray,
    params,
    c: float,
    splits=("train", "dev"),
    score=None,
) -> pd.DataFrame:
    """Every source among ``rows`` scored by a model fitted on the others' train rows.

    A source's ``splits`` rows are scored (web rows are all in train). Returns ``row, source, y,
    decision`` for every scored row; sources whose held-out model would have one class are skipped.
    ``score(model, rows)`` replaces the model's decision function (the ablation's passage pooling).
    """
    score = score or decision_scorer(views)
    rows = np.asarray(rows)
    source = frame["source"].to_numpy()
    split = frame["split"].to_numpy()
    parts = []
    for src in sorted(np.unique(source[rows])):
        mine = rows[source[rows] == src]
        held = mine[np.isin(split[mine], splits)]
        others = rows[(source[rows] != src) & (split[rows] == "train")]
        if (
            len(held) == 0
            or frame["conflict_event"].to_numpy()[others].min()
            == frame["conflict_event"].to_numpy()[others].max()
        ):
            continue
        model = fit(views, frame, others, params, c)
        parts.append(
            pd.DataFrame(
                {
                    "row": held,
                    "source": src,
                    "y": frame["conflict_event"].to_numpy()[held],
                    "decision": score(model, held),
                }
            )
        )
    if not parts:
        raise NewsauditError("train: out-of-source scoring needs at least two sources with both classes")
    return pd.concat(parts, ignore_index=True)


def _lowest_safe(decision: np.ndarray, y: np.ndarray, candidates: np.ndarray, params) -> float:
    """Lowest candidate at and above which this source meets its bound (precision or FPR)."""
    order = np.argsort(-decision, kind="stable")
    d, yy = decision[order], y[order].astype(bool)
    # flagged counts at each candidate threshold (decision >= t)
    flagged = np.searchsorted(-d, -candidates, side="right")
    tp = np.concatenate([[0], np.cumsum(yy)])[flagged]
    fp = flagged - tp
    if yy.any():
        # precision over a handful of flagged texts is noise: judged from min_flagged texts on
        ok = (flagged < params.min_flagged) | (tp / np.maximum(flagged, 1) >= params.min_precision)
    else:
        ok = fp / max(len(yy), 1) <= params.max_fpr
    # candidates ascend; the safe region is the suffix after the last failure
    bad = np.flatnonzero(~ok)
    if len(bad) == 0:
        return float(candidates[0])
    if bad[-1] + 1 >= len(candidates):
        return float(candidates[-1]) + 1e-6
    return float(candidates[bad[-1] + 1])


def rule_threshold(oos: pd.DataFrame, params) -> dict[str, Any]:
    """The decision threshold from out-of-source scores (see the module doc), with each source's own."""
    if params.threshold_rule == "best_f1":
        t, f1 = best_f1_threshold(oos["y"].to_numpy(), oos["decision"].to_numpy())
        return {"decision": float(t), "pooled_f1": float(f1), "by_source": {}}
    candidates = np.unique(np.round(oos["decision"].to_numpy(), 4))
    by_source = {
        src: _lowest_safe(g["decision"].to_numpy(), g["y"].to_numpy(), candidates, params)
        for src, g in oos.groupby("source", sort=True)
    }
    binding = max(by_source, key=lambda s: (by_source[s], s))
    return {"decision": by_source[binding], "binding_source": binding, "by_source": by_source}


def two_class_ap(oos: pd.DataFrame) -> float:
    aps = [
        average_precision_score(g["y"], g["decision"])
        for _, g in oos.groupby("source")
        if g["y"].nunique() == 2
    ]
    return float(np.mean(aps)) if aps else float("nan")


def select_c(views, frame, rows, params, scorer=None) -> tuple[float, dict[str, float], pd.DataFrame | None]:
    """``C`` by mean out-of-source AP (``loso``) or dev AP. Returns (C, scores, that C's OOS scores)."""
    scores: dict[str, float] = {}
    oos_by_c: dict[float, pd.DataFrame] = {}
    if len(params.c_grid) == 1:
        return params.c_grid[0], {}, None
    train_rows = rows[frame["split"].to_numpy()[rows] == "train"]
    dev_rows = rows[frame["split"].to_numpy()[rows] == "dev"]
    for c in params.c_grid:
        if params.selection == "dev":
            model = fit(views, frame, train_rows, params, c)
            score = average_precision_score(
                frame["conflict_event"].to_numpy()[dev_rows], model.decision(views, dev_rows)
            )
        else:
            oos_by_c[c] = out_of_source(views, frame, rows, params, c, score=scorer)
            score = two_class_ap(oos_by_c[c])
        scores[f"{c:g}"] = float(score)
        log.info("C=%g: %s score %.4f", c, params.selection, score)
    # Ties go to the smaller C (stronger regularisation generalises better).
    best = max(params.c_grid, key=lambda c: (round(scores[f"{c:g}"], 6), -c))
    return best, scores, oos_by_c.get(best)


@dataclass
class Run:
    """One application of the recipe to some rows: the chosen C, the out-of-source scores, the
    threshold decision and the model fitted on the (reliable) train rows."""

    c: float
    selection_scores: dict[str, float]
    train_rows: np.ndarray
    oos: pd.DataFrame
    rule: dict[str, Any]
    model: Fitted


def run(
    views: CountViews, frame: pd.DataFrame, rows: np.ndarray, params, c: float | None = None, score=None
) -> Run:
    """The whole recipe on ``rows`` (their train and dev split): C (unless given), PU filtering,
    out-of-source scores, threshold rule, final fit on the train rows. ``score(model, rows)``, if
    given, replaces the decision function in the out-of-source scores, so the threshold rule sees
    what will be scored (the ablation's passage pooling), and so does the choice of C."""
    rows = np.asarray(rows)
    split = frame["split"].to_numpy()
    scores: dict[str, float] = {}
    oos = None
    if c is None:
        c, scores, oos = select_c(views, frame, rows, params, score)
    train_rows = reliable_negatives(views, frame, rows[split[rows] == "train"], params, c)
    dev_rows = rows[split[rows] == "dev"]
    if oos is None or params.web_negatives == "pu":
        oos = out_of_source(views, frame, np.concatenate([train_rows, dev_rows]), params, c, score=score)
    model = fit(views, frame, train_rows, params, c)
    if params.threshold_rule == "dev_best_f1":
        dev_rows = dev_rows[frame["origin"].to_numpy()[dev_rows] != "web"]
        t, f1 = best_f1_threshold(
            frame["conflict_event"].to_numpy()[dev_rows], model.decision(views, dev_rows)
        )
        rule = {"decision": float(t), "dev_f1": float(f1), "by_source": {}}
    else:
        rule = rule_threshold(oos, params)
    return Run(c, scores, train_rows, oos, rule, model)
