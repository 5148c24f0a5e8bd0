"""Lines frequent across a corpus (site wrappers the cleaning left behind) and their removal
before near-duplicate detection: per-page line hashes that can be counted batch by batch, the
frequent ones, and the texts without them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from newsaudit.lib.minhash import normalize_array


def _line_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hash of every normalised line, the number of lines of each text, which lines are empty."""
    lines = pc.split_pattern(pa.array(list(texts), type=pa.string()), pattern="\n")
    n_lines = pc.fill_null(pc.list_value_length(lines), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    norm = normalize_array(pc.list_flatten(lines))
    h = pd.util.hash_array(norm.to_numpy(zero_copy_only=False)).view(np.int64)
    empty = pc.equal(norm, "").to_numpy(zero_copy_only=False)
    return h, n_lines, empty


def page_line_hashes(texts: Sequence[str]) -> np.ndarray:
    """Each text's distinct non-empty line hashes, concatenated: counting them gives, per line, the
    number of pages it is on. Batches can be counted separately and concatenated."""
    h, n_lines, empty = _line_hashes(texts)
    doc = np.repeat(np.arange(len(n_lines)), n_lines)
    pairs = np.unique(np.stack((doc[~empty], h[~empty]), axis=1), axis=0)
    return pairs[:, 1]


def frequent_lines(line_hashes: np.ndarray, min_pages: int) -> np.ndarray:
    """Line hashes found on at least ``min_pages`` pages (input: :func:`page_line_hashes`)."""
    uniq, counts = np.unique(line_hashes, return_counts=True)
    return uniq[counts >= min_pages]


def remove_lines(texts: Sequence[str], frequent: np.ndarray, min_keep_frac: float) -> list[str]:
    """Drop the lines whose hash is in ``frequent``, unless less than ``min_keep_frac`` of a text's
    words would remain (then the text stays whole)."""
    texts = list(texts)
    if frequent.size == 0:
        return texts
    h, n_lines, empty = _line_hashes(texts)
    flags = np.isin(h, frequent) & ~empty
    out = []
    ends = np.cumsum(n_lines)
    for i, text in enumerate(texts):
        lo, hi = ends[i] - n_lines[i], ends[i]
        if not flags[lo:hi].any():
            out.append(text)
            continue
        parts = text.split("\n")
        kept = [p for p, f in zip(parts, flags[lo:hi], strict=True) if not f]
        total = len(text.split())
        if total and len(" ".join(kept).split()) >= min_keep_frac * total:
            out.append("\n".join(kept))
        else:
            out.append(text)
    return out


def drop_frequent_lines(texts: Sequence[str], min_pages: int, min_keep_frac: float) -> list[str]:
    """Remove lines that occur (normalised) in at least ``min_pages`` of the texts.

    Boilerplate the cleaning stage left behind (a site's header, share buttons, footer) repeats on
    every page of the site, while an article's lines repeat only on its few copies; without this,
    two short articles of one site look alike through their common wrapper. Counting is over the
    given texts, so pass one text per exact-duplicate group. A text that would keep less than
    ``min_keep_frac`` of its words (e.g. a story syndicated to more than ``min_pages`` sites, whose
    own lines are all frequent) is left whole. ``min_pages <= 0`` disables the filter.
    """
    texts = list(texts)
    if min_pages <= 0 or len(texts) < min_pages:
        return texts
    return remove_lines(texts, frequent_lines(page_line_hashes(texts), min_pages), min_keep_frac)
