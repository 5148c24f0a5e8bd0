"""Exact duplicates and the cluster columns: eligible pages, keys, canonical pages, and the columns
built from component labels (signatures fetched only where a similarity is not 1 by construction)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from newsaudit.steps.dedup.exact import canonical_pages, cluster_fields, eligible_exact_keys, exact_keys


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


def _keyed() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "doc_id": ["d", "b", "a", "c", "e"],
            "_len": [10, 12, 12, 5, 7],
            "_key": ["k1", "k1", "k1", "k2", "k3"],
        },
        index=[0, 1, 2, 3, 4],
    )
    return canonical_pages(frame)


def test_canonical_page_is_the_longest_then_the_smallest_doc_id():
    frame = _keyed()
    assert frame["doc_id"].tolist() == ["a", "b", "c", "d", "e"]  # sorted by doc_id, index kept
    assert frame.index.tolist() == [2, 1, 3, 0, 4]
    assert frame["_canon"].tolist() == ["a", "a", "c", "a", "e"]


def test_cluster_fields_from_component_labels():
    frame = _keyed()
    ids = np.array(["a", "c", "e"], dtype=object)  # canonical pages, in node order
    labels = np.array([0, 0, 2])  # a and c near duplicates; e alone
    sig = np.array([[1, 2, 3, 4], [1, 2, 3, 9], [5, 6, 7, 8]], dtype=np.uint32)
    asked = []

    def signatures_of(pos: np.ndarray) -> np.ndarray:
        asked.append(pos.tolist())
        return sig[pos]

    out = cluster_fields(frame, ids, labels, signatures_of).sort_index()
    assert out.index.tolist() == [0, 1, 2, 3, 4]  # the rows of the frame, by their index
    by_doc = out.set_axis(frame.sort_index()["doc_id"]).to_dict("index")
    # representative: the longest text of the cluster, ties by doc_id (a: 12 chars)
    assert {d: r["near_dup_cluster"] for d, r in by_doc.items()} == dict.fromkeys("abcde", "a") | {"e": "e"}
    assert {d for d, r in by_doc.items() if r["is_representative"]} == {"a", "e"}
    assert {d: r["exact_dup_of"] for d, r in by_doc.items() if not pd.isna(r["exact_dup_of"])} == {
        "b": "a",
        "d": "a",
    }
    # exact copies of the representative have similarity 1; c's is the signature agreement, 3/4
    assert by_doc["b"]["sim_to_representative"] == 1.0 and by_doc["c"]["sim_to_representative"] == 0.75
    assert asked == [[0, 1]]  # only the signatures that were needed


def test_no_signature_is_fetched_when_every_cluster_is_one_exact_group():
    frame = _keyed()
    ids = np.array(["a", "c", "e"], dtype=object)

    def signatures_of(pos):
        raise AssertionError("not needed")

    out = cluster_fields(frame, ids, np.array([0, 1, 2]), signatures_of)
    assert (out["sim_to_representative"] == 1.0).all()
