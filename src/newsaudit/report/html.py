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

# The page's own layout and type; COMPONENT_CSS styles the report's pieces (also in notebooks).
BASE_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0 auto; max-width: 1200px; padding: .6rem 2rem 3rem; color: #1d232a; background: #fff; }
h1 { font-size: 1.45rem; margin: .2rem 0 0; }
h2 { font-size: 1.2rem; border-bottom: 2px solid #d0d7de; padding-bottom: .15rem; margin: 1.4rem 0 .5rem; }
h3 { font-size: 1rem; margin: .9rem 0 .3rem; }
nav { font-size: .85rem; margin: .2rem 0 .4rem; color: #57606a; }
nav a { margin-right: .7rem; }
table { border-collapse: collapse; margin: .3rem 0 .6rem; font-size: .84rem; }
th, td { border: 1px solid #d0d7de; padding: .12rem .45rem; text-align: left; vertical-align: top; }
td { max-width: 48rem; overflow-wrap: anywhere; }
th { background: #f3f5f7; font-weight: 600; }
pre, code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .78rem; }
figure { margin: .3rem 0 .6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { font-size: .82rem; color: #57606a; }
details { margin: .3rem 0 .5rem; }
summary { cursor: pointer; color: #0969da; font-size: .9rem; }
"""
COMPONENT_CSS = """
table.fit { width: 100%; table-layout: fixed; }
table.fit td { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mono, .meta { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .78rem; }
.meta { color: #57606a; margin: 0 0 .3rem; overflow-wrap: anywhere; }
.note { color: #57606a; font-style: italic; margin: .3rem 0; }
.absent { color: #8c6d00; background: #fff8c5; padding: .3rem .6rem; border-left: 3px solid #d4a72c; }
ul.findings { margin: .3rem 0 .5rem; padding-left: 1.2rem; font-size: .98rem; }
ul.findings li { margin: .12rem 0; }
ul.alerts { list-style: none; margin: .3rem 0 .4rem; padding: .3rem .6rem; background: #fff8f0;
            border-left: 3px solid #d4782c; font-size: .88rem; }
ul.alerts li { margin: .1rem 0; }
.tag { display: inline-block; font-size: .68rem; font-weight: 700; letter-spacing: .03em; color: #fff;
       background: #bc4c00; border-radius: 3px; padding: 0 .35rem; vertical-align: 1px; }
a.more { font-size: .8rem; color: #0969da; }
td.bar { min-width: 7.5rem; white-space: nowrap; }
.bar span.b { display: inline-block; height: .62rem; background: #4c8bc9; vertical-align: -1px;
              margin-right: .3rem; }
.bar span.t { display: inline-block; width: 4.6rem; background: #eef1f4; vertical-align: -1px; }
.bar span.v { font-variant-numeric: tabular-nums; font-size: .8rem; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .7rem; margin-bottom: .4rem; }
.pair > div { border: 1px solid #d0d7de; padding: .35rem .5rem; background: #fbfcfd; min-width: 0; }
.pair .text { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; max-height: 16rem;
              overflow-y: auto; }
.cap { font-size: .74rem; color: #57606a; margin-bottom: .15rem; }
.lines { font-size: .78rem; line-height: 1.3; }
.lines > div { display: flex; gap: .3rem; align-items: baseline; }
.lines .t { flex: 0 1 auto; min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.lines .why { flex: none; }
.lines del { color: #8c959f; }
.lines .fold { color: #8c959f; font-style: italic; }
.why { font-size: .68rem; color: #953800; background: #fff1e5; border-radius: 3px; padding: 0 .25rem;
       text-decoration: none; font-style: normal; }
.hidden { font-size: .74rem; color: #57606a; font-style: italic; margin-top: .15rem; }
.ex h3 { margin-bottom: .05rem; }
.figs { display: grid; grid-template-columns: 1fr 1fr; gap: .4rem 1rem; }
.clip { max-width: 42rem; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
"""
CSS = BASE_CSS + COMPONENT_CSS


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


def table(
    columns: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    max_rows: int = MAX_ROWS,
    widths: Sequence[str] | None = None,
) -> str:
    """An HTML table (no header row when ``columns`` is None); rows past ``max_rows`` are counted
    in a note instead of shown. ``widths`` (CSS lengths, "" for the rest) make it a full-width
    table of fixed columns whose cells are cut with an ellipsis instead of wrapping."""
    rows = list(rows)
    head = ""
    if columns is not None:
        head = "<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr></thead>"
    body = "".join("<tr>" + "".join(td(v) for v in row) + "</tr>" for row in rows[:max_rows])
    opening = "<table>"
    if widths is not None:
        cols = "".join(f'<col style="width:{esc(w)}">' if w else "<col>" for w in widths)
        opening = f'<table class="fit"><colgroup>{cols}</colgroup>'
    out = f"{opening}{head}<tbody>{body}</tbody></table>"
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


def bar(share: float | None, label: str | None = None) -> str:
    """A table cell with an inline bar (CSS only) for a share in [0, 1], and its value."""
    if share is None or share != share:  # None or NaN: nothing to draw
        return '<td class="bar num"></td>'
    width = max(0.0, min(1.0, float(share))) * 4.6
    text = label if label is not None else f"{100 * share:.0f}%"
    return (
        f'<td class="bar"><span class="t"><span class="b" style="width:{width:.2f}rem"></span></span>'
        f'<span class="v">{esc(text)}</span></td>'
    )


def folded(summary: str, body: str, anchor: str | None = None) -> str:
    """``body`` in a ``<details>`` block: shown on a click, no script needed."""
    ident = f' id="{esc(anchor)}"' if anchor else ""
    # Wide tables scroll inside the block instead of widening the page.
    return f'<details{ident}><summary>{esc(summary)}</summary><div class="scroll">{body}</div></details>'


def page(title: str, subtitle: str, toc: Sequence[tuple[str, str]], body: str) -> str:
    """The whole document: inline CSS, no script, no external resource of any kind."""
    nav = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in toc)
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
        f"<nav>{nav}</nav>\n{body}\n</body>\n</html>\n"
    )
