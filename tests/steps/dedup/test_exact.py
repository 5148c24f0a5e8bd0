"""Exact duplicates and the cluster columns: eligible pages, keys, canonical pages, and the columns
built from component labels (signatures fetched only where a similarity is not 1 by construction)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.minhash import estimated_jaccard
from newsaudit.steps.dedup.exact import (
    assign,
    canonical,
    cluster_columns,
    eligible_exact_keys,
    exact_keys,
    page_keys,
)


def test_exact_keys_ignore_case_punctuation_and_spacing():
    a, b, c, d = exact_keys(["The Council met.", "the council  MET", "The council met again", "!!! ..."])
    assert a == b != c
    assert d is None  # no word: no key


def test_only_accepted_pages_with_text_that_are_not_error_pages_get_keys():
    pages = pd.DataFrame(
        {
            "clean_text": ["same words", "same words", "same words", None, "same words"],
            "status": ["accepted", "rejected", "accepted", "accepted", "accepted"],
            "is_error_page": [False, False, True, False, None],
        },
        index=[10, 11, 12, 13, 14],
    )
    keys = eligible_exact_keys(pages)
    assert keys.index.tolist() == pages.index.tolist()
    assert keys.notna().tolist() == [True, False, False, False, True]
    assert keys[10] == keys[14]


def _keyed():
    """Five pages: a, b, d one exact group (b and a longest: a wins the tie), c and e alone."""
    frame = pd.DataFrame(
        {
            "doc_id": ["d", "b", "a", "c", "e"],
            "clean_text": ["Same text.", "same text   !", "same  text  !", "other", "third p"],
        },
        index=[0, 1, 2, 3, 4],
    )
    return frame, canonical(page_keys(frame))


def test_canonical_page_is_the_longest_then_the_smallest_doc_id():
    _, keyed = _keyed()
    assert keyed.doc_ids.to_pylist() == ["a", "b", "c", "d", "e"]  # doc_id order, rows kept
    assert keyed.row.tolist() == [2, 1, 3, 0, 4]
    assert [keyed.doc_ids[int(i)].as_py() for i in keyed.canon] == ["a", "a", "c", "a", "e"]
    assert keyed.node.tolist() == [0, 0, 1, 0, 2]  # nodes: the canonical pages a, c, e
    assert keyed.node_ids.to_pylist() == ["a", "c", "e"]


def test_a_repeated_doc_id_is_named():
    frame = pd.DataFrame({"doc_id": ["x", "y", "x", "y"], "clean_text": ["a", "b", "c", "d"]})
    with pytest.raises(NewsauditError, match="doc_id 'x' occurs more than once"):
        canonical(page_keys(frame))


def test_cluster_fields_from_component_labels():
    frame, keyed = _keyed()
    labels = np.array([0, 0, 2])  # nodes a and c near duplicates; e alone
    sig = np.array([[1, 2, 3, 4], [1, 2, 3, 9], [5, 6, 7, 8]], dtype=np.uint32)
    asked = []

    def similarity(pairs: np.ndarray) -> np.ndarray:
        asked.append(pairs.tolist())
        return estimated_jaccard(sig, pairs)

    fields, pointed = cluster_columns(keyed, labels, similarity)
    assert sorted(fields.index.tolist()) == [0, 1, 2, 3, 4]  # the keyed rows, by row number
    out = assign(frame, fields, pointed).set_index("doc_id").to_dict("index")
    # representative: the longest text of the cluster, ties by doc_id (a and b: 13 chars)
    assert {d: r["near_dup_cluster"] for d, r in out.items()} == dict.fromkeys("abcde", "a") | {"e": "e"}
    assert {d for d, r in out.items() if r["is_representative"]} == {"a", "e"}
    assert {d: r["exact_dup_of"] for d, r in out.items() if not pd.isna(r["exact_dup_of"])} == {
        "b": "a",
        "d": "a",
    }
    # exact copies of the representative have similarity 1; c's is the signature agreement, 3/4
    assert out["b"]["sim_to_representative"] == 1.0 and out["c"]["sim_to_representative"] == 0.75
    assert asked == [[[1, 0]]]  # only the pair that was needed: c (node 1) and its representative a
    assert pointed.to_pylist() == ["a"]  # the only doc_id other rows point at


def test_no_signature_is_fetched_when_every_cluster_is_one_exact_group():
    frame, keyed = _keyed()

    def similarity(pairs):
        raise AssertionError("not needed")

    fields, pointed = cluster_columns(keyed, np.array([0, 1, 2]), similarity)
    assert (fields["sim_to_representative"] == 1.0).all()
    out = assign(frame, fields, pointed)
    assert out.loc[out["doc_id"] == "c", "near_dup_cluster"].item() == "c"


def test_rows_without_cluster_fields_get_nulls():
    frame, keyed = _keyed()
    fields, pointed = cluster_columns(keyed, np.array([0, 1, 2]), lambda pos: None)
    extra = pd.DataFrame({"doc_id": ["z"], "clean_text": [None]}, index=[9])
    out = assign(pd.concat([frame, extra]), fields, pointed)
    z = out.loc[9]
    assert pd.isna(z["near_dup_cluster"]) and pd.isna(z["exact_dup_of"]) and not z["is_representative"]
    assert np.isnan(z["sim_to_representative"])
