"""Within-page repetition: Gopher statistics and repeated paragraphs removed (first kept)."""

from __future__ import annotations

import pandas as pd

from newsaudit.lib.gopher import STAT_COLUMNS, repetition_batch
from newsaudit.steps.dedup.params import DuplicatesParams


def with_repetition(pages: pd.DataFrame, params: DuplicatesParams) -> pd.DataFrame:
    """A copy of ``pages`` with the repetition statistics of ``clean_text`` (as the boilerplate step
    left it), the de-repeated ``clean_text`` and ``repeated_paragraphs_removed``. Pure per page, so
    any batching gives the same rows; engines run batches in parallel."""
    out = pages.copy()
    stats, cleaned, removed = repetition_batch(
        out["clean_text"].tolist(), params.word_tokenizer, params.min_repeated_line_chars
    )
    frame = pd.DataFrame(stats, index=out.index, columns=list(STAT_COLUMNS), dtype=float)
    for col in STAT_COLUMNS:
        out[col] = frame[col]
    cleaned = pd.Series(cleaned, index=out.index, dtype=object)
    out["clean_text"] = cleaned.where(out["clean_text"].notna(), None)
    out["repeated_paragraphs_removed"] = pd.Series(removed, index=out.index).astype("int64")
    return out
