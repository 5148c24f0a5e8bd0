"""Readers of the ingest step: one input file -> pages-table rows, accounting for every input.

A corpus is a folder (or one file) of pages: ``.txt`` dumps, ``.html``/``.htm``/``.html.gz`` pages
(turned into their full visible text, boilerplate kept), or JSONL / CSV / TSV / Parquet files with a
``text`` column (optional ``id`` and ``url``). Every input document becomes one row of
``pages.parquet``: accepted with its text, or rejected with a reason. Nothing is dropped silently:
``inputs == accepted + rejected`` is checked before anything is written.

Decoding: a byte-order mark wins; then strict UTF-8; then (HTML) the charset the page declares; then
UTF-8 with U+FFFD for a few corrupt bytes when the rest is valid UTF-8; then
a confident non-Latin guess of ``charset-normalizer``; then windows-1252 (the web's default for
undeclared pages, a rare undefined byte allowed); then a CJK guess. A page none of these decode is
rejected. Text then goes
through ``ftfy`` (mojibake repair, curly quotes kept) and Unicode NFC normalisation.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.parquet as pq

from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError, Rejection
from newsaudit.lib.text import (
    declared_charset,
    decode_bytes,
    domain_of,
    html_to_text,
    identify_language,
    normalise_text,
    sniff_binary,
    source_from_name,
    url_from_html,
)

log = logging.getLogger(__name__)


class CorpusParams(Section):
    # Folder (or single file) holding the corpus; relative paths are relative to the project root.
    path: str = "data/external"
    # Glob patterns (relative to ``path``) that select the inputs; empty means every file.
    include: list[str] = []


class IngestParams(Section):
    max_bytes: int = 20_000_000  # per page file, or per record's text in JSONL/CSV/Parquet
    min_language_chars: int = 20  # shorter texts get no language (identification is noise there)
    language_chars: int = 3000  # how much of a page the language identifier reads
    row_group_size: int = 500
    text_column: str = "text"
    id_column: str = "id"
    url_column: str = "url"


PAGE_FORMATS = {".txt": "txt", ".html": "html", ".htm": "html"}
RECORD_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}

PAGES_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("path", pa.string()),
        ("record", pa.int64()),
        ("record_id", pa.string()),
        ("format", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("encoding", pa.string()),
        ("raw_text", pa.string()),
        ("n_chars", pa.int64()),
        ("language", pa.string()),
        ("language_score", pa.float64()),
        ("status", pa.string()),
        ("reason_code", pa.string()),
        ("status_reason", pa.string()),
    ]
)
MANIFEST_COLUMNS = ["doc_id", "path", "record", "format", "status", "reason_code", "status_reason", "n_chars"]


class IngestError(NewsauditError):
    """The corpus as a whole cannot be ingested (missing path, no documents)."""


@dataclass
class Doc:
    path: str
    format: str
    record: int | None = None
    record_id: str | None = None
    source: str | None = None
    url: str | None = None
    encoding: str | None = None
    raw_text: str | None = None
    language: str | None = None
    language_score: float | None = None
    status: str = "accepted"
    reason_code: str | None = None
    status_reason: str | None = None
    extra: dict = field(default_factory=dict)

    def to_row(self) -> dict:
        key = self.path if self.record is None else f"{self.path}#{self.record}"
        return {
            "doc_id": hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest(),
            "path": self.path,
            "record": self.record,
            "record_id": self.record_id,
            "format": self.format,
            "source": self.source,
            "url": self.url,
            "encoding": self.encoding,
            "raw_text": self.raw_text,
            "n_chars": len(self.raw_text) if self.raw_text is not None else 0,
            "language": self.language,
            "language_score": self.language_score,
            "status": self.status,
            "reason_code": self.reason_code,
            "status_reason": self.status_reason,
        }


# --------------------------------------------------------------------------------------------------
# Pure helpers: bytes -> text, HTML -> visible text, names -> source
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# Readers: one input file -> documents
# --------------------------------------------------------------------------------------------------


def format_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".html.gz", ".htm.gz")):
        return "html"
    if lower.endswith(".txt.gz"):
        return "txt"
    suffix = PurePosixPath(lower).suffix
    return PAGE_FORMATS.get(suffix) or RECORD_FORMATS.get(suffix)


def _accept(doc: Doc, text: str, params: IngestParams) -> Doc:
    doc.raw_text = normalise_text(text)
    if not doc.raw_text.strip() and doc.format != "html":
        raise Rejection("empty", f"{doc.path}{_at(doc)}: no text (only white space)")
    doc.language, doc.language_score = identify_language(
        doc.raw_text, params.language_chars, params.min_language_chars
    )
    if doc.source is None:
        doc.source = domain_of(doc.url)
    return doc


def _at(doc: Doc) -> str:
    if doc.record is None:
        return ""
    return f" line {doc.record}" if doc.format == "jsonl" else f" row {doc.record}"


def read_page(path: Path, rel: str, fmt: str, params: IngestParams) -> Doc:
    doc = Doc(path=rel, format=fmt, source=source_from_name(rel))
    size = path.stat().st_size
    if size == 0:
        raise Rejection("empty", f"{rel}: empty file (0 bytes)")
    if size > params.max_bytes:
        raise Rejection("too_large", f"{rel}: {size:,} bytes, over ingest.max_bytes = {params.max_bytes:,}")
    data = path.read_bytes()
    if rel.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise Rejection("corrupt", f"{rel}: not a valid gzip file ({exc})") from None
        if len(data) > params.max_bytes:
            raise Rejection(
                "too_large",
                f"{rel}: {len(data):,} bytes uncompressed, over ingest.max_bytes = {params.max_bytes:,}",
            )
    if not data.strip():
        raise Rejection("empty", f"{rel}: no text (only white space)")
    binary = sniff_binary(data)
    if binary:
        raise Rejection("binary", f"{rel}: binary file ({binary}), not a text page")
    text, doc.encoding = decode_bytes(data, rel, declared_charset(data) if fmt == "html" else None)
    if fmt == "html":
        doc.url = url_from_html(text)
        doc.source = domain_of(doc.url) or doc.source
        text = html_to_text(text)
    return _accept(doc, text, params)


def _record_doc(rel: str, fmt: str, index: int, record: dict, params: IngestParams) -> Doc:
    doc = Doc(path=rel, format=fmt, record=index)
    rid = record.get(params.id_column)
    doc.record_id = None if rid is None or (isinstance(rid, float) and rid != rid) else str(rid)
    url = record.get(params.url_column)
    doc.url = url if isinstance(url, str) and url else None
    text = record.get(params.text_column)
    if text is None or (isinstance(text, float) and text != text):
        raise Rejection("missing_text", f"{rel}{_at(doc)}: '{params.text_column}' is missing or null")
    if not isinstance(text, str):
        raise Rejection(
            "bad_text", f"{rel}{_at(doc)}: '{params.text_column}' is a {type(text).__name__}, not a string"
        )
    if len(text.encode("utf-8")) > params.max_bytes:
        raise Rejection("too_large", f"{rel}{_at(doc)}: text over ingest.max_bytes = {params.max_bytes:,}")
    if not text.strip():
        raise Rejection("empty", f"{rel}{_at(doc)}: empty text")
    return _accept(doc, text, params)


def _file_text(path: Path, rel: str) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise Rejection("empty", f"{rel}: empty file (0 bytes)" if not data else f"{rel}: no text")
    binary = sniff_binary(data)
    if binary:
        raise Rejection("binary", f"{rel}: binary file ({binary}), not a {PurePosixPath(rel).suffix} file")
    text, _ = decode_bytes(data, rel)
    return text


def read_jsonl(path: Path, rel: str, params: IngestParams) -> Iterator[Doc]:
    text = _file_text(path, rel)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # blank lines separate nothing in JSONL; they are not documents
        doc = Doc(path=rel, format="jsonl", record=lineno)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield _rejected(
                doc,
                Rejection(
                    "malformed_json", f"{rel} line {lineno}: malformed JSON ({exc.msg} at column {exc.colno})"
                ),
            )
            continue
        if not isinstance(record, dict):
            yield _rejected(
                doc,
                Rejection(
                    "malformed_json",
                    f"{rel} line {lineno}: expected a JSON object, found {type(record).__name__}",
                ),
            )
            continue
        yield _guard(lambda r=record, i=lineno: _record_doc(rel, "jsonl", i, r, params), doc)


def read_table(path: Path, rel: str, fmt: str, params: IngestParams) -> Iterator[Doc]:
    """CSV, TSV or Parquet with a text column; row numbers count data rows from 1."""
    if fmt == "parquet":
        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise Rejection("corrupt", f"{rel}: not a readable Parquet file ({exc})") from None
        columns = pf.schema_arrow.names
        _require_text_column(rel, columns, params)
        wanted = [c for c in (params.text_column, params.id_column, params.url_column) if c in columns]
        batches = (b.to_pylist() for b in pf.iter_batches(batch_size=1000, columns=wanted))
        records: Iterable[dict] = (r for batch in batches for r in batch)
    else:
        text = _file_text(path, rel)
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if fmt == "tsv" else ",")
        columns = reader.fieldnames or []
        _require_text_column(rel, columns, params)
        records = reader
    for index, record in enumerate(records, start=1):
        doc = Doc(path=rel, format=fmt, record=index)
        if fmt != "parquet" and None in record:
            yield _rejected(
                doc,
                Rejection(
                    "malformed_row",
                    f"{rel} row {index}: more fields than the {len(columns)} columns of the header",
                ),
            )
            continue
        yield _guard(lambda r=record, i=index: _record_doc(rel, fmt, i, r, params), doc)


def _require_text_column(rel: str, columns: list[str], params: IngestParams) -> None:
    if params.text_column not in columns:
        found = ", ".join(repr(c) for c in columns) or "none"
        raise Rejection(
            "no_text_column",
            f"{rel}: no '{params.text_column}' column (ingest.text_column); columns found: {found}",
        )


def _rejected(doc: Doc, rej: Rejection) -> Doc:
    doc.status, doc.reason_code, doc.status_reason = "rejected", rej.code, rej.message
    doc.raw_text = None
    return doc


def _guard(read, doc: Doc) -> Doc:
    try:
        return read()
    except Rejection as rej:
        return _rejected(doc, rej)


def read_input(args: tuple[str, str, IngestParams]) -> list[dict]:
    """All documents of one input file as pages-table rows (runs in a worker process)."""
    path_str, rel, params = args
    path = Path(path_str)
    fmt = format_of(rel)
    if fmt is None:
        suffix = PurePosixPath(rel).suffix or "(no extension)"
        doc = Doc(path=rel, format="unknown")
        return [
            _rejected(
                doc,
                Rejection(
                    "unsupported_format",
                    f"{rel}: unsupported format {suffix}; "
                    "expected .txt, .html, .htm, .html.gz, .jsonl, .csv, .tsv or "
                    ".parquet",
                ),
            ).to_row()
        ]
    try:
        if fmt in ("txt", "html"):
            return [read_page(path, rel, fmt, params).to_row()]
        if fmt == "jsonl":
            docs = list(read_jsonl(path, rel, params))
        else:
            docs = list(read_table(path, rel, fmt, params))
        if not docs:
            raise Rejection("empty", f"{rel}: no records")
        return [d.to_row() for d in docs]
    except Rejection as rej:
        return [_rejected(Doc(path=rel, format=fmt), rej).to_row()]
    except OSError as exc:
        return [
            _rejected(
                Doc(path=rel, format=fmt), Rejection("unreadable", f"{rel}: cannot read ({exc})")
            ).to_row()
        ]
    except Exception as exc:  # a hostile page must not stop the corpus; the reason is kept in its row
        log.debug("failed to parse %s", rel, exc_info=True)
        return [
            _rejected(
                Doc(path=rel, format=fmt),
                Rejection("parse_error", f"{rel}: could not be parsed ({type(exc).__name__}: {exc})"),
            ).to_row()
        ]


# --------------------------------------------------------------------------------------------------
# The corpus: discover inputs, read them in parallel, write the table
# --------------------------------------------------------------------------------------------------


def discover(corpus: CorpusParams) -> list[tuple[Path, str]]:
    """Input files in a stable order, with their paths relative to the corpus root."""
    root = Path(corpus.path)
    if not root.exists():
        raise IngestError(
            f"corpus path {root} does not exist (corpus.path in params.yaml, or the CORPUS argument)"
        )
    if root.is_file():
        return [(root, root.name)]
    found: list[tuple[Path, str]] = []
    n_files = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            n_files += 1
            if not corpus.include or any(fnmatch(rel, pat) or fnmatch(name, pat) for pat in corpus.include):
                found.append((full, rel))
    if not found:
        what = (
            f"no files matching corpus.include {corpus.include} ({n_files} files in all)"
            if corpus.include
            else "no files"
        )
        raise IngestError(f"corpus {root} holds no documents: {what}")
    return found
