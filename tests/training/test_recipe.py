"""The recipe's pieces: which rows train, the threshold rule (hand-computed), PU filtering, and that
the shipped pipeline scores exactly like the fast path it was evaluated with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from newsaudit.training import recipe
from newsaudit.training.train import TrainParams, assemble_pipeline, views_for


def _labels_with_web(make_labels) -> pd.DataFrame:
    labels = make_labels().assign(origin="conflibert", violence_hits=0)
    web = pd.DataFrame(
        {
            "text": [
                "a recipe for apple pie with cinnamon",
                "the striker shot twice and the team attacked well",
                "gunmen attacked a police post and killed 4 officers",  # a positive hiding in the pool
                "new phones and laptops on sale this week",
            ],
            "conflict_event": 0,
            "source": "web_x",
            "orig_split": "pool",
            "row": range(4),
            "split": "train",
            "origin": "web",
            "violence_hits": [0, 2, 2, 0],
        }
    )
    return pd.concat([labels, web], ignore_index=True)


@pytest.mark.parametrize("mode, web_rows", [("none", 0), ("screened", 2), ("all", 4), ("pu", 4)])
def test_training_frame_uses_the_web_pool_as_asked(make_labels, mode, web_rows):
    frame = recipe.training_frame(
        _labels_with_web(make_labels), TrainParams(web_negatives=mode, web_weight=0.5)
    )
    web = frame[frame["origin"] == "web"]
    assert len(web) == web_rows
    assert (web["weight"] == 0.5).all() and (frame.loc[frame["origin"] != "web", "weight"] == 1.0).all()


def test_rule_threshold_hand_computed():
    params = TrainParams(min_precision=0.75, max_fpr=0.25, min_flagged=1)
    oos = pd.DataFrame(
        {
            "source": ["a"] * 6 + ["bbc"] * 4,
            "y": [*[1, 1, 0, 1, 0, 0], *[0, 0, 0, 0]],
            "decision": [*[3.0, 2.5, 2.0, 1.0, 0.5, 0.0], *[2.2, 0.4, 0.2, 0.1]],
        }
    )
    out = recipe.rule_threshold(oos, params)
    # a: precision 2/3 at 2.0 fails, 3/4 at 1.0 passes but lies below that failure: from 2.2 up
    # (2.2 is a candidate from bbc's scores; 2/2 flagged). bbc: FPR <= .25 allows one of four
    # flagged: 0.4 flags two, so from the next candidate, 0.5, up.
    assert out["by_source"] == {"a": 2.2, "bbc": 0.5}
    assert out["decision"] == 2.2 and out["binding_source"] == "a"


def test_precision_over_too_few_flagged_texts_is_not_judged():
    oos = pd.DataFrame({"source": "a", "y": [0, 1, 1, 1, 0], "decision": [5.0, 4.0, 3.0, 2.0, 1.0]})
    # precision from the top: 0/1, 1/2, 2/3, 3/4, 3/5
    strict = TrainParams(min_precision=0.6, max_fpr=1.0, min_flagged=1)
    assert recipe.rule_threshold(oos, strict)["decision"] > 5.0  # the top text fails: nothing is safe
    lenient = strict.model_copy(update={"min_flagged": 3})
    assert recipe.rule_threshold(oos, lenient)["decision"] == 1.0  # judged from 3 flagged on: all pass


def test_reliable_negatives_drop_the_pool_text_that_looks_positive(make_labels):
    params = TrainParams(
        web_negatives="pu",
        pu_folds=2,
        c_grid=[4.0],
        min_df=1,
        word_max_features=None,
        char_ngrams=False,
        vocab_min_sources=0,
        lead_chars=None,
    )
    frame = recipe.training_frame(_labels_with_web(make_labels), params)
    views = views_for(frame, params)
    rows = np.flatnonzero(frame["split"].to_numpy() == "train")
    kept = recipe.reliable_negatives(views, frame, rows, params, 4.0)
    dropped = frame.loc[sorted(set(rows) - set(kept)), "text"].tolist()
    assert "gunmen attacked a police post and killed 4 officers" in dropped
    assert not {"a recipe for apple pie with cinnamon", "new phones and laptops on sale this week"} & set(
        dropped
    )
    assert set(kept) >= set(rows[frame["origin"].to_numpy()[rows] != "web"])  # labelled rows all stay


def test_the_assembled_pipeline_scores_like_the_fast_path(make_labels, small_train_params):
    frame = recipe.training_frame(make_labels(), small_train_params)
    views = views_for(frame, small_train_params)
    rows = np.flatnonzero(frame["split"].to_numpy() == "train")
    fitted = recipe.fit(views, frame, rows, small_train_params, 4.0)
    pipe = assemble_pipeline(fitted)
    every = np.arange(len(frame))
    np.testing.assert_allclose(
        pipe.decision_function(frame["text"]), fitted.decision(views, every), atol=1e-5
    )


def test_a_score_hook_reaches_the_out_of_source_scores_and_the_threshold(make_labels, small_train_params):
    """The ablation's passage pooling scores through ``score``: the threshold rule must see those
    scores, not the plain decision values (shifting every score shifts the threshold with it)."""
    frame = recipe.training_frame(make_labels(), small_train_params)
    views = views_for(frame, small_train_params)
    rows = np.flatnonzero(np.isin(frame["split"].to_numpy(), ["train", "dev"]))
    plain = recipe.run(views, frame, rows, small_train_params, 4.0)
    shifted = recipe.run(
        views, frame, rows, small_train_params, 4.0, score=lambda model, r: model.decision(views, r) + 5.0
    )
    np.testing.assert_allclose(shifted.oos["decision"], plain.oos["decision"] + 5.0, atol=1e-9)
    assert shifted.rule["decision"] == pytest.approx(plain.rule["decision"] + 5.0, abs=1e-3)
