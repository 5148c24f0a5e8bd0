"""Training of the line model: line labels from gold text, and a small model trained on real pages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsaudit.core.errors import NewsauditError
from newsaudit.steps.boilerplate.linemodel import load_line_model, save_line_model
from newsaudit.steps.boilerplate.lines import split_lines
from newsaudit.training.linemodel import LineModelParams, card_text, train_line_model
from newsaudit.training.linemodel_gold import align_line_match, load_gold_pages, segment_line_labels

EXTERNAL = Path(__file__).resolve().parents[2] / "data" / "external"
PAGE = "\n".join(
    [
        "Home | Markets | Opinion | Sign in",
        "The council voted on Tuesday to build a flood barrier along the river, officials said.",
        "Construction will start next spring and is expected to take three years to finish.",
        "Share this article",
        "Copyright 2024 Example News. All rights reserved.",
    ]
)


def test_alignment_labels_lines_by_tokens_not_exact_equality():
    page = split_lines(
        "Home | News\nThe council voted  on Tuesday to build a barrier.\nShare\nIt will cost money, "
        "officials said (Reuters)."
    )
    gold = "The council voted on Tuesday to build a barrier. It will cost money, officials said."
    match = align_line_match(page, gold)
    assert (match >= 0.5).tolist() == [False, True, False, True]


def test_segment_labels():
    page = split_lines("Newsletter\nThe minister resigned on Friday after the vote.\nOther")
    labels = segment_line_labels(page, ["resigned on Friday"], ["Newsletter"])
    assert labels[0] == 0 and labels[1] == 1 and np.isnan(labels[2])


def test_unknown_training_source_names_the_parameter(tmp_path):
    with pytest.raises(NewsauditError, match=r"train_linemodel\.sources: unknown training source"):
        load_gold_pages(tmp_path, ["scrapinghub"])


def test_card_text_rounds_floats_and_sorts_keys():
    assert card_text({"b": 0.123456, "a": [1.0, {"c": 2.00004}]}) == (
        '{\n  "a": [\n    1.0,\n    {\n      "c": 2.0\n    }\n  ],\n  "b": 0.1235\n}\n'
    )


@pytest.mark.slow
@pytest.mark.mirror
def test_small_line_model_trains_round_trips_and_beats_the_length_rule(tmp_path):
    if not (EXTERNAL / "dragnet-data" / "Corrected").is_dir():
        pytest.skip(f"unpacked dragnet data not found under {EXTERNAL} (run `newsaudit fetch`)")
    pages = [p for p in load_gold_pages(EXTERNAL, ["dragnet"]) if p.doc_id.startswith("dragnet/1")][:120]
    params = LineModelParams(
        sources=["dragnet"],
        max_iter=40,
        cv_folds=2,
        threshold_grid=[0.3, 0.5, 0.7],
        run_gap_grid=[4],
        run_frac_grid=[0.0, 0.1],
    )
    model, report, _ = train_line_model(pages, params)
    cv_f1 = report["cv_shingle_scores"]["dragnet"]["stage2+run"]["f1"]
    assert cv_f1 > 0.75
    save_line_model(model, tmp_path / "m.skops")
    again = load_line_model(tmp_path / "m.skops")
    page = split_lines(PAGE)
    assert (again.predict_proba_lines(page) == model.predict_proba_lines(page)).all()
