"""HTML building blocks for the self-contained report.

Every value that reaches the page goes through :func:`esc` (``html.escape`` with quotes), because
corpus text, source names, file paths and JSON keys all come from scraped or user data. The helpers
return strings; nothing here reads files, so the report is a pure function of the data it is given.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Tables longer than this show the first rows and say how many were left out, so one huge JSON
# list cannot turn the report into megabytes.
MAX_ROWS = 50
# Nested JSON is flattened to dotted keys down to this depth; deeper structure is shown as JSON text.
MAX_DEPTH = 4
# A dict of numbers longer than this gets a table of its own instead of dotted rows.
COUNTS_INLINE = 5

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0 auto; max-width: 1200px; padding: 1rem 2rem 4rem; color: #1d232a; background: #fff; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #d0d7de; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
nav ol { columns: 2; font-size: .95rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; }
th, td { border: 1px solid #d0d7de; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td { max-width: 48rem; overflow-wrap: anywhere; }
th { background: #f3f5f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre, code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .82rem; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
.note { color: #57606a; font-style: italic; }
.absent { color: #8c6d00; background: #fff8c5; padding: .3rem .6rem; border-left: 3px solid #d4a72c; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .8rem; margin-bottom: 1.2rem; }
.pair > div { border: 1px solid #d0d7de; padding: .5rem; background: #fbfcfd; min-width: 0; }
.pair .text { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .82rem; max-height: 18rem;
              overflow-y: auto; }
figure { margin: .6rem 0 1.2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { font-size: .85rem; color: #57606a; }
details { margin: .4rem 0 1rem; }
summary { cursor: pointer; color: #57606a; }
.clip { max-width: 42rem; overflow-wrap: anywhere; }
"""


# Lone surrogates (a JSON "\ud800" escape decodes to one) cannot be written as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def esc(value: Any) -> str:
    """Text for HTML: escapes ``& < > " '`` so data can never become markup or break an attribute."""
    return html.escape(_SURROGATE.sub("\ufffd", fmt(value)), quote=True)


def fmt(value: Any) -> str:
    """Stable, compact text for a cell: floats to 4 significant digits, None/NaN as an empty cell."""
    if value is None or type(value).__name__ in {"NAType", "NaTType"}:  # pandas missing values
        return ""
    if hasattr(value, "item") and not isinstance(value, (str, bytes, list, dict)):
        value = value.item()  # numpy and pandas scalars
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def clip(text: Any, limit: int) -> str:
    """The first ``limit`` characters of a text, with an ellipsis when cut (unescaped)."""
    text = fmt(text)
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def td(value: Any) -> str:
    if hasattr(value, "item") and not isinstance(value, (str, bytes, list, dict)):
        value = value.item()  # numpy scalars: right-aligned like Python numbers
    cls = ' class="num"' if is_number(value) else ""
    return f"<td{cls}>{esc(value)}</td>"


def table(columns: Sequence[str] | None, rows: Iterable[Sequence[Any]], max_rows: int = MAX_ROWS) -> str:
    """An HTML table (no header row when ``columns`` is None); rows past ``max_rows`` are counted
    in a note instead of shown."""
    rows = list(rows)
    head = ""
    if columns is not None:
        head = "<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr></thead>"
    body = "".join("<tr>" + "".join(td(v) for v in row) + "</tr>" for row in rows[:max_rows])
    out = f"<table>{head}<tbody>{body}</tbody></table>"
    if len(rows) > max_rows:
        out += note(f"{len(rows) - max_rows} more rows not shown.")
    return out


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def absent(text: str) -> str:
    return f'<p class="absent">{esc(text)}</p>'


def heading(level: int, text: str, anchor: str | None = None) -> str:
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{esc(text)}</h{level}>"


