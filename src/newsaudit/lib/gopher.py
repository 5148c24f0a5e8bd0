"""Within-page repetition: the Gopher repetition statistics and removal of repeated paragraphs.

The statistics use the definitions of datatrove's ``GopherRepetitionFilter`` (Rae et al. 2021,
table A1), so the numbers can be compared with published corpus filters:

* paragraphs are ``text.strip()`` split on two or more newlines, lines are ``text`` split on one or
  more newlines; a duplicate is any occurrence after the first, its characters are ``len(element)``
  and every fraction of characters is over ``len(text)``;
* ``top_{n}_gram_char_frac``: ``len(" ".join(ngram)) * count`` of the most frequent word n-gram
  (ties: the n-gram seen first, as ``Counter.most_common(1)`` picks it);
* ``dup_{n}_gram_char_frac``: datatrove's greedy scan — walk the word positions, an n-gram already
  seen adds ``len("".join(ngram))`` (no separator, as datatrove) and jumps n words ahead.

datatrove stops at the first threshold a page fails; here every statistic is computed. Word
tokenization: datatrove's English tokenizer is spaCy's; ``word_tokenizer: datatrove`` calls it
(exact numbers, needs datatrove and spaCy, slow), the default ``regex`` splits words and single
punctuation marks (``\\w+|[^\\w\\s]``), which differs from spaCy on contractions, abbreviations and
numbers with separators. The statistics given the same words are identical (tested against
datatrove with the regex tokenizer injected).

The n-gram statistics are vectorised: words become integer ids, an n-gram is a 64-bit polynomial
hash of its ids, grouped with a hash table (``pandas.factorize``); the greedy scan of the duplicated
n-gram fractions is a Python loop over the positions of repeated n-grams only (most news pages have
few). The one
theoretical gap: datatrove's separator-less join can equate n-grams with different word
boundaries (``["ab", "c"]`` vs ``["a", "bc"]``); hashes of word ids do not, which needs 5
consecutive tokens to re-split into the same characters and is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

PARAGRAPH_SPLIT = re.compile(r"\n{2,}")
LINE_SPLIT = re.compile(r"\n+")
REGEX_WORDS = re.compile(r"\w+|[^\w\s]")

TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
STAT_COLUMNS = (
    "dup_line_frac",
    "dup_para_frac",
    "dup_line_char_frac",
    "dup_para_char_frac",
    *(f"top_{n}_gram_char_frac" for n in TOP_NGRAMS),
    *(f"dup_{n}_gram_char_frac" for n in DUP_NGRAMS),
)

# The Gopher paper's thresholds (Rae et al. 2021, table A1), datatrove's defaults: a page above any
# of them is dropped by GopherRepetitionFilter. Used only to report how many pages would be.
GOPHER_THRESHOLDS = {
    "dup_line_frac": 0.3,
    "dup_para_frac": 0.3,
    "dup_line_char_frac": 0.2,
    "dup_para_char_frac": 0.2,
    "top_2_gram_char_frac": 0.2,
    "top_3_gram_char_frac": 0.18,
    "top_4_gram_char_frac": 0.16,
    "dup_5_gram_char_frac": 0.15,
    "dup_6_gram_char_frac": 0.14,
    "dup_7_gram_char_frac": 0.13,
    "dup_8_gram_char_frac": 0.12,
    "dup_9_gram_char_frac": 0.11,
    "dup_10_gram_char_frac": 0.10,
}

# Fixed odd multipliers for the n-gram id hash (any fixed odd 64-bit values work; fixed so runs agree).
_NGRAM_MULT = np.random.default_rng(20211208).integers(1, 2**63, size=max(DUP_NGRAMS), dtype=np.uint64) | 1


def regex_words(text: str) -> list[str]:
    return REGEX_WORDS.findall(text)


def datatrove_words(text: str) -> list[str]:
    from datatrove.utils.text import split_into_words

    return split_into_words(text, "en")


WORD_TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"regex": regex_words, "datatrove": datatrove_words}


def _dup_counts(elements: list[str]) -> tuple[int, int]:
    """Duplicate elements and their characters (every occurrence after the first)."""
    seen: set[str] = set()
    n_dup = chars = 0
    for el in elements:
        if el in seen:
            n_dup += 1
            chars += len(el)
        else:
            seen.add(el)
    return n_dup, chars


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _greedy_dup_chars(positions: list[int], codes: list[int], cum: np.ndarray, n: int) -> int:
    """datatrove's ``find_all_duplicate`` for one text: walk the positions, an n-gram already seen
    adds its characters (without separators) and jumps n words ahead.

    Only positions whose n-gram occurs more than once in the text can be duplicates or make later
    ones duplicates, so the walk is given just those, and remembers where the last jump ends.
    """
    seen: set[int] = set()
    chars = 0
    resume = -1  # first position the walk visits again after a jump
    for pos, code in zip(positions, codes, strict=True):
        if pos < resume:
            continue
        if code in seen:
            chars += int(cum[pos + n] - cum[pos])
            resume = pos + n
        else:
            seen.add(code)
    return chars


def _line_para_stats(text: str) -> list[float]:
    n_text = len(text)
    paragraphs = PARAGRAPH_SPLIT.split(text.strip())
    p_dup, p_chars = _dup_counts(paragraphs)
    lines = LINE_SPLIT.split(text)
    l_dup, l_chars = _dup_counts(lines)
    return [l_dup / len(lines), p_dup / len(paragraphs), l_chars / n_text, p_chars / n_text]


def gopher_stats_batch(
    texts: list[str | None], tokenize: Callable[[str], list[str]] = regex_words, chunk_chars: int = 200_000
) -> np.ndarray:
    """``(len(texts), len(STAT_COLUMNS))`` Gopher statistics; NaN rows for missing or empty texts.

    The n-gram statistics run on chunks of texts at once: words of all texts get integer ids, an
    n-gram is a 64-bit hash of its ids salted with its text's index, n-grams that would cross into
    the next text are dropped, and grouping is one hash table (``pandas.factorize``) per n. Chunks
    of about ``chunk_chars`` characters keep that hash table in cache (measured: 50 pages of 500
    words per chunk run twice as fast as 1,600).
    """
    out = np.full((len(texts), len(STAT_COLUMNS)), np.nan)
    start, size = 0, 0
    for i, t in enumerate(texts):
        size += len(t) if t else 0
        if size >= chunk_chars or i == len(texts) - 1:
            out[start : i + 1] = _gopher_chunk(texts[start : i + 1], tokenize)
            start, size = i + 1, 0
    return out


def _gopher_chunk(texts: list[str | None], tokenize: Callable[[str], list[str]]) -> np.ndarray:
    out = np.full((len(texts), len(STAT_COLUMNS)), np.nan)
    docs = [i for i, t in enumerate(texts) if t]
    if not docs:
        return out
    word_lists = [tokenize(texts[i]) for i in docs]
    out[docs, :4] = [_line_para_stats(texts[i]) for i in docs]
    text_len = np.asarray([len(texts[i]) for i in docs], dtype=float)
    n_words = np.fromiter(map(len, word_lists), dtype=np.int64, count=len(docs))
    flat = [w for ws in word_lists for w in ws]
    out[np.asarray(docs)[:, None], np.arange(4, len(STAT_COLUMNS))] = 0.0
    if not flat:
        return out
    ids = pd.factorize(np.asarray(flat, dtype=object))[0].astype(np.uint64)
    cum = np.concatenate(([0], np.cumsum(np.fromiter(map(len, flat), dtype=np.int64, count=len(flat)))))
    ends = np.cumsum(n_words)
    doc_of = np.repeat(np.arange(len(docs)), n_words)
    salt = _splitmix64(np.arange(len(docs), dtype=np.uint64))
    total = ids.size
    col = {c: j for j, c in enumerate(STAT_COLUMNS)}
    rows = np.asarray(docs)
    for n in (*TOP_NGRAMS, *DUP_NGRAMS):
        if total < n:
            break
        acc = ids[: total - n + 1] * _NGRAM_MULT[0]
        for j in range(1, n):
            acc += ids[j : total - n + 1 + j] * _NGRAM_MULT[j]
        pos = np.flatnonzero(np.arange(n, total + 1) <= ends[doc_of[: total - n + 1]])
        if pos.size == 0:
            continue
        pdoc = doc_of[pos]
        codes = pd.factorize(acc[pos] ^ salt[pdoc])[0]
        counts = np.bincount(codes)[codes]
        seg = np.flatnonzero(np.r_[True, pdoc[1:] != pdoc[:-1]])  # first index of each text's n-grams
        seg_doc = pdoc[seg]
        if n in TOP_NGRAMS:
            top = np.maximum.reduceat(counts, seg)
            # the most frequent n-gram seen first (Counter.most_common(1)): first position reaching the max
            at_max = np.where(
                counts == np.repeat(top, np.diff(np.r_[seg, pos.size])), np.arange(pos.size), pos.size
            )
            first = pos[np.minimum.reduceat(at_max, seg)]
            chars = (cum[first + n] - cum[first] + n - 1) * top
            out[rows[seg_doc], col[f"top_{n}_gram_char_frac"]] = chars / text_len[seg_doc]
        else:
            rep = np.flatnonzero(counts > 1)
            if rep.size == 0:
                break  # no repeated n-gram in any text: none of a larger n either
            rep_doc = pdoc[rep]
            cuts = np.flatnonzero(np.r_[True, rep_doc[1:] != rep_doc[:-1], True])
            rep_pos, rep_codes = pos[rep].tolist(), codes[rep].tolist()
            for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
                d = int(rep_doc[lo])
                chars = _greedy_dup_chars(rep_pos[lo:hi], rep_codes[lo:hi], cum, n)
                out[rows[d], col[f"dup_{n}_gram_char_frac"]] = chars / text_len[d]
    return out


def gopher_stats(text: str | None, tokenize: Callable[[str], list[str]] = regex_words) -> dict[str, float]:
    """All Gopher repetition fractions of one text; NaN for a missing or empty text."""
    row = gopher_stats_batch([text], tokenize)[0]
    return {c: float(v) for c, v in zip(STAT_COLUMNS, row, strict=True)}


def remove_repeated_paragraphs(text: str | None, min_line_chars: int) -> tuple[str | None, int]:
    """Drop every repeat of a paragraph, keeping its first occurrence; returns (text, units removed).

    Two levels, because cleaned text comes both ways: blank-line separated blocks (Gopher's
    paragraphs) and, inside what remains, single lines (extractors such as trafilatura put one
    paragraph per line). A repeated line is only dropped when it has at least ``min_line_chars``
    characters, so short legitimate repeats (list items, "Yes") stay. Comparison ignores
    surrounding whitespace; separators of kept units are kept as they were.
    """
    if not text:
        return text, 0
    removed = 0
    seen_blocks: set[str] = set()
    kept_blocks: list[str] = []
    parts = re.split(r"(\n{2,})", text)
    # parts alternate block, separator, block, ...; a dropped block takes its preceding separator
    for i in range(0, len(parts), 2):
        block = parts[i]
        key = block.strip()
        if key and key in seen_blocks:
            removed += 1
            continue
        seen_blocks.add(key)
        kept_blocks.append((parts[i - 1] if i and kept_blocks else "") + block)
    seen_lines: set[str] = set()
    out_lines: list[str] = []
    for line in "".join(kept_blocks).split("\n"):
        key = line.strip()
        if len(key) >= min_line_chars and key in seen_lines:
            removed += 1
            continue
        seen_lines.add(key)
        out_lines.append(line)
    return "\n".join(out_lines), removed


def repetition_batch(
    texts: list[str | None], tokenizer: str, min_line_chars: int
) -> tuple[list[list[float]], list[str | None], list[int]]:
    """Statistics rows (in ``STAT_COLUMNS`` order), de-repeated texts and removal counts of a batch.

    Module-level so a process pool can run it.
    """
    texts = [t if isinstance(t, str) else None for t in texts]
    stats = gopher_stats_batch(texts, WORD_TOKENIZERS[tokenizer]).tolist()
    cleaned, removed = [], []
    for text in texts:
        new, n = remove_repeated_paragraphs(text, min_line_chars)
        cleaned.append(new)
        removed.append(n)
    return stats, cleaned, removed
