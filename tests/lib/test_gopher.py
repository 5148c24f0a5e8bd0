"""Gopher repetition statistics: hand-computed cases and equality with datatrove's filter."""

from __future__ import annotations

import math

import pytest

from newsaudit.lib.gopher import (
    STAT_COLUMNS,
    gopher_stats,
    regex_words,
    remove_repeated_paragraphs,
)

PARAS = [
    "The council approved the new budget after a long debate on Tuesday evening.",
    "Opposition members walked out before the final vote was taken by the chair.",
    "The mayor said the plan would fund three new schools and a clinic.",
    "Residents will be able to comment on the plan until the end of the month.",
]

SAMPLES = [
    "\n\n".join(PARAS + PARAS),
    "\n".join(PARAS + PARAS[:2]),
    "a b c a b c a b c a b c\n\nx y z",
    "Breaking news: breaking news! Breaking news, breaking news.\nMore at 11.\n\n\nMore at 11.",
    "word " * 40,
    "Short line.\n\nShort line.\n\nShort line.\nAnother one, with commas, and dots... ok?",
    "  leading and trailing whitespace \n\n\n  leading and trailing whitespace \n",
    "one two three four five six seven eight nine ten eleven twelve one two three four five six seven",
]


def test_four_paragraphs_twice_gives_half_and_keeps_each_once():
    text = "\n\n".join(PARAS + PARAS)
    stats = gopher_stats(text)
    assert stats["dup_para_frac"] == 0.5
    assert stats["dup_line_frac"] == 0.5
    cleaned, removed = remove_repeated_paragraphs(text, min_line_chars=30)
    assert removed == 4
    assert cleaned == "\n\n".join(PARAS)


def test_line_separated_paragraphs_are_removed_too():
    text = "\n".join(PARAS + PARAS)
    cleaned, removed = remove_repeated_paragraphs(text, min_line_chars=30)
    assert (cleaned, removed) == ("\n".join(PARAS), 4)
    # short repeated lines (list items) stay
    short = "Yes\nNo\nYes"
    assert remove_repeated_paragraphs(short, min_line_chars=30) == (short, 0)


def test_hand_computed_values():
    text = "a b\n\na b\n\nc"
    s = gopher_stats(text)
    n = len(text)
    assert s["dup_para_frac"] == pytest.approx(1 / 3)
    assert s["dup_para_char_frac"] == pytest.approx(3 / n)
    # lines split on \n+: ["a b", "a b", "c"]
    assert s["dup_line_frac"] == pytest.approx(1 / 3)
    # words a b a b c: top 2-gram "a b" twice -> 3 chars * 2
    assert s["top_2_gram_char_frac"] == pytest.approx(6 / n)
    assert s["dup_5_gram_char_frac"] == 0.0
    rep = "x y z w v " * 3  # 15 words; greedy 5-gram scan finds "xyzwv" twice (5 chars each)
    assert gopher_stats(rep)["dup_5_gram_char_frac"] == pytest.approx(10 / len(rep))


def test_missing_text_gives_nan():
    assert all(math.isnan(v) for v in gopher_stats(None).values())
    assert all(math.isnan(v) for v in gopher_stats("").values())


def _datatrove_reference(text: str, tokenizer) -> dict[str, float]:
    """Every statistic computed with datatrove's own helper functions, as its filter does."""
    from datatrove.pipeline.filters import gopher_repetition_filter as g

    f = g.GopherRepetitionFilter()
    out = {}
    paragraphs = f.paragraph_exp.split(text.strip())
    d, c = g.find_duplicates(paragraphs)
    out["dup_para_frac"], out["dup_para_char_frac"] = d / len(paragraphs), c / len(text)
    lines = f._line_splitter.split(text)
    d, c = g.find_duplicates(lines)
    out["dup_line_frac"], out["dup_line_char_frac"] = d / len(lines), c / len(text)
    words = tokenizer.word_tokenize(text)
    for n in (2, 3, 4):
        grams = g.get_n_grams(words, n)
        out[f"top_{n}_gram_char_frac"] = g.find_top_duplicate(grams) / len(text) if grams else 0.0
    for n in range(5, 11):
        out[f"dup_{n}_gram_char_frac"] = g.find_all_duplicate(words, n) / len(text)
    return out


def _regex_tokenizer():
    from datatrove.utils.word_tokenizers import WordTokenizer

    class RegexTokenizer(WordTokenizer):
        def word_tokenize(self, text):
            return regex_words(text)

        def sent_tokenize(self, text):
            return [text]

        def span_tokenize(self, text):
            return [(0, len(text))]

    return RegexTokenizer("en")


@pytest.mark.parametrize("text", SAMPLES)
def test_equal_to_datatrove_definitions(text):
    pytest.importorskip("datatrove", reason="datatrove not installed: hand-computed cases only")
    ref = _datatrove_reference(text, _regex_tokenizer())
    ours = gopher_stats(text, regex_words)
    for col in STAT_COLUMNS:
        assert ours[col] == pytest.approx(ref[col], abs=1e-12), col


