"""The classify step: which pages are scored, nulls with reasons for the others, corpus-wide cluster
sizes whatever the batches, statistics, and probabilities equal to the model's own."""

from __future__ import annotations

import pandas as pd
import pytest

from newsaudit.core.config import Execution
from newsaudit.engines.dispatch import run_step
from newsaudit.pipeline.reference import annotate_predictions
from newsaudit.steps.classify.score import ClassifyParams, cluster_sizes, score_texts, unclassified_reason
from newsaudit.steps.classify.stats import corpus_stats
from newsaudit.steps.classify.step import ClassifyStep

ATTACK = "rebels attacked a police post in Imphal and killed 9 officers. officials said on monday. " * 3
CALM = "the local football club from Cali won the cup final after extra time. the report said. " * 3


def pages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": ["a", "b", "c", "d", "e", "f", "g", "h"],
            "source": ["s1", "s1", "s1", "s2", "s2", "s2", "s2", "s2"],
            "language": ["en", "en", "en", "fr", "en", None, "en", "en"],
            "status": [
                "accepted",
                "accepted",
                "rejected",
                "accepted",
                "accepted",
                "accepted",
                "accepted",
                "accepted",
            ],
            "clean_text": [
                ATTACK,
                CALM,
                None,
                "des militants ont attaqué " * 20,
                ATTACK,
                CALM,
                "short",
                CALM,
            ],
            "is_error_page": [False, False, False, False, False, False, False, True],
            "is_representative": [True, True, True, True, False, True, True, True],
            "near_dup_cluster": [1, 2, None, 3, 1, 4, 5, 6],
        }
    )


def test_annotate_scores_only_eligible_pages_and_gives_reasons(labels_bundle):
    out = annotate_predictions(pages(), labels_bundle, ClassifyParams())
    assert out["classified"].tolist() == [True, True, False, False, False, False, False, False]
    assert out["unclassified_reason"].tolist()[2:] == [
        "rejected",
        "language_not_supported",
        "near_duplicate",
        "language_unknown",
        "too_short",
        "error_page",
    ]
    assert out["conflict_label"].tolist()[:2] == [True, False]
    # Unscored pages are null, never silently negative.
    assert out["conflict_label"].iloc[2:].isna().all()
    assert out["conflict_prob"].iloc[2:].isna().all()
    assert out["conflict_terms"].iloc[2:].isna().all()
    assert out["cluster_size"].tolist()[:2] == [2, 1]
    assert "killed" in out["conflict_terms"].iloc[0] or "attacked" in out["conflict_terms"].iloc[0]
    assert list(out.columns[:8]) == list(pages().columns)  # input columns kept, in order


def test_annotate_does_not_mutate_its_input(labels_bundle):
    frame = pages()
    annotate_predictions(frame, labels_bundle, ClassifyParams())
    pd.testing.assert_frame_equal(frame, pages())


def test_a_table_without_clusters_gets_no_cluster_size(labels_bundle):
    out = annotate_predictions(pages().drop(columns=["near_dup_cluster"]), labels_bundle, ClassifyParams())
    assert "cluster_size" not in out and out["classified"].sum() == 2


def test_unclassified_reason_checks_only_the_columns_a_table_has():
    ad_hoc = pd.DataFrame({"text": [ATTACK, "tiny", None]})
    params = ClassifyParams(text_column="text")
    assert unclassified_reason(ad_hoc, params).tolist() == [None, "too_short", "no_text"]
    # the first matching reason wins
    both = pages().assign(status="rejected")
    assert set(unclassified_reason(both, ClassifyParams())) == {"rejected"}


def test_cluster_sizes():
    sizes = cluster_sizes(pd.Series(["x", "y", None, "x", "x"]))
    assert sizes.tolist() == [3, 1, 1, 3, 3]


def test_corpus_stats_by_source_and_language(labels_bundle):
    stats = corpus_stats(annotate_predictions(pages(), labels_bundle, ClassifyParams()))
    assert stats["overall"]["pages"] == 8 and stats["overall"]["classified"] == 2
    assert stats["overall"]["conflict_events"] == 1
    assert stats["by_source"]["s2"]["classified"] == 0 and stats["by_source"]["s2"]["share_conflict"] is None
    assert stats["by_language"]["fr"]["unclassified"] == {"language_not_supported": 1}
    assert stats["by_language"]["(none)"]["unclassified"] == {"language_unknown": 1}
    assert stats["overall"]["share_conflict_cluster_weighted"] == pytest.approx(2 / 3)


def test_score_texts_matches_predict_proba_exactly(labels_bundle, make_labels):
    texts = [*make_labels()["text"].tolist()[:200], ATTACK, CALM]
    prob, terms = score_texts(labels_bundle, texts, 3)
    assert (prob == labels_bundle["model"].predict_proba(texts)[:, 1]).all()
    assert len(terms) == len(texts) and all(t.count(";") <= 2 for t in terms)


@pytest.mark.parametrize("workers", [1, 2])
def test_stream_batches_keep_corpus_wide_cluster_sizes(labels_bundle, tmp_path, workers):
    src, dst = tmp_path / "pages.parquet", tmp_path / "out.parquet"
    frame = pages().assign(near_dup_cluster=lambda d: d["near_dup_cluster"].astype("string"))
    frame.to_parquet(src, index=False)
    params = ClassifyParams(batch_size=3)
    run_step(ClassifyStep(params, labels_bundle), Execution(engine="stream"), src, dst, {}, 3, workers)
    whole = annotate_predictions(pd.read_parquet(src), labels_bundle, params)
    got = pd.read_parquet(dst)
    # batches of 3 rows split cluster "1" (rows a and e) across batches: its size is still 2
    assert got["cluster_size"].tolist() == whole["cluster_size"].tolist() == [2, 1, 1, 1, 2, 1, 1, 1]
    assert got["conflict_prob"].tolist() == pytest.approx(
        whole["conflict_prob"].astype(float).tolist(), nan_ok=True
    )
    assert got["doc_id"].tolist() == frame["doc_id"].tolist()
    reasons = [got["unclassified_reason"], whole["unclassified_reason"]]
    assert reasons[0].fillna("-").tolist() == reasons[1].fillna("-").tolist()


def test_top_terms_are_the_largest_positive_contributions_per_row_ties_in_column_order():
    import numpy as np
    import scipy.sparse as sp

    from newsaudit.steps.classify.score import _top_terms

    x = sp.csr_array(np.array([[1.0, 2.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 1.0, 0.5]]))
    coef = np.array([-1.0, 1.0, 2.0, 1.0])
    names = np.array(["word__killed", "word__army", "char__ bom", "word__shot"])
    # row 0: army and shot tie at 2.0 (column order), killed pushes away; row 1 has no term;
    # row 2: bom 2.0, army 1.0, shot 0.5 (k=2 keeps two)
    assert _top_terms(x, coef, names, 2) == ["army; shot", "", " bom; army"]
    assert _top_terms(x, coef, names, 5) == ["army; shot", "", " bom; army; shot"]
    assert _top_terms(x, coef, names, 0) == ["", "", ""]
