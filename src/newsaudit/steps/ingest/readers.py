"""``ingest`` stage: read a corpus into the pages table, accounting for every input.

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

import codecs
import csv
import gzip
import hashlib
import io
import json
import logging
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import charset_normalizer
import ftfy
import html_text
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from newsaudit.core.config import Section, engine_of, load_params, section
from newsaudit.core.errors import NewsauditError, Rejection
from newsaudit.core.io import write_json
from newsaudit.engines.parallel import ordered_map
from newsaudit.lib.text import (
    decode_bytes,
    declared_charset,
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
    workers: int = 2
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
    doc.language, doc.language_score = identify_language(doc.raw_text, params.language_chars, params.min_language_chars)
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


def ingest_rows(corpus: CorpusParams, params: IngestParams) -> Iterator[dict]:
    """Rows of the pages table, in input order; inputs are read in ``params.workers`` processes."""
    inputs = discover(corpus)
    jobs = [(str(path), rel, params) for path, rel in inputs]
    progress = tqdm(total=len(jobs), desc="ingest", unit="file", disable=None)
    # At most 2 x workers files in flight: a large corpus must not pile up parsed rows in memory
    # while the writer catches up (pool.map would submit every file at once).
    workers = params.workers if len(jobs) > 1 else 1
    for rows in ordered_map(read_input, jobs, workers, {}):
        progress.update()
        yield from rows
    progress.close()


def write_pages(rows: Iterable[dict], out: Path, row_group_size: int) -> Counter:
    """Stream rows into Parquet in row groups; return counts used for the manifest invariant."""
    out.parent.mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    tmp = out.with_name(out.name + ".partial")
    with pq.ParquetWriter(tmp, PAGES_SCHEMA) as writer:
        batch: list[dict] = []
        for row in rows:
            counts[row["status"]] += 1
            batch.append(row)
            if len(batch) >= row_group_size:
                writer.write_table(pa.Table.from_pylist(batch, schema=PAGES_SCHEMA))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=PAGES_SCHEMA))
    tmp.replace(out)
    return counts


def summarise(pages: pd.DataFrame) -> dict:
    """Counts for ``reports/metrics/ingest.json``; asserts inputs == accepted + rejected."""
    by_status = pages["status"].value_counts().to_dict()
    accepted, rejected = int(by_status.get("accepted", 0)), int(by_status.get("rejected", 0))
    if accepted + rejected != len(pages):
        raise AssertionError(
            f"manifest invariant broken: {len(pages)} inputs, {accepted} accepted + {rejected} rejected"
        )
    by_format = {
        fmt: {s: int(n) for s, n in grp["status"].value_counts().sort_index().items()}
        for fmt, grp in pages.groupby("format", sort=True)
    }
    ok = pages[pages["status"] == "accepted"]
    rejected_rows = pages[pages["status"] == "rejected"]
    return {
        "inputs": len(pages),
        "accepted": accepted,
        "rejected": rejected,
        "by_format": by_format,
        "rejected_by_reason": _counts(rejected_rows["reason_code"]),
        "accepted_chars": int(ok["n_chars"].sum()),
        "accepted_empty_text": int((ok["n_chars"] == 0).sum()),
        "with_source": int(ok["source"].notna().sum()),
        "distinct_sources": int(ok["source"].nunique()),
        "by_language": _counts(ok["language"].fillna("und")),
        "encodings": _counts(ok["encoding"].fillna("none")),
    }


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}


def ingest(corpus: CorpusParams, params: IngestParams, out: Path, manifest: Path | None = None) -> dict:
    """Run the stage: write the pages table (and manifest CSV); return the summary."""
    counts = write_pages(ingest_rows(corpus, params), out, params.row_group_size)
    pages = pd.read_parquet(out, columns=[c for c in PAGES_SCHEMA.names if c != "raw_text"])
    summary = summarise(pages)
    if summary["accepted"] != counts["accepted"] or summary["rejected"] != counts["rejected"]:
        raise AssertionError(f"{out}: written counts {dict(counts)} differ from the table's")
    if manifest is not None:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        pages[MANIFEST_COLUMNS].to_csv(manifest, index=False)
    for row in pages.loc[pages["status"] == "rejected", "status_reason"].head(20):
        log.warning("rejected: %s", row)
    log.info(
        "ingest: %d inputs, %d accepted, %d rejected -> %s",
        summary["inputs"],
        summary["accepted"],
        summary["rejected"],
        out,
    )
    return summary


def register_cli(sub) -> None:
    p = sub.add_parser("ingest", help="read a corpus into the pages table (every input accounted for)")
    p.add_argument("--corpus", help="corpus folder or file (overrides corpus.path)")
    p.add_argument("--out", default="data/interim/pages.parquet")
    p.add_argument("--manifest", default="data/interim/manifest.csv")
    p.add_argument("--metrics", default="reports/metrics/ingest.json")
    p.set_defaults(func=_cli)


def _cli(args) -> None:
    params = load_params(args.params)
    corpus = section(params, "corpus", CorpusParams)
    if args.corpus:
        corpus = corpus.model_copy(update={"path": args.corpus, "include": []})
    ingest_params = section(params, "ingest", IngestParams)
    if engine_of(params) == "dask":
        from newsaudit.engines.dask.legacy import DaskParams, connect, ingest_dask

        with connect(section(params, "dask", DaskParams)) as client:
            summary = ingest_dask(client, corpus, ingest_params, Path(args.out), Path(args.manifest))
    else:
        summary = ingest(corpus, ingest_params, Path(args.out), Path(args.manifest))
    write_json(summary, Path(args.metrics))