@pytest.mark.parametrize("text", SAMPLES)
def test_same_verdict_as_datatrove_filter(text):
    pytest.importorskip("datatrove", reason="datatrove not installed: hand-computed cases only")
    from datatrove.data import Document
    from datatrove.pipeline.filters.gopher_repetition_filter import GopherRepetitionFilter

    flt = GopherRepetitionFilter(language=_regex_tokenizer())
    verdict = flt.filter(Document(text=text, id="x"))
    s = gopher_stats(text, regex_words)
    # the filter's checks, in its order, on our statistics
    checks = [
        ("dup_para_frac", s["dup_para_frac"] > 0.3),
        ("dup_para_char_frac", s["dup_para_char_frac"] > 0.2),
        ("dup_line_frac", s["dup_line_frac"] > 0.3),
        ("dup_line_char_frac", s["dup_line_char_frac"] > 0.2),
        *((f"top_{n}_gram", s[f"top_{n}_gram_char_frac"] > t) for n, t in ((2, 0.2), (3, 0.18), (4, 0.16))),
        *(
            (f"duplicated_{n}_n_grams", s[f"dup_{n}_gram_char_frac"] > t)
            for n, t in zip(range(5, 11), (0.15, 0.14, 0.13, 0.12, 0.11, 0.10), strict=True)
        ),
    ]
    expected = next(((False, name) for name, failed in checks if failed), True)
    assert verdict == expected


def test_equal_to_datatrove_with_its_spacy_tokenizer():
    pytest.importorskip("datatrove", reason="datatrove not installed")
    pytest.importorskip("spacy", reason="spaCy not installed: datatrove's English tokenizer unavailable")
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    from newsaudit.lib.gopher import datatrove_words

    for text in SAMPLES:
        ref = _datatrove_reference(text, load_word_tokenizer("en"))
        ours = gopher_stats(text, datatrove_words)
        for col in STAT_COLUMNS:
            assert ours[col] == pytest.approx(ref[col], abs=1e-12), (col, text[:30])


def _mirror_texts(limit: int) -> list[str]:
    import json
    from pathlib import Path

    for root in (Path("data/external"), Path("../shared/data")):
        gt = root / "scrapinghub-article-extraction-benchmark" / "ground-truth.json"
        if gt.is_file():
            gold = json.loads(gt.read_text(encoding="utf-8"))
            return [gold[k]["articleBody"] for k in sorted(gold)][:limit]
    pytest.skip("mirrored scrapinghub ground truth not found under data/external or ../shared/data")


@pytest.mark.mirror
def test_equal_to_datatrove_on_real_pages():
    pytest.importorskip("datatrove", reason="datatrove not installed")
    texts = _mirror_texts(60)
    tok = _regex_tokenizer()
    for text in texts:
        # also the page with its paragraphs doubled (the AMP/print copy case)
        for t in (text, text + "\n\n" + text):
            ref = _datatrove_reference(t, tok)
            ours = gopher_stats(t, regex_words)
            for col in STAT_COLUMNS:
                assert ours[col] == pytest.approx(ref[col], abs=1e-12), col


def test_equal_to_datatrove_on_highly_repetitive_random_texts():
    """Small vocabularies make n-grams repeat and overlap: the greedy jumps must match exactly."""
    pytest.importorskip("datatrove", reason="datatrove not installed")
    import numpy as np

    rng = np.random.default_rng(0)
    tok = _regex_tokenizer()
    for trial in range(40):
        vocab = ["a", "bb", "ccc", "d", "ee", ",", "."][: 2 + trial % 6]
        words = rng.choice(vocab, size=int(rng.integers(5, 300)))
        seps = rng.choice([" ", " ", " ", "\n", "\n\n"], size=words.size)
        text = "".join(w + s for w, s in zip(words, seps, strict=True))
        ref = _datatrove_reference(text, tok)
        ours = gopher_stats(text, regex_words)
        for col in STAT_COLUMNS:
            assert ours[col] == pytest.approx(ref[col], abs=1e-12), (trial, col)


def test_batch_equals_one_by_one_and_datatrove():
    """Texts share one batch: n-grams must not cross from one text into the next."""
    pytest.importorskip("datatrove", reason="datatrove not installed")
    import numpy as np

    from newsaudit.lib.gopher import gopher_stats_batch

    rng = np.random.default_rng(1)
    texts = [*SAMPLES, None, "", "x"]
    for _ in range(20):  # the same few words everywhere, so n-grams repeat across texts too
        words = rng.choice(["a", "bb", "c", "."], size=int(rng.integers(1, 40)))
        texts.append(" ".join(words))
    batch = gopher_stats_batch(texts, regex_words)
    tok = _regex_tokenizer()
    for text, row in zip(texts, batch, strict=True):
        if not text:
            assert np.isnan(row).all()
            continue
        ref = _datatrove_reference(text, tok)
        for col, value in zip(STAT_COLUMNS, row, strict=True):
            assert value == pytest.approx(ref[col], abs=1e-12), (text[:20], col)


def test_chunking_does_not_change_the_numbers():
    import numpy as np

    from newsaudit.lib.gopher import gopher_stats_batch

    texts = [*SAMPLES, None, *SAMPLES[::-1]]
    whole = gopher_stats_batch(texts, regex_words)
    for chunk in (1, 50, 300):
        np.testing.assert_array_equal(gopher_stats_batch(texts, regex_words, chunk_chars=chunk), whole)


def test_thresholds_are_datatrove_defaults():
    pytest.importorskip("datatrove", reason="datatrove not installed")
    from datatrove.pipeline.filters.gopher_repetition_filter import GopherRepetitionFilter

    from newsaudit.lib.gopher import GOPHER_THRESHOLDS

    f = GopherRepetitionFilter()
    expected = {
        "dup_line_frac": f.dup_line_frac,
        "dup_para_frac": f.dup_para_frac,
        "dup_line_char_frac": f.dup_line_char_frac,
        "dup_para_char_frac": f.dup_para_char_frac,
        **{f"top_{n}_gram_char_frac": t for n, t in f.top_n_grams},
        **{f"dup_{n}_gram_char_frac": t for n, t in f.dup_n_grams},
    }
    assert expected == GOPHER_THRESHOLDS
