"""The "needs repair?" test skips ftfy only where ftfy and NFC change nothing."""

from __future__ import annotations

import unicodedata

import ftfy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsaudit.lib.textfast import (
    breadth_first_tree,
    fix_text_fast,
    needs_repair,
    normalise_text_fast,
    transition_rows,
    windowed_language_identifier,
)

CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, normalization="NFC")


def _ftfy(text: str) -> str:
    return unicodedata.normalize("NFC", ftfy.fix_text(text, config=CONFIG))


def test_same_output_as_ftfy_on_hard_cases_and_random_ascii():
    cases = [
        "Plain news text.\nSecond line\twith a tab.",
        "Fish &amp; chips &lt;b&gt;",  # entities: repaired by ftfy
        "windows\r\nline breaks\r",
        "mojibake: cafÃ© and â€œquotesâ€\x9d",
        "e\u0301 decomposed",  # NFC composes it
        "bell \x07 and escape \x1b[31mred\x1b[0m",
        "ﬁne ligature and ｆｕｌｌwidth",
        "“curly quotes” stay",
    ]
    rng = np.random.default_rng(0)
    cases += ["".join(chr(c) for c in rng.integers(32, 127, 300)) for _ in range(200)]
    cases += ["".join(chr(c) for c in rng.integers(0, 0x2FF, 80)) for _ in range(200)]
    for text in cases:
        assert normalise_text_fast(text, CONFIG) == _ftfy(text), repr(text)
    assert not needs_repair("Plain ASCII text, 100% printable.\n")
    assert needs_repair("a &amp; b") and needs_repair("caf\u00e9") and needs_repair("x\ry")


# Lines that exercise every repair ftfy makes and the state it carries from line to line
# (an HTML "<" turns entity unescaping off for the rest of the text).
LINES = [
    "Plain ASCII news line.",
    "<p>markup with a tag</p>",
    "Fish &amp; chips &eacute; &lt;b&gt;",
    "cafÃ© and â€œmojibakeâ€\x9d",
    "windows line\r",
    "e\u0301 decomposed",
    "\x1b[31mterminal escape\x1b[0m",
    "ﬁne ligature ｆｕｌｌwidth",
    "“curly” — dash",
    "",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=12), st.sampled_from(["\n", "\r\n", "\n\n"]))
def test_line_by_line_repair_equals_ftfy_fix_text(lines, sep):
    text = sep.join(lines)
    assert fix_text_fast(text, CONFIG) == ftfy.fix_text(text, config=CONFIG)


def test_long_runs_are_cut_where_ftfy_cuts_them():
    config = CONFIG._replace(max_decode_length=7)
    for text in ["abc &amp; defghij cafÃ© <b> &amp; end", "x" * 20 + "&amp;" + "Ã©" * 5]:
        assert fix_text_fast(text, config) == ftfy.fix_text(text, config=config)


# --- language identification: py3langid's answers from the windowed walk ----------------------


@pytest.fixture(scope="module")
def identifiers():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return windowed_language_identifier(), LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def test_the_model_is_an_aho_corasick_automaton_six_bytes_deep(identifiers):
    # The windowed walk is exact only for such an automaton: the state after any text is the trie
    # node of its longest suffix in the trie, which lies within the last `window` bytes.
    windowed, _ = identifiers
    n = len(windowed._row_base)
    move = transition_rows(windowed._next_state, windowed._row_base, np.arange(n)).astype(np.int64)
    depth, parent, last = breadth_first_tree(windowed._next_state, windowed._row_base)
    fail = np.zeros(n, dtype=np.int64)
    for level in range(2, depth.max() + 1):  # a failure link: the parent's moved by the last byte
        nodes = np.flatnonzero(depth == level)
        fail[nodes] = move[fail[parent[nodes]], last[nodes]]
    assert (depth >= 0).all(), "every state is reachable"
    assert depth.max() == windowed.window == 6
    assert (depth[fail] < depth)[1:].all()
    child = (parent[move] == np.arange(n)[:, None]) & (last[move] == np.arange(256)[None, :])
    expected = np.where(child, move, move[fail])
    expected[0] = np.where(child[0], move[0], 0)
    assert np.array_equal(move, expected), "the transitions are goto, else the failure state's"


def _texts_from_corpus(root) -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in sorted(root.rglob("*.txt"))]


def test_same_language_and_probability_as_py3langid(identifiers, small_corpus):
    windowed, reference = identifiers
    rng = np.random.default_rng(1)
    texts = _texts_from_corpus(small_corpus)
    texts += ["", "a", "ab", "HEADLINE IN CAPITALS", "Привет, мир", "日本語の記事", "x\ud800y"]
    texts += ["".join(chr(c) for c in rng.integers(0, 0x3000, int(k))) for k in rng.integers(0, 400, 300)]
    for text in texts:
        assert windowed.classify(text) == reference.classify(text), repr(text[:60])
        assert np.array_equal(windowed.rank(text), reference.rank(text))


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_same_visits_as_py3langids_walk_on_any_text(identifiers, text):
    from py3langid.langid import visit_counts

    windowed, reference = identifiers
    data = reference._encode(text)
    counter = visit_counts(reference.tk_nextmove, reference._rowbase, reference.tk_output, data)
    ids, counts = windowed.visits(data)
    assert list((counter or {}).items()) == list(zip(ids.tolist(), counts.tolist(), strict=True))
