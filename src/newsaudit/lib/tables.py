"""Reading back the pages tables the stages write, without their text (for statistics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

TEXT_COLUMNS = ("raw_text", "clean_text")


def read_small(path: Path) -> pd.DataFrame:
    """The table without its text columns (what statistics need)."""
    names = [c for c in pq.read_schema(path).names if c not in TEXT_COLUMNS]
    return pd.read_parquet(path, columns=names)


def has_text(path: Path) -> pd.Series:
    """Whether each row has a ``clean_text``, read batch by batch without keeping the text."""
    parts = [
        b.column(0).is_valid().to_numpy(zero_copy_only=False)
        for b in pq.ParquetFile(path).iter_batches(columns=["clean_text"])
    ]
    return pd.Series(np.concatenate(parts) if parts else np.zeros(0, dtype=bool))
