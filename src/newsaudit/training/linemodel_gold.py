"""Training data of the line model: real pages with known gold main text, labelled line by line.

Sources: dragnet, CleanEval, trafilatura-eval (never the scrapinghub benchmark, which is the test
set). Each page's full visible text is produced with the same HTML-to-text conversion the corpus
goes through (:func:`newsaudit.lib.text.html_to_text`), split into lines, and every line is labelled
by aligning its tokens with the gold text (token-level monotonic alignment, so a line counts as
content when most of its tokens are matched in order, not only when it equals a gold line).
trafilatura-eval has no full gold text, only must-keep / must-drop segments, so only the lines
containing one of those are labelled there.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
from tqdm import tqdm

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.text import html_to_text
from newsaudit.steps.boilerplate.lines import PageLines, tokens

log = logging.getLogger(__name__)

_DRAGNET_COMMENTS = re.compile(r"^\s*[!@#$%^&*()\s]{4,}COMMENTS\s*$", re.MULTILINE)
_CLEANEVAL_TAG = re.compile(r"^\s*<[phl]>\s*", re.MULTILINE)
_CLEANEVAL_TEXT_HEADER = re.compile(r"^\s*<text\b[^>]*>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?\s*([\w-]+)""", re.IGNORECASE)
_WS = re.compile(r"\s+")


# --------------------------------------------------------------------------------------------
# HTML and gold files


