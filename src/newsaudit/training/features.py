"""TF-IDF features for many fits over one corpus: count once, select and weight per fit.

Leave-one-source-out, the out-of-source threshold and the ablation fit the same recipe dozens of
times on subsets of the same texts. Tokenising is the slow part (word and character n-grams in
Python), so :class:`CountViews` counts every n-gram of every text once, and :meth:`CountViews.fold`
does per fit what ``TfidfVectorizer(min_df, max_features, sublinear_tf=True)`` does on that fit's
rows: keep the terms with document frequency ``>= min_df`` in the fit rows (optionally only those
that occur in at least ``min_sources`` different training sources), the ``max_features`` most
frequent of them, ``idf = ln((1 + n) / (1 + df)) + 1``, ``tf = 1 + ln(count)``, rows L2-normalised
per view, views side by side as ``FeatureUnion`` puts them.

The shipped model is a plain scikit-learn pipeline built from the same selection
(:meth:`Fold.vocabularies` gives each vectoriser its vocabulary), so what was evaluated is what is
shipped; a test checks that the two give the same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from newsaudit.core.errors import NewsauditError
from newsaudit.steps.classify.model import preprocessor


@dataclass(frozen=True)
class ViewSpec:
    """One block of features: word or character n-grams, with or without the text normaliser."""

    name: str  # "word" or "char" (the FeatureUnion part name, a prefix of feature names)
    analyzer: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    max_features: int | None
    normalise: bool = True
    lead_chars: int | None = None  # read only the first characters of a text (None: all)

    def _common(self) -> dict:
        # Off = scikit-learn's default preprocessing (lower-casing only), so "normalisation off"
        # tests accent folding, digit mapping and punctuation removal, not case.
        return {
            "preprocessor": preprocessor(self.normalise, self.lead_chars),
            "analyzer": self.analyzer,
            "ngram_range": self.ngram_range,
        }

    def counter(self) -> CountVectorizer:
        return CountVectorizer(**self._common(), dtype=np.int32)

    def vectorizer(self, vocabulary: list[str]) -> TfidfVectorizer:
        """The shipped vectoriser for a vocabulary chosen by :meth:`CountViews.fold`."""
        return TfidfVectorizer(**self._common(), vocabulary=vocabulary, sublinear_tf=True, dtype=np.float32)


@dataclass
class _View:
    spec: ViewSpec
    counts: sparse.csr_matrix  # documents x terms (terms with corpus df >= min_df only)
    terms: np.ndarray  # term strings, sorted (CountVectorizer order)
    counter: CountVectorizer  # fitted on the first texts, to count texts added later
    keep: np.ndarray  # the counter's columns kept in ``counts``


@dataclass
class Fold:
    """The features of one fit: per view, the kept columns and their idf."""

    views: list[_View]
    columns: list[np.ndarray]
    idf: list[np.ndarray]

    @property
    def n_features(self) -> int:
        return int(sum(len(c) for c in self.columns))

    def transform(self, rows: np.ndarray) -> sparse.csr_matrix:
        blocks = []
        for view, cols, idf in zip(self.views, self.columns, self.idf, strict=True):
            x = view.counts[rows][:, cols].astype(np.float64)
            np.log(x.data, out=x.data)
            x.data += 1.0
            x = sparse.csr_matrix(x.multiply(idf[np.newaxis, :]))
            blocks.append(normalize(x, norm="l2", copy=False))
        return sparse.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    def vocabularies(self) -> dict[str, list[str]]:
        return {v.spec.name: v.terms[c].tolist() for v, c in zip(self.views, self.columns, strict=True)}

    def feature_names(self) -> np.ndarray:
        names = [
            f"{v.spec.name}__{t}" for v, c in zip(self.views, self.columns, strict=True) for t in v.terms[c]
        ]
        return np.asarray(names, dtype=object)


class CountViews:
    """n-gram counts of every text for each view, computed once."""

    def __init__(self, texts: list[str], specs: list[ViewSpec], min_df: int):
        if not specs:
            raise NewsauditError("train: no feature view (word n-grams are always on)")
        self.min_df = min_df
        self.n = len(texts)
        self.views: list[_View] = []
        for spec in specs:
            counter = spec.counter()
            counts = counter.fit_transform(texts).tocsr()
            terms = counter.get_feature_names_out()
            # A term below min_df over all texts is below it in every subset: drop it now (memory).
            keep = np.flatnonzero(np.bincount(counts.indices, minlength=counts.shape[1]) >= min_df)
            self.views.append(
                _View(spec, counts[:, keep].tocsr(), np.asarray(terms[keep], dtype=object), counter, keep)
            )

    def extend(self, texts: list[str]) -> np.ndarray:
        """Count more texts in the same term space (terms unseen so far are ignored, as a fitted
        vectoriser ignores them). Returns the new texts' row numbers."""
        rows = np.arange(self.n, self.n + len(texts))
        for view in self.views:
            extra = view.counter.transform(texts)[:, view.keep].tocsr()
            view.counts = sparse.vstack([view.counts, extra], format="csr")
        self.n += len(texts)
        return rows

    def fold(self, rows: np.ndarray, groups: np.ndarray | None = None, min_sources: int = 0) -> Fold:
        """The TF-IDF selection fitted on ``rows``; ``groups`` (one label per text) with
        ``min_sources`` keeps only terms found in at least that many groups among ``rows``."""
        rows = np.asarray(rows)
        columns, idfs = [], []
        for view in self.views:
            sub = view.counts[rows]
            present = sub.copy()
            present.data[:] = 1
            df = np.asarray(present.sum(axis=0)).ravel()
            keep = df >= self.min_df
            if min_sources > 1:
                if groups is None:
                    raise NewsauditError("train.vocab_min_sources needs the rows' sources")
                fit_groups = np.asarray(groups)[rows]
                # never more sources than the fit has (a small fit keeps terms common to all)
                need = min(min_sources, len(np.unique(fit_groups)))
                keep &= _groups_with_term(present, fit_groups) >= need
            cols = np.flatnonzero(keep)
            limit = view.spec.max_features
            if limit is not None and len(cols) > limit:
                total = np.asarray(sub[:, cols].sum(axis=0)).ravel()
                # Most frequent first; ties by term order, so the choice does not depend on the sort.
                cols = np.sort(cols[np.argsort(-total, kind="stable")[:limit]])
            if len(cols) == 0:
                raise NewsauditError(
                    f"train: no {view.spec.name} term passes min_df={self.min_df}"
                    + (f" and vocab_min_sources={min_sources}" if min_sources > 1 else "")
                    + f" on {len(rows)} rows"
                )
            columns.append(cols)
            idfs.append(np.log((1.0 + len(rows)) / (1.0 + df[cols])) + 1.0)
        return Fold(self.views, columns, idfs)


def _groups_with_term(present: sparse.csr_matrix, groups: np.ndarray) -> np.ndarray:
    """Per term: in how many distinct groups some row contains it."""
    out = np.zeros(present.shape[1], dtype=np.int32)
    for g in np.unique(groups):
        hit = np.asarray(present[groups == g].sum(axis=0)).ravel() > 0
        out += hit
    return out


def passages(texts: list[str], words: int = 60, stride: int = 30) -> tuple[list[str], np.ndarray]:
    """Overlapping word windows of each text (the text itself when it is shorter), and their owner."""
    out, owner = [], []
    for i, text in enumerate(texts):
        w = text.split()
        starts = range(0, len(w) - words + stride, stride) if len(w) > words else [0]
        for s in starts:
            out.append(" ".join(w[s : s + words]))
            owner.append(i)
    return out, np.asarray(owner)
