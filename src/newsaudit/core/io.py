"""Small shared helpers for writing stage outputs deterministically."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

FLOAT_DIGITS = 6


def _clean(value: Any, digits: int) -> Any:
    """Round floats and unwrap numpy scalars and arrays so equal results give byte-identical JSON."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, digits)
    if isinstance(value, dict):
        return {str(k): _clean(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v, digits) for v in value]
    return value


def write_json(data: Any, path: str | Path, digits: int = FLOAT_DIGITS) -> None:
    """Write ``data`` as sorted, indented JSON with rounded floats (byte-identical for equal data)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_clean(data, digits), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