def flatten(data: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Nested dicts as (dotted key, scalar) pairs; lists of scalars joined; deeper parts as JSON."""
    if isinstance(data, Mapping):
        if depth >= MAX_DEPTH:
            return [(prefix, _short_json(data))]
        pairs: list[tuple[str, Any]] = []
        for key, value in data.items():
            pairs.extend(flatten(value, f"{prefix}.{key}" if prefix else str(key), depth + 1))
        if not data and prefix:
            pairs.append((prefix, "{}"))
        return pairs
    if isinstance(data, list):
        if all(not isinstance(v, (dict, list)) for v in data):
            more = " …" if len(data) > MAX_ROWS else ""
            return [(prefix, ", ".join(fmt(v) for v in data[:MAX_ROWS]) + more)]
        return [(prefix, _short_json(data))]
    return [(prefix, data)]


def _short_json(data: Any, limit: int = 300) -> str:
    import json

    return clip(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str), limit)


def is_records(value: Any) -> bool:
    """A non-empty list of dicts (rendered as one table, a column per key)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def is_matrix(value: Any) -> bool:
    """A dict whose values are all dicts of scalars (rendered as rows x columns)."""
    return (
        isinstance(value, Mapping)
        and len(value) > 1
        and all(isinstance(v, Mapping) and v for v in value.values())
        and all(not isinstance(x, (dict, list)) for v in value.values() for x in v.values())
    )


def is_counts(value: Any) -> bool:
    """A longer dict of plain numbers (counts by language, by reason...): its own sorted table."""
    return (
        isinstance(value, Mapping)
        and len(value) > COUNTS_INLINE
        and all(is_number(v) for v in value.values())
    )


def has_blocks(value: Any, depth: int = 0) -> bool:
    """A dict holding, at any depth, something that reads better as its own table."""
    if not isinstance(value, Mapping) or depth > MAX_DEPTH:
        return False
    return any(
        is_records(v) or is_matrix(v) or is_counts(v) or has_blocks(v, depth + 1) for v in value.values()
    )


def records_table(records: Sequence[Mapping[str, Any]], max_rows: int = MAX_ROWS) -> str:
    columns: list[str] = []
    for rec in records:
        columns.extend(str(k) for k in rec if str(k) not in columns)
    rows = [[_cell(rec.get(c)) for c in columns] for rec in records]
    return table(columns, rows, max_rows)


def matrix_table(data: Mapping[str, Mapping[str, Any]], corner: str = "") -> str:
    columns: list[str] = []
    for inner in data.values():
        columns.extend(str(k) for k in inner if str(k) not in columns)
    rows = [[key, *(_cell(inner.get(c)) for c in columns)] for key, inner in data.items()]
    return table([corner, *columns], rows)


def _cell(value: Any) -> Any:
    return _short_json(value, 200) if isinstance(value, (dict, list)) else value


# Settings a stage echoes into its metrics (parameters, perturbation model...): kept, but folded
# away so the results come first. <details> needs no script.
SETTINGS = re.compile(r"param|config|setting|perturbation", re.IGNORECASE)


def json_tables(data: Mapping[str, Any], skip: Iterable[str] = (), prefix: str = "") -> str:
    """Any metrics JSON as HTML: scalars in one key/value table, then a table per record list/matrix.

    This is how a stage's figures show up even before the report knows the stage: missing or new
    keys change the tables, never break the report. Nested tables are headed by their dotted path.
    """
    skip = set(skip)
    scalars: list[tuple[str, Any]] = []
    blocks: list[str] = []
    settings: list[str] = []
    for key, value in data.items():
        if key in skip:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if not prefix and isinstance(value, Mapping) and SETTINGS.search(str(key)):
            settings.append(
                f"<details><summary>{esc(path)}</summary>"
                + table(["key", "value"], flatten(value, path), max_rows=500)
                + "</details>"
            )
        elif is_records(value):
            blocks.append(heading(4, path) + records_table(value))
        elif is_matrix(value):
            blocks.append(heading(4, path) + matrix_table(value, corner=str(key)))
        elif is_counts(value):
            rows = sorted(value.items(), key=lambda kv: (-kv[1], str(kv[0])))
            blocks.append(heading(4, path) + table([str(key), "value"], rows))
        elif has_blocks(value):
            blocks.append(json_tables(value, prefix=path))
        else:
            scalars.extend(flatten(value, str(key)))  # relative: the table is headed by the prefix
    out = table(["key", "value"], scalars, max_rows=200) if scalars else ""
    if prefix and out:
        out = heading(4, prefix) + out
    return out + "".join(blocks) + "".join(settings)


def page(title: str, subtitle: str, toc: Sequence[tuple[str, str]], body: str) -> str:
    """The whole document: inline CSS, no script, no external resource of any kind."""
    nav = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in toc)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Belt and braces: even if markup slipped through, the browser may load nothing from the
        # network and run no script at all.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<h1>{esc(title)}</h1>\n<p class="note">{esc(subtitle)}</p>\n'
        f"<nav><ol>{nav}</ol></nav>\n{body}\n</body>\n</html>\n"
    )
