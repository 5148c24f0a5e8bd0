"""Reading back the pages tables the stages write, without their text (for statistics)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from newsaudit.lib import storage
from newsaudit.lib.storage import Location

TEXT_COLUMNS = ("raw_text", "clean_text")


def read_small(path: Location) -> pd.DataFrame:
    """The table without its text columns (what statistics need); a path or an fsspec URL."""
    pf = storage.parquet_file(path)
    names = [c for c in pf.schema_arrow.names if c not in TEXT_COLUMNS]
    return pf.read(columns=names).to_pandas()


def read_columns(path: Location, wanted: tuple[str, ...]) -> pd.DataFrame:
    """Only the ``wanted`` columns the table has (in the table's order): what one statistic reads.

    At a million pages the full non-text table is several hundred MB of Python objects (URLs,
    titles, paths, the classifier's terms); the statistics need a dozen narrow columns. Columns a
    table lacks are left out, as :func:`read_small` would (the statistics test for them).
    """
    pf = storage.parquet_file(path)
    names = [c for c in pf.schema_arrow.names if c in wanted]
    return pf.read(columns=names).to_pandas()


# Rows per batch of narrow (non-text) columns: a few MB of values, whatever the corpus size.
COLUMN_BATCH_ROWS = 65_536


def column_batches(
    path: Location, wanted: tuple[str, ...], rows: int = COLUMN_BATCH_ROWS
) -> Iterator[pd.DataFrame]:
    """The ``wanted`` columns the table has, as pandas row batches: for statistics that are sums."""
    pf = storage.parquet_file(path)
    names = [c for c in pf.schema_arrow.names if c in wanted]
    for batch in pf.iter_batches(batch_size=rows, columns=names):
        yield batch.to_pandas()


# Rows of text per batch in has_text: pyarrow's default batch (65,536 rows) is ~200 MB of news
# text, and read after read the process's peak grew by 0.75 GB at 300k pages (measured).
TEXT_BATCH_ROWS = 2048


def has_text(path: Location) -> pd.Series:
    """Whether each row has a ``clean_text``, read batch by batch without keeping the text."""
    batches = storage.parquet_file(path).iter_batches(batch_size=TEXT_BATCH_ROWS, columns=["clean_text"])
    parts = [b.column(0).is_valid().to_numpy(zero_copy_only=False) for b in batches]
    return pd.Series(np.concatenate(parts) if parts else np.zeros(0, dtype=bool))
