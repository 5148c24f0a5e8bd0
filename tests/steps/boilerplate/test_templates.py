"""Site templates: per-batch line counts, merged in any grouping, and the index of template lines."""

from __future__ import annotations

import pandas as pd

from newsaudit.steps.boilerplate.lines import normalize_lines, split_lines
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.templates import (
    build_template_index,
    line_hashes,
    merge_template_counts,
    source_page_counts,
    template_line_counts,
)

PARAMS = BoilerplateParams(template_source_min_pages=10, template_min_pages=3, template_min_page_frac=0.1)
LONG_PLAIN = (
    "This story was first published by a partner agency and is republished here with its kind "
    "permission under a content sharing agreement"
)
LONG_FURNITURE = (
    "Copyright 2024 The Example Group: no part of this site may be copied or republished in any form "
    "without the written permission of its editors"
)


def _corpus() -> tuple[list[str | None], list[str]]:
    """12 pages of big.example (its own scope), 4 of small.example and 4 without a source (pooled)."""
    sources, texts = [], []
    towns = [
        "Alder",
        "Birch",
        "Cedar",
        "Dover",
        "Elm",
        "Fir",
        "Garth",
        "Heath",
        "Ivy",
        "Juniper",
        "Kent",
        "Lark",
    ]
    for i, town in enumerate(towns):
        sources.append("big.example")
        texts.append(f"Big Example | Home\nA story about the council of {town}.\nBig footer line {i}")
    for i in range(4):
        sources.append("small.example")
        texts.append(f"Shared menu\nSmall story {'ABCD'[i]}\n{LONG_PLAIN}\n{LONG_FURNITURE}")
    for i in range(4):
        sources.append(None)
        texts.append(f"Shared menu\nAnother story, {'EFGH'[i]}\n{LONG_PLAIN}\n{LONG_FURNITURE}")
    return sources, texts


def _counts(sources, texts) -> pd.DataFrame:
    return template_line_counts(sources, [split_lines(t) for t in texts], PARAMS)


def _hash(line: str) -> int:
    return int(line_hashes(normalize_lines([line]))[0])


def test_counts_are_pages_per_source_and_line():
    sources, texts = _corpus()
    counts = _counts(sources, texts).set_index(["source", "line_hash"])
    assert counts.loc[("big.example", _hash("Big Example | Home")), "pages"] == 12
    # digits are folded: the footer is one line on 12 pages
    assert counts.loc[("big.example", _hash("Big footer line 7")), "pages"] == 12
    assert counts.loc[("", _hash("Shared menu")), "pages"] == 4  # '' = pages without a source
    assert counts.loc[("", _hash(LONG_PLAIN)), "long_plain"]
    assert not counts.loc[("", _hash(LONG_FURNITURE)), "long_plain"]  # a furniture keyword


def test_a_line_counts_once_per_page():
    counts = _counts(["a"], ["Menu\nMenu\nMENU"])
    assert counts["pages"].tolist() == [1]


def test_merged_batch_counts_equal_the_whole_corpus_counts():
    sources, texts = _corpus()
    whole = _counts(sources, texts)
    for size in (1, 3, 7):
        parts = [_counts(sources[i : i + size], texts[i : i + size]) for i in range(0, len(texts), size)]
        pd.testing.assert_frame_equal(merge_template_counts(parts), whole)
        # merged in a tree (as the Dask engine does) or in one go: the same table
        tree = merge_template_counts([merge_template_counts(parts[:2]), merge_template_counts(parts[2:])])
        pd.testing.assert_frame_equal(tree, whole)


def test_empty_batch_counts_merge_away():
    sources, texts = _corpus()
    empty = template_line_counts([], [], PARAMS)
    assert list(empty.columns) == ["source", "line_hash", "pages", "long_plain"] and empty.empty
    pd.testing.assert_frame_equal(
        merge_template_counts([empty, _counts(sources, texts)]), _counts(sources, texts)
    )


def test_index_scopes_and_template_lines():
    sources, texts = _corpus()
    index = build_template_index(_counts(sources, texts), source_page_counts(pd.Series(sources)), PARAMS)
    # a source with enough pages is its own scope; a small one pools with the pages without a source
    assert index.scope("big.example") == "source:big.example"
    assert index.scope("small.example") == index.scope(None) == index.scope("never.seen") == "*"
    big = index.lines["source:big.example"]
    assert set(big) == {_hash("Big Example | Home"), _hash("Big footer line 1")}
    pooled = index.lines["*"]
    assert _hash("Shared menu") in pooled and pooled[_hash("Shared menu")] == 8
    # across the corpus a long plain line (a syndicated paragraph) is no template; long furniture is
    assert _hash(LONG_PLAIN) not in pooled and _hash(LONG_FURNITURE) in pooled
    page = split_lines(texts[0])
    flags = index.flags("big.example", line_hashes(normalize_lines(page.texts)))
    assert flags.tolist() == [True, False, True]
    assert not index.flags(None, line_hashes(normalize_lines(page.texts))).any()


def test_min_page_share_of_the_scope():
    sources, texts = _corpus()
    strict = PARAMS.model_copy(update={"template_min_page_frac": 0.9})
    index = build_template_index(_counts(sources, texts), source_page_counts(pd.Series(sources)), strict)
    assert _hash("Big Example | Home") in index.lines["source:big.example"]  # 12 of 12 pages
    assert _hash("Shared menu") in index.lines["*"]  # 8 of 8 pooled pages
    strict = PARAMS.model_copy(update={"template_min_pages": 13})
    index = build_template_index(_counts(sources, texts), source_page_counts(pd.Series(sources)), strict)
    assert not any(index.lines.values())
