"""Small shared helpers for writing stage outputs deterministically: metrics JSON and CSV tables."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


# --------------------------------------------------------------------------------------------
# Headline metrics and breakdown tables. A stage's report is split in two: the few figures a
# reader compares across versions (``reports/metrics/<stage>.json``, what `dvc metrics diff` and
# `dvc exp show` list) and its breakdowns (per source, language, reason...) as CSV tables under
# ``reports/tables/<stage>/``, which the report and the notebooks read.


def pick(data: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The dotted ``keys`` of ``data`` that exist and hold a scalar, nested as in ``data``."""
    out: dict[str, Any] = {}
    for key in keys:
        node: Any = data
        parts = key.split(".")
        for part in parts:
            node = node.get(part, _MISSING) if isinstance(node, Mapping) else _MISSING
        if node is _MISSING or isinstance(node, (Mapping, list)):
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = node
    return out


_MISSING = object()


def flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys (an empty dict has none); lists and other leaves as they are."""
    if not isinstance(data, Mapping):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flat(value, name))  # an empty dict adds nothing
        else:
            out[name] = value
    return out


def rows(data: Mapping[str, Any] | None, key: str) -> pd.DataFrame:
    """A dict of entries (per source, per dataset...) as one row per entry: the entry's name in
    column ``key``, its nested dicts flattened to dotted columns, lists as JSON text."""
    records = [
        {key: str(name), **flat(value if isinstance(value, Mapping) else {"value": value})}
        for name, value in (data or {}).items()
    ]
    frame = pd.DataFrame.from_records(records, columns=_columns(records, key))
    return frame.map(_cell) if len(frame) else frame


def counts(data: Mapping[str, Any] | None, key: str, value: str) -> pd.DataFrame:
    """A dict of counts as two columns, in the dict's order."""
    items = list((data or {}).items())
    return pd.DataFrame({key: [str(k) for k, _ in items], value: [v for _, v in items]})


def records(items: list[Mapping[str, Any]] | None, columns: Iterable[str] = (), **extra: Any) -> pd.DataFrame:
    """A list of records as a table: ``extra`` columns first (e.g. the split the records are of),
    then ``columns`` (so that an empty list still gives a header), then any other key."""
    recs = [{**extra, **flat(dict(r))} for r in items or []]
    names = list(dict.fromkeys([*extra, *columns, *_columns(recs)]))
    frame = pd.DataFrame.from_records(recs, columns=names)
    return frame.map(_cell) if len(frame) else frame


def leftover(data: Mapping[str, Any], used: Iterable[str]) -> pd.DataFrame:
    """Everything in ``data`` outside the dotted prefixes ``used``, as rows (key, value): what is
    neither a headline figure nor a table of its own still lands in a file, never dropped."""
    used = tuple(used)
    items = [
        (k, _cell(v)) for k, v in flat(data).items() if not any(k == u or k.startswith(u + ".") for u in used)
    ]
    return pd.DataFrame({"key": [k for k, _ in items], "value": [v for _, v in items]})


def read_key_values(path: str | Path) -> dict[str, Any]:
    """A (key, value) table written from :func:`leftover` back as nested dicts (values that were
    numbers, booleans or JSON come back as such)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    out: dict[str, Any] = {}
    for key, text in zip(frame["key"], frame["value"], strict=True):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        *parents, last = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def _columns(recs: list[Mapping[str, Any]], first: str | None = None) -> list[str]:
    cols: list[str] = [first] if first else []
    for rec in recs:
        cols.extend(c for c in rec if c not in cols)
    return cols


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, Mapping)):
        return json.dumps(_clean(value, FLOAT_DIGITS), sort_keys=True, ensure_ascii=False)
    return value


def write_table(frame: pd.DataFrame, path: str | Path, digits: int = FLOAT_DIGITS) -> Path:
    """``frame`` as CSV with floats rounded and ``\\n`` line ends (byte-identical for equal data),
    written to a temporary name first so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            frame[col] = frame[col].round(digits)
    tmp = path.with_name(path.name + ".partial")
    frame.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(path)
    return path


def write_tables(tables: Mapping[str, pd.DataFrame], folder: str | Path) -> list[Path]:
    """Each table as ``folder/<name>.csv``; tables of an earlier run that are no longer made are
    removed, so the folder always describes one run."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_table(frame, folder / f"{name}.csv") for name, frame in sorted(tables.items())]
    for old in folder.glob("*.csv"):
        if old not in written:
            old.unlink()
    return written
