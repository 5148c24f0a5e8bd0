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


def _ngram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(ids, n)
    return (windows * _NGRAM_MULT[:n]).sum(axis=1, dtype=np.uint64)


def _groups(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group code per position (codes numbered in order of first appearance, hash-based, O(n)),
    the size of each group and the position where each group first appears."""
    codes, _ = pd.factorize(hashes)
    counts = np.bincount(codes)
    first = np.empty(counts.size, dtype=np.int64)
    new = np.ones(codes.size, dtype=bool)
    new[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
    first[codes[new]] = np.flatnonzero(new)
    return codes, counts, first


def _greedy_dup_chars(codes: np.ndarray, counts: np.ndarray, cum: np.ndarray, n: int) -> int:
    """datatrove's ``find_all_duplicate`` on n-gram group codes: walk the positions, an n-gram already
    seen adds its characters (without separators) and jumps n words ahead.

    Only positions whose n-gram occurs more than once can be duplicates or make later ones
    duplicates, so the walk visits just those, remembering where the last jump ends.
    """
    repeated = np.flatnonzero(counts[codes] > 1)
    if repeated.size == 0:
        return 0
    seen: set[int] = set()
    chars = 0
    resume = 0  # first position the walk visits again after a jump
    for pos, code in zip(repeated.tolist(), codes[repeated].tolist(), strict=True):
        if pos < resume:
            continue
        if code in seen:
            chars += int(cum[pos + n] - cum[pos])
            resume = pos + n
        else:
            seen.add(code)
    return chars


def gopher_stats(text: str | None, tokenize: Callable[[str], list[str]] = regex_words) -> dict[str, float]:
    """All Gopher repetition fractions of one text; NaN for a missing or empty text."""
    if not text:
        return dict.fromkeys(STAT_COLUMNS, float("nan"))
    n_text = len(text)
    out: dict[str, float] = {}
    paragraphs = PARAGRAPH_SPLIT.split(text.strip())
    n_dup, chars = _dup_counts(paragraphs)
    out["dup_para_frac"] = n_dup / len(paragraphs)
    out["dup_para_char_frac"] = chars / n_text
    lines = LINE_SPLIT.split(text)
    n_dup, chars = _dup_counts(lines)
    out["dup_line_frac"] = n_dup / len(lines)
    out["dup_line_char_frac"] = chars / n_text

    words = tokenize(text)
    ids = pd.factorize(np.asarray(words, dtype=object))[0].astype(np.uint64)
    cum = np.concatenate(([0], np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)))))
    for n in TOP_NGRAMS:
        if len(words) < n:
            out[f"top_{n}_gram_char_frac"] = 0.0
            continue
        codes, counts, first = _groups(_ngram_hashes(ids, n))
        # the most frequent n-gram seen first (as Counter.most_common(1)): codes follow first appearance
        pos = first[int(np.argmax(counts))]
        out[f"top_{n}_gram_char_frac"] = float((cum[pos + n] - cum[pos] + n - 1) * counts.max()) / n_text
    for n in DUP_NGRAMS:
        chars = 0
        if len(words) >= n:
            codes, counts, _ = _groups(_ngram_hashes(ids, n))
            chars = _greedy_dup_chars(codes, counts, cum, n)
            if chars == 0 and counts.max() == 1:
                # no repeated n-gram: no repeated longer n-gram either
                out.update({f"dup_{m}_gram_char_frac": 0.0 for m in DUP_NGRAMS if m >= n})
                break
        out[f"dup_{n}_gram_char_frac"] = chars / n_text
    return {k: out[k] for k in STAT_COLUMNS}


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
    tokenize = WORD_TOKENIZERS[tokenizer]
    stats, cleaned, removed = [], [], []
    for text in texts:
        text = text if isinstance(text, str) else None
        row = gopher_stats(text, tokenize)
        stats.append([row[c] for c in STAT_COLUMNS])
        new, n = remove_repeated_paragraphs(text, min_line_chars)
        cleaned.append(new)
        removed.append(n)
    return stats, cleaned, removed
