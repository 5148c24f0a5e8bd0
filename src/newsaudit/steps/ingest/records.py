"""Record files: JSON/JSONL crawler records, CSV, TSV and Parquet with a text column.

JSON and JSONL records are read by field name (``ingest.record_fields``: for each column, the first
field present wins; the defaults read news-please output, ``maintext``/``text``/``html``/``body``,
``url``, ``source_domain``, ``date_publish``, ``date_download``, and scrapy items). A ``.json`` file
holds one record (news-please writes one per article) or a list of them (scrapy's ``-o x.json``).
A text value with HTML tags (``html``, scrapy's ``body``) goes through the same HTML-to-text path as
``.html`` pages. CSV/TSV/Parquet use ``ingest.text_column``/``id_column``/``url_column``.

A bad record is rejected on its own (its line or row named), the file's good records kept: malformed
JSON, a missing or non-string text, a field over ``ingest.max_bytes``, a string UTF-8 cannot encode
(a lone surrogate such as ``"\\ud800"`` in JSON: rejected, not repaired, so no text is changed
silently). Only a file that cannot be read at all (no text column, not Parquet) is rejected whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pyarrow as pa

from newsaudit.core.errors import Rejection
from newsaudit.lib import storage
from newsaudit.lib.dates import iso_date
from newsaudit.lib.text import decode_bytes, html_page, sniff_binary
from newsaudit.steps.ingest.doc import Doc, IngestParams, accept, at, guard, rejected, unencodable

_HTML_TAG = re.compile(r"<(?:html|body|p|div|br|article|span|h[1-6]|!doctype)\b", re.I)


def _first(record: dict, names: list[str]):
    """The first of ``names`` whose value in ``record`` is not null, and that name."""
    for name in names:
        value = record.get(name)
        if value is not None and not (isinstance(value, float) and value != value):
            return name, value
    return (names[0] if names else ""), None


def _crawler_record_doc(doc: Doc, record: dict, params: IngestParams) -> Doc:
    """A JSON record read by ``ingest.record_fields`` (news-please and scrapy by default)."""
    fields = params.record_fields
    (text_field, text), (_, url), (_, rid) = (
        _first(record, fields.text),
        _first(record, fields.url),
        _first(record, fields.id),
    )
    (_, source), (_, published), (_, fetched) = (
        _first(record, fields.source),
        _first(record, fields.published_date),
        _first(record, fields.fetch_date),
    )
    names = ", ".join(repr(n) for n in fields.text)
    missing = f"no text field ({names}: ingest.record_fields.text) is set"
    named = {"url": url, "id": rid, "source": source}
    return _checked(doc, text_field, text, named, params, published, fetched, missing)


def _record_doc(doc: Doc, record: dict, params: IngestParams) -> Doc:
    """A table row read by ``ingest.text_column``, ``id_column``, ``url_column``."""
    named = {"url": record.get(params.url_column), "id": record.get(params.id_column)}
    return _checked(doc, params.text_column, record.get(params.text_column), named, params)


def _checked(
    doc: Doc,
    text_field: str,
    text,
    named: dict,
    params: IngestParams,
    published=None,
    fetched=None,
    missing: str | None = None,
) -> Doc:
    rel = doc.path
    for column, value in ((text_field, text), *named.items()):
        pos = unencodable(value) if isinstance(value, str) else None
        if pos is not None:
            raise Rejection(
                "unencodable",
                f"{rel}{at(doc)}: '{column}' holds a lone surrogate (U+{ord(value[pos]):04X} at character "
                f"{pos}), which UTF-8 cannot encode",
            )
    rid, url, source = named.get("id"), named.get("url"), named.get("source")
    doc.record_id = None if rid is None or (isinstance(rid, float) and rid != rid) else str(rid)
    doc.url = url if isinstance(url, str) and url else None
    doc.source = source.lower().removeprefix("www.") if isinstance(source, str) and source.strip() else None
    doc.published_date, doc.fetch_date = iso_date(published), iso_date(fetched)
    if text is None or (isinstance(text, float) and text != text):
        raise Rejection(
            "missing_text", f"{rel}{at(doc)}: {missing or repr(text_field) + ' is missing or null'}"
        )
    if not isinstance(text, str):
        raise Rejection(
            "bad_text", f"{rel}{at(doc)}: '{text_field}' is a {type(text).__name__}, not a string"
        )
    if len(text.encode("utf-8")) > params.max_bytes:
        raise Rejection("too_large", f"{rel}{at(doc)}: text over ingest.max_bytes = {params.max_bytes:,}")
    if not text.strip():
        raise Rejection("empty", f"{rel}{at(doc)}: empty text")
    if _HTML_TAG.search(text[:5000]):
        latest = None
        if params.published_dates and doc.published_date is None:
            latest = doc.fetch_date or params.latest_published_date
        text, found = html_page(text, latest)
        doc.published_date = doc.published_date or found
        if not text.strip():
            raise Rejection("no_text", f"{rel}{at(doc)}: '{text_field}' is HTML without visible text")
    return accept(doc, text, params)


def file_text(path: Path, rel: str) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise Rejection("empty", f"{rel}: empty file (0 bytes)" if not data else f"{rel}: no text")
    binary = sniff_binary(data)
    if binary:
        raise Rejection("binary", f"{rel}: binary file ({binary}), not a {PurePosixPath(rel).suffix} file")
    text, _ = decode_bytes(data, rel)
    return text


def read_jsonl(path: Path, rel: str, params: IngestParams, name: str | None = None) -> Iterator[Doc]:
    text = file_text(path, rel)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # blank lines separate nothing in JSONL; they are not documents
        doc = Doc(path=rel, format="jsonl", record=lineno, name=name)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            message = f"{rel} line {lineno}: malformed JSON ({exc.msg} at column {exc.colno})"
            yield rejected(doc, Rejection("malformed_json", message))
            continue
        if not isinstance(record, dict):
            message = f"{rel} line {lineno}: expected a JSON object, found {type(record).__name__}"
            yield rejected(doc, Rejection("malformed_json", message))
            continue
        yield guard(lambda r=record, d=doc: _crawler_record_doc(d, r, params), doc)


def read_json(path: Path, rel: str, params: IngestParams, name: str | None = None) -> Iterator[Doc]:
    """A ``.json`` file: one record (an object) or a list of records, numbered from 1."""
    text = file_text(path, rel)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejection(
            "malformed_json", f"{rel}: malformed JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    records = data if isinstance(data, list) else [data]
    for index, record in enumerate(records, start=1):
        doc = Doc(path=rel, format="json", record=index, name=name)
        if not isinstance(record, dict):
            message = f"{rel} record {index}: expected a JSON object, found {type(record).__name__}"
            yield rejected(doc, Rejection("malformed_json", message))
            continue
        yield guard(lambda r=record, d=doc: _crawler_record_doc(d, r, params), doc)


def read_table(
    path: Path, rel: str, fmt: str, params: IngestParams, name: str | None = None
) -> Iterator[Doc]:
    """CSV, TSV or Parquet with a text column; row numbers count data rows from 1."""
    if fmt == "parquet":
        # Opened here, not by pyarrow: pyarrow encodes a path as UTF-8, which a name that is not
        # (a surrogate escape) cannot be.
        with path.open("rb") as fh:
            yield from _read_parquet(fh, rel, params, name)
        return
    text = file_text(path, rel)
    # The csv module refuses fields over 131,072 characters and then cannot resume in the middle of
    # a quoted field, so one long field would cost the whole file. No field can be longer than the
    # file, so this limit never trips; a field over ingest.max_bytes rejects its row below.
    # The limit is process-wide: only ever raised, so other csv readers here keep theirs.
    csv.field_size_limit(max(csv.field_size_limit(), params.max_bytes + 1, len(text) + 1))
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if fmt == "tsv" else ",")
    columns = reader.fieldnames or []
    _require_text_column(rel, columns, params)
    for index, record in enumerate(reader, start=1):
        doc = Doc(path=rel, format=fmt, record=index, name=name)
        problem = _row_problem(record, len(columns), params)
        if problem is not None:
            yield rejected(doc, Rejection(problem[0], f"{rel} row {index}: {problem[1]}"))
            continue
        yield guard(lambda r=record, d=doc: _record_doc(d, r, params), doc)


def _read_parquet(fh, rel: str, params: IngestParams, name: str | None) -> Iterator[Doc]:
    try:
        pf = storage.open_parquet(fh)
    except (pa.ArrowException, OSError) as exc:
        raise Rejection("corrupt", f"{rel}: not a readable Parquet file ({exc})") from None
    columns = pf.schema_arrow.names
    _require_text_column(rel, columns, params)
    wanted = [c for c in (params.text_column, params.id_column, params.url_column) if c in columns]
    batches = (b.to_pylist() for b in pf.iter_batches(batch_size=1000, columns=wanted))
    for index, record in enumerate((r for batch in batches for r in batch), start=1):
        doc = Doc(path=rel, format="parquet", record=index, name=name)
        yield guard(lambda r=record, d=doc: _record_doc(d, r, params), doc)


def _row_problem(record: dict, n_columns: int, params: IngestParams) -> tuple[str, str] | None:
    if None in record:
        return "malformed_row", f"more fields than the {n_columns} columns of the header"
    for column, value in record.items():
        if isinstance(value, str) and len(value) * 4 > params.max_bytes:  # cheap bound before encoding
            size = len(value.encode("utf-8"))
            if size > params.max_bytes:
                return (
                    "too_large",
                    f"field '{column}' is {size:,} bytes, over ingest.max_bytes = {params.max_bytes:,}",
                )
    return None


def _require_text_column(rel: str, columns: list[str], params: IngestParams) -> None:
    if params.text_column not in columns:
        found = ", ".join(repr(c) for c in columns) or "none"
        raise Rejection(
            "no_text_column",
            f"{rel}: no '{params.text_column}' column (ingest.text_column); columns found: {found}",
        )
