"""Reading back the pages tables the stages write, without their text (for statistics)."""

from __future__ import annotations

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


def has_text(path: Location) -> pd.Series:
    """Whether each row has a ``clean_text``, read batch by batch without keeping the text."""
    parts = [
        b.column(0).is_valid().to_numpy(zero_copy_only=False)
        for b in storage.parquet_file(path).iter_batches(columns=["clean_text"])
    ]
    return pd.Series(np.concatenate(parts) if parts else np.zeros(0, dtype=bool))
