"""Training of the line model (stage ``train-linemodel``): which lines of a page dump are article text.

The training pages and their line labels come from :mod:`newsaudit.training.linemodel_gold`. Two
gradient-boosted models are stacked: the first sees per-line features (own, neighbours, position,
densest run); the second adds windows over the first model's out-of-fold probabilities, which
smooths isolated decisions (the article is usually one contiguous run). The decision threshold and
the contiguity decoder are chosen by cross-validation on the training pages with the benchmark's
own metric. The fitted model is the :class:`~newsaudit.steps.boilerplate.linemodel.LineModel` the
boilerplate step applies.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from tqdm import tqdm

from newsaudit.core.config import Section
from newsaudit.lib.extraction_metric import shingle_scores, shingles
from newsaudit.steps.boilerplate.linemodel import LineModel
from newsaudit.steps.boilerplate.lines import (
    context_features,
    contiguous_filter,
    line_features,
    split_lines,
    tokens,
)
from newsaudit.training.linemodel_gold import GoldPage, align_line_match, load_gold_pages, segment_line_labels

log = logging.getLogger(__name__)


class LineModelParams(Section):
    """``train_linemodel`` section of params.yaml: training of the line model."""

    sources: list[str] = ["dragnet", "cleaneval", "trafilatura-eval"]
    # Per-source weight of one page (every page has the same total weight within a source, as the
    # benchmark averages per document).
    source_weights: dict[str, float] = {"dragnet": 1.0, "cleaneval": 1.0, "trafilatura-eval": 0.5}
    # A line is content when at least this share of its tokens is aligned with the gold text.
    label_min_match: float = 0.5
    # Aligned blocks shorter than this many tokens only count when they cover a whole line
    # (isolated common words like "the" would otherwise match anywhere).
    align_min_block: int = 3
    cv_folds: int = 4
    seed: int = 13
    max_iter: int = 300
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    threshold_grid: list[float] = [round(0.2 + 0.025 * i, 3) for i in range(25)]
    # Contiguity decoder (see steps.boilerplate.lines.contiguous_filter), chosen by CV like the threshold.
    run_gap_grid: list[int] = [2, 4, 8]
    run_frac_grid: list[float] = [0.0, 0.05, 0.1, 0.2, 0.35]


# --------------------------------------------------------------------------------------------
# Training


@dataclass
class LineTable:
    """Stacked per-line features of many pages."""

    X: np.ndarray
    names: list[str]
    y: np.ndarray  # 1/0, NaN when unlabelled
    weight: np.ndarray
    doc: np.ndarray  # page index of each line
    n_tok: np.ndarray
    texts: list[str]


def build_line_table(pages: list[GoldPage], params: LineModelParams) -> LineTable:
    xs, ys, ws, docs, ntoks, texts = [], [], [], [], [], []
    names: list[str] = []
    for i, page in enumerate(tqdm(pages, desc="line features", unit="page")):
        lines = split_lines(page.text)
        if not lines.texts:
            continue
        X, names = line_features(lines)
        n_tok = np.array([len(tokens(t)) for t in lines.texts], dtype=float)
        if page.gold is not None:
            y = align_line_match(lines, page.gold, params.align_min_block) >= params.label_min_match
            y = y.astype(float)
        else:
            y = segment_line_labels(lines, page.with_segs, page.without_segs)
        # Token-proportional weights summing to the source weight per page: the benchmark scores
        # shingles and averages per document.
        w = np.where(np.isnan(y), 0.0, n_tok + 1.0)
        if w.sum() > 0:
            w = w / w.sum() * params.source_weights.get(page.source, 1.0)
        xs.append(X)
        ys.append(y)
        ws.append(w)
        docs.append(np.full(len(y), i))
        ntoks.append(n_tok)
        texts.extend(lines.texts)
    return LineTable(
        np.vstack(xs),
        names,
        np.concatenate(ys),
        np.concatenate(ws),
        np.concatenate(docs),
        np.concatenate(ntoks),
        texts,
    )


def _new_model(params: LineModelParams) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=params.max_iter,
        learning_rate=params.learning_rate,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        early_stopping=False,
        random_state=params.seed,
    )


def _fit(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, params: LineModelParams
) -> HistGradientBoostingClassifier:
    mask = w > 0
    model = _new_model(params)
    model.fit(X[mask], y[mask].astype(int), sample_weight=w[mask])
    return model


def stage2_matrix(
    table_doc: np.ndarray, prob1: np.ndarray, n_tok: np.ndarray, X1: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """First-pass features plus context windows over first-pass probabilities, page by page."""
    parts, names = [], []
    for d in np.unique(table_doc):
        idx = np.flatnonzero(table_doc == d)
        C, names = context_features(prob1[idx], n_tok[idx])
        parts.append((idx, C))
    C_all = np.zeros((len(prob1), len(names)))
    for idx, C in parts:
        C_all[idx] = C
    return np.hstack([X1, C_all]), names


def _doc_slices(doc: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(doc, kind="stable")
    bounds = np.flatnonzero(np.diff(doc[order])) + 1
    return {int(doc[g[0]]): g for g in np.split(order, bounds) if len(g)}


def kept_texts(
    table: LineTable, prob: np.ndarray, threshold: float, doc_ids: list[int], gap: int = 0, frac: float = 0.0
) -> list[str]:
    slices = _doc_slices(table.doc)
    out = []
    for d in doc_ids:
        idx = slices.get(d, np.zeros(0, dtype=int))
        keep = contiguous_filter(prob[idx] >= threshold, table.n_tok[idx], gap, frac)
        out.append("\n".join(table.texts[i] for i, k in zip(idx, keep, strict=True) if k))
    return out


def cross_validate(
    pages: list[GoldPage], table: LineTable, params: LineModelParams
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Out-of-fold probabilities of both stages, the CV-chosen threshold and the CV report."""
    folds = GroupKFold(n_splits=params.cv_folds)
    p1 = np.zeros(len(table.y))
    for k, (tr, te) in enumerate(folds.split(table.X, groups=table.doc)):
        log.info("stage 1, fold %d/%d", k + 1, params.cv_folds)
        p1[te] = _fit(table.X[tr], table.y[tr], table.weight[tr], params).predict_proba(table.X[te])[:, 1]
    X2, _ = stage2_matrix(table.doc, p1, table.n_tok, table.X)
    p2 = np.zeros(len(table.y))
    for k, (tr, te) in enumerate(folds.split(X2, groups=table.doc)):
        log.info("stage 2, fold %d/%d", k + 1, params.cv_folds)
        p2[te] = _fit(X2[tr], table.y[tr], table.weight[tr], params).predict_proba(X2[te])[:, 1]
    gold_docs = [i for i, p in enumerate(pages) if p.gold is not None]
    # Gold shingles once, not once per threshold.
    golds = [shingles(pages[i].gold or "") for i in gold_docs]
    grid = {}
    for thr in params.threshold_grid:
        preds = kept_texts(table, p2, thr, gold_docs)
        grid[thr] = shingle_scores(golds, preds, n_bootstrap=0)["f1"]
    best = max(sorted(grid), key=lambda t: (grid[t], -abs(t - 0.5)))
    report: dict = {
        "threshold": best,
        "threshold_grid_f1": {f"{t:.3f}": round(v, 4) for t, v in grid.items()},
    }
    decoder = {}
    for gap in params.run_gap_grid:
        for frac in params.run_frac_grid:
            preds = kept_texts(table, p2, best, gold_docs, gap, frac)
            decoder[(gap, frac)] = shingle_scores(golds, preds, n_bootstrap=0)["f1"]
    # Ties go to the weaker filter (smaller fraction, then larger gap).
    gap, frac = max(sorted(decoder), key=lambda k: (decoder[k], -k[1], k[0]))
    report["run_gap"], report["run_min_mass_frac"] = gap, frac
    report["run_grid_f1"] = {f"gap={g},frac={f}": round(v, 4) for (g, f), v in sorted(decoder.items())}
    by_source: dict[str, dict] = {}
    stages = (
        ("stage1", p1, 0.5, 0, 0.0),
        ("stage2", p2, best, 0, 0.0),
        ("stage2+run", p2, best, gap, frac),
    )
    for stage, prob, thr, g, f in stages:
        for source in sorted({p.source for p in pages}):
            docs = [i for i in gold_docs if pages[i].source == source]
            if not docs:
                continue
            s = shingle_scores(
                [pages[i].gold or "" for i in docs],
                kept_texts(table, prob, thr, docs, g, f),
                n_bootstrap=200,
                seed=params.seed,
            )
            by_source.setdefault(source, {})[stage] = {k: round(v, 4) for k, v in s.items()}
        labelled = table.weight > 0
        acc = float(
            np.average((prob[labelled] >= thr) == (table.y[labelled] == 1), weights=table.weight[labelled])
        )
        report[f"{stage}_weighted_line_accuracy"] = round(acc, 4)
    report["cv_shingle_scores"] = by_source
    return p1, p2, report


