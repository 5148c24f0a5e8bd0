"""Page lines and their features: what the line model sees, the same for any batching."""

from __future__ import annotations

import numpy as np

from newsaudit.steps.boilerplate.lines import (
    contiguous_filter,
    line_features,
    line_features_batch,
    normalize_lines,
    split_lines,
)


def test_split_lines_keeps_physical_line_numbers():
    page = split_lines("  First  \n\n\nSecond\n \nThird")
    assert page.texts == ["First", "Second", "Third"]
    assert page.line_no == [1, 4, 6] and page.blank_before == [0, 2, 1]
    assert split_lines(None).texts == [] and split_lines("").texts == []


def test_normalize_lines_folds_case_digits_and_spaces():
    assert normalize_lines(["Copyright 2024  Example\u00a0Media", "Page ١٢"]) == [
        "copyright 0 example media",
        "page 0",
    ]


def test_line_features_are_finite_shape(menafn_page):
    page = split_lines(menafn_page)
    X, names = line_features(page)
    assert X.shape == (len(page.texts), len(names))
    assert page.line_no[:3] == [1, 2, 3] and page.line_no[3] == 5  # blank line 4 skipped
    assert np.isfinite(np.nan_to_num(X)).all()


def test_line_features_of_a_batch_are_each_pages_features(menafn_page, article):
    pages = [
        split_lines(menafn_page),
        split_lines("\n".join(article)),
        split_lines(""),
        split_lines("One line"),
    ]
    X, names = line_features_batch(pages)
    alone = [line_features(p)[0] for p in pages]
    np.testing.assert_array_equal(X, np.concatenate(alone))
    assert names == line_features(pages[0])[1]


def test_contiguous_filter_drops_far_small_runs_only():
    keep = np.array([1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1], dtype=bool)
    n_tok = np.array([5, 3, 3, 3, 3, 40, 50, 2, 60, 45, 3, 3, 3, 3, 3, 30], dtype=float)
    # The article (lines 5-9, one dropped line inside) stays; the teasers at the edges go.
    out = contiguous_filter(keep, n_tok, gap=2, min_mass_frac=0.2)
    assert np.flatnonzero(out).tolist() == [5, 6, 8, 9]
    assert (contiguous_filter(keep, n_tok, gap=2, min_mass_frac=0.0) == keep).all()
    assert np.flatnonzero(contiguous_filter(keep, n_tok, gap=8, min_mass_frac=0.5)).tolist() == [
        0,
        5,
        6,
        8,
        9,
        15,
    ]