def decode_html(raw: bytes) -> str:
    """Decode page bytes: UTF-8 if valid, else the charset the page declares, else cp1252.

    Not :func:`newsaudit.lib.text.decode_bytes`, on purpose: on the training sources the two differ
    (103 of 5,470 HTML and gold files: byte-order marks kept here, UTF-16 gold files, damaged UTF-8,
    declared charsets read leniently), and 6 pages' visible text with them. The trained line model,
    its cross-validated threshold and the extraction benchmark's figures were computed from the
    text this function gives; switching would change the training labels and needs a retrain.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET.search(raw[:4096])
    if m:
        try:
            return raw.decode(m.group(1).decode("ascii", "ignore"), errors="replace")
        except LookupError:
            pass
    return raw.decode("cp1252", errors="replace")


@dataclass
class GoldPage:
    doc_id: str
    source: str
    text: str  # full visible text
    gold: str | None = None  # full gold main text (dragnet, cleaneval)
    with_segs: list[str] = field(default_factory=list)  # trafilatura-eval
    without_segs: list[str] = field(default_factory=list)


def _dragnet_pages(root: Path) -> Iterator[GoldPage]:
    for gold_path in sorted((root / "Corrected").glob("*.html.corrected.txt")):
        stem = gold_path.name.removesuffix(".html.corrected.txt")
        html_path = root / "HTML" / f"{stem}.html"
        if not html_path.is_file():
            continue
        gold = decode_html(gold_path.read_bytes())
        # Visitor comments are not the article: keep the part above the comments marker.
        gold = _DRAGNET_COMMENTS.split(gold, maxsplit=1)[0]
        yield GoldPage(f"dragnet/{stem}", "dragnet", html_to_text(decode_html(html_path.read_bytes())), gold)


def _cleaneval_gold(raw: str) -> str:
    lines = raw.split("\n")
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    return _CLEANEVAL_TAG.sub("", "\n".join(lines))


def _cleaneval_pages(root: Path) -> Iterator[GoldPage]:
    for split in ("cleaneval-dev", "cleaneval-final"):
        for gold_path in sorted((root / split / "GoldStandard").glob("*.txt")):
            html_path = root / split / "input" / f"{gold_path.stem}.html"
            if not html_path.is_file():
                continue
            html = _CLEANEVAL_TEXT_HEADER.sub("", decode_html(html_path.read_bytes()), count=1)
            gold = _cleaneval_gold(decode_html(gold_path.read_bytes()))
            yield GoldPage(f"cleaneval/{split}/{gold_path.stem}", "cleaneval", html_to_text(html), gold)


def trafilatura_eval_entries(root: Path) -> list[tuple[str, Path, dict]]:
    """(doc_id, html path, evaldata entry) for every evaldata entry whose page is present."""
    data = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    out = []
    for url in sorted(data):
        entry = data[url]
        for sub in ("eval", "cache"):
            path = root / "tests" / sub / entry["file"]
            if path.is_file():
                out.append((f"trafilatura-eval/{entry['file']}", path, entry))
                break
    return out


def _trafilatura_pages(root: Path) -> Iterator[GoldPage]:
    for doc_id, path, entry in trafilatura_eval_entries(root):
        text = html_to_text(decode_html(path.read_bytes()))
        yield GoldPage(doc_id, "trafilatura-eval", text, None, list(entry["with"]), list(entry["without"]))


SOURCE_DIRS = {"dragnet": "dragnet-data", "cleaneval": "cleaneval", "trafilatura-eval": "trafilatura-eval"}
_READERS = {"dragnet": _dragnet_pages, "cleaneval": _cleaneval_pages, "trafilatura-eval": _trafilatura_pages}


def load_gold_pages(external: Path, sources: list[str]) -> list[GoldPage]:
    pages: list[GoldPage] = []
    for source in sources:
        if source not in _READERS:
            raise NewsauditError(
                f"train_linemodel.sources: unknown training source '{source}' (known: {sorted(_READERS)}); "
                "the scrapinghub benchmark is the test set and is never a training source"
            )
        root = external / SOURCE_DIRS[source]
        if not root.is_dir():
            raise NewsauditError(f"training source {source}: {root} is missing (run `newsaudit fetch`)")
        found = list(tqdm(_READERS[source](root), desc=f"html->text {source}", unit="page"))
        log.info("%s: %d gold pages", source, len(found))
        pages.extend(found)
    return pages


# --------------------------------------------------------------------------------------------
# Alignment


def align_line_match(page: PageLines, gold: str, min_block: int = 3) -> np.ndarray:
    """Share of each line's tokens aligned (in order) with the gold text's tokens."""
    line_toks = [[t.lower() for t in tokens(line)] for line in page.texts]
    flat = [t for lt in line_toks for t in lt]
    owner = np.repeat(np.arange(len(line_toks)), [len(lt) for lt in line_toks]).astype(int)
    gold_toks = [t.lower() for t in tokens(gold)]
    matched = np.zeros(len(flat), dtype=bool)
    if flat and gold_toks:
        sm = SequenceMatcher(None, flat, gold_toks, autojunk=False)
        for a, _b, size in sm.get_matching_blocks():
            if size == 0:
                continue
            whole_line = owner[a] == owner[a + size - 1] and len(line_toks[owner[a]]) == size
            if size >= min_block or whole_line:
                matched[a : a + size] = True
    n_lines = len(line_toks)
    hits = np.bincount(owner[matched], minlength=n_lines).astype(float) if n_lines else np.zeros(0)
    sizes = np.array([max(1, len(lt)) for lt in line_toks], dtype=float)
    return hits / sizes if n_lines else np.zeros(0)


def segment_line_labels(page: PageLines, with_segs: list[str], without_segs: list[str]) -> np.ndarray:
    """1 for lines holding a must-keep segment, 0 for a must-drop one, NaN when unlabelled/ambiguous."""
    labels = np.full(len(page.texts), np.nan)
    w = [_WS.sub(" ", s).strip() for s in with_segs if s.strip()]
    wo = [_WS.sub(" ", s).strip() for s in without_segs if s.strip()]
    for i, line in enumerate(page.texts):
        norm = _WS.sub(" ", line)
        pos = any(s in norm or (len(norm) >= 30 and norm in s) for s in w)
        neg = any(s in norm for s in wo)
        if pos != neg:
            labels[i] = 1.0 if pos else 0.0
    return labels