def train_line_model(
    pages: list[GoldPage], params: LineModelParams
) -> tuple[LineModel, dict, tuple[LineTable, np.ndarray]]:
    """Cross-validate (threshold, report), then fit both stages on all pages.

    Returns the model, the card (CV report) and the out-of-fold stage-2 probability of every line,
    which the benchmark uses to score the training sources without leakage.
    """
    table = build_line_table(pages, params)
    log.info(
        "line table: %d lines, %d labelled, %d features",
        len(table.y),
        int((table.weight > 0).sum()),
        table.X.shape[1],
    )
    p1_oof, p2_oof, report = cross_validate(pages, table, params)
    stage1 = _fit(table.X, table.y, table.weight, params)
    # The final second stage learns from out-of-fold first-stage probabilities, as at test time
    # the first stage has never seen the page.
    X2, cnames = stage2_matrix(table.doc, p1_oof, table.n_tok, table.X)
    stage2 = _fit(X2, table.y, table.weight, params)
    model = LineModel(
        stage1,
        stage2,
        float(report["threshold"]),
        table.names,
        cnames,
        int(report["run_gap"]),
        float(report["run_min_mass_frac"]),
    )
    report["n_pages"] = {s: sum(p.source == s for p in pages) for s in sorted({p.source for p in pages})}
    report["n_lines"] = len(table.y)
    report["n_labelled_lines"] = int((table.weight > 0).sum())
    report["positive_share"] = round(float(np.nanmean(table.y)), 4)
    return model, report, (table, p2_oof)


