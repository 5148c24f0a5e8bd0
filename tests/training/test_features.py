"""The count-once TF-IDF (training.features) equals scikit-learn's TfidfVectorizer on the same rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from newsaudit.core.errors import NewsauditError
from newsaudit.steps.classify.model import normalise_text
from newsaudit.training.features import CountViews, ViewSpec

TEXTS = [
    "Gunmen attacked a police post in Sukma, killing 4.",
    "The finance minister presented the budget on Monday.",
    "A bomb exploded in a market; 12 people were killed.",
    "Voters went to the polls in a peaceful election.",
    "Rebels ambushed an army convoy near the border.",
    "The football club won the cup after extra time.",
    "Police arrested two men for selling fake watches; the minister said.",
    "Militants killed 3 soldiers in an attack on the convoy.",
]
WORD = ViewSpec("word", "word", (1, 2), None)
CHAR = ViewSpec("char", "char_wb", (3, 4), 50)


def reference(rows: list[int], min_df: int, char_max: int | None) -> FeatureUnion:
    def vec(**kw):
        return TfidfVectorizer(preprocessor=normalise_text, min_df=min_df, sublinear_tf=True, **kw)

    union = FeatureUnion(
        [
            ("word", vec(ngram_range=(1, 2))),
            ("char", vec(analyzer="char_wb", ngram_range=(3, 4), max_features=char_max)),
        ]
    )
    return union.fit([TEXTS[i] for i in rows])


@pytest.mark.parametrize("min_df", [1, 2])
def test_fold_matches_tfidf_vectorizer_fitted_on_the_same_rows(min_df):
    views = CountViews(TEXTS, [WORD, ViewSpec("char", "char_wb", (3, 4), None)], min_df)
    rows = np.array([0, 1, 2, 3, 5, 7])
    fold = views.fold(rows)
    ref = reference(rows.tolist(), min_df, None)
    assert fold.feature_names().tolist() == ref.get_feature_names_out().tolist()
    np.testing.assert_allclose(
        fold.transform(np.arange(len(TEXTS))).toarray(), ref.transform(TEXTS).toarray(), atol=1e-12
    )


def test_max_features_keeps_the_most_frequent_terms_like_sklearn():
    views = CountViews(TEXTS, [CHAR], 1)
    fold = views.fold(np.arange(len(TEXTS)))
    ref = TfidfVectorizer(
        preprocessor=normalise_text, analyzer="char_wb", ngram_range=(3, 4), max_features=50
    ).fit(TEXTS)
    # sklearn breaks frequency ties in no stated order; the counts of the kept terms must agree
    assert len(fold.columns[0]) == 50
    counts = np.asarray(views.views[0].counts.sum(axis=0)).ravel()
    kept, ref_terms = set(fold.vocabularies()["char"]), set(ref.get_feature_names_out())
    cutoff = counts[fold.columns[0]].min()
    assert all(counts[list(views.views[0].terms).index(t)] >= cutoff for t in ref_terms - kept)


def test_shipped_vectoriser_with_the_fold_vocabulary_and_idf_gives_the_same_matrix():
    views = CountViews(TEXTS, [WORD], 1)
    rows = np.array([0, 2, 4, 6])
    fold = views.fold(rows)
    vec = WORD.vectorizer(fold.vocabularies()["word"])
    vec.idf_ = fold.idf[0]
    np.testing.assert_allclose(
        vec.transform(TEXTS).toarray(), fold.transform(np.arange(len(TEXTS))).toarray(), atol=1e-6
    )


def test_min_sources_keeps_only_terms_shared_by_enough_groups():
    views = CountViews(TEXTS, [ViewSpec("word", "word", (1, 1), None)], 1)
    groups = np.array(["a", "b", "a", "b", "a", "b", "c", "c"])
    fold = views.fold(np.arange(len(TEXTS)), groups, min_sources=3)
    # "the" is in a, b and c; "killed" only in a and c; "minister" in b and c
    assert "the" in fold.vocabularies()["word"]
    assert "killed" not in fold.vocabularies()["word"]
    with pytest.raises(NewsauditError, match="vocab_min_sources"):
        views.fold(np.arange(len(TEXTS)), None, min_sources=2)


def test_extend_counts_new_texts_in_the_same_term_space():
    views = CountViews(TEXTS[:6], [WORD], 1)
    new = views.extend(["gunmen attacked the convoy", "unseen zebra quux"])
    assert new.tolist() == [6, 7]
    fold = views.fold(np.arange(6))
    x = fold.transform(new).toarray()
    assert x[0].sum() > 0 and x[1].sum() == 0  # no known term in the second text