@dataclass
class TrainedLineModel:
    """What ``train-linemodel`` writes: the model, its card and the out-of-fold clean texts."""

    model: LineModel
    card: dict[str, Any]
    oof: pd.DataFrame


def oof_frame(pages: list[GoldPage], table: LineTable, prob: np.ndarray, model: LineModel) -> pd.DataFrame:
    """Out-of-fold clean text of every training page (no page was cleaned by a model that saw it)."""
    ids = list(range(len(pages)))
    texts = kept_texts(table, prob, model.threshold, ids, model.run_gap, model.run_min_mass_frac)
    return pd.DataFrame(
        {"doc_id": [p.doc_id for p in pages], "source": [p.source for p in pages], "clean_text": texts}
    )


def train_from_gold(external: Path, params: LineModelParams) -> TrainedLineModel:
    """Read the gold pages of ``params.sources`` under ``external`` and train the line model."""
    pages = load_gold_pages(external, params.sources)
    model, report, (table, p2_oof) = train_line_model(pages, params)
    card = {
        "model": "two stacked HistGradientBoostingClassifier (per-line features, then windows over "
        "out-of-fold first-stage probabilities)",
        "training_sources": params.sources,
        "test_set_never_used": "scrapinghub-article-extraction-benchmark",
        "params": params.model_dump(),
        "scikit_learn": sklearn.__version__,
        "features": model.feature_names,
        "context_features": model.context_names,
        "cv": report,
    }
    return TrainedLineModel(model, card, oof_frame(pages, table, p2_oof, model))


def card_text(card: dict[str, Any]) -> str:
    """The model card as written to ``models/line_model.json`` (floats to 4 digits, sorted keys)."""
    return json.dumps(_round_floats(card), indent=2, sort_keys=True) + "\n"


def _round_floats(obj, ndigits: int = 4):
    if isinstance(obj, float):
        return round(obj, ndigits)
    if isinstance(obj, dict):
        return {str(k): _round_floats(v, ndigits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_round_floats(v, ndigits) for v in obj]
    return obj
