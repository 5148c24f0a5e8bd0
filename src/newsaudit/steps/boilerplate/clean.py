"""Boilerplate and error pages: clean article text out of plain-text page dumps, batch by batch.

Adds ``clean_text`` plus a traceable record of every removed line. Four signals, in this order
of precedence for the reason recorded:

1. ``error_page``: an error / blocked / empty-shell page, or an error block glued before real
   content (``errors``);
2. ``site_template``: lines (case-, digit- and space-folded) that recur on many pages of the same
   source, or of the whole corpus for pages without a (large enough) source (``templates``);
3. ``pattern``: short page-furniture lines (comment widgets, disclaimers, share bars...);
4. ``line_model``: a classifier over per-line features trained on gold-aligned pages
   (``linemodel``), for everything the first three do not decide.

Rejected rows of the pages table pass through untouched (``clean_text`` null).

HTTP status: when the table has an ``http_status`` column (pages read from WARC files), a 4xx or
5xx response is an error page whatever its body says, its kind named by the status (``http_404``,
``http_503``); pages without a status are judged by their text alone, as they always were.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from newsaudit.core.errors import NewsauditError
from newsaudit.steps.boilerplate.errors import (
    error_kinds_batch,
    fillers_batch,
    furniture_batch,
    scan_errors_flags,
)
from newsaudit.steps.boilerplate.linemodel import LineModel
from newsaudit.steps.boilerplate.lines import PageLines, normalize_lines, split_lines
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.templates import TemplateIndex, line_hashes

REASONS = ("error_page", "site_template", "pattern", "line_model")


OUT_DTYPES = {
    "clean_text": "string",
    "clean_status": "string",
    "is_error_page": "boolean",
    "error_kind": "string",
    "error_prefix_chars": "Int64",
    "error_prefix_kind": "string",
    "boilerplate_chars": "Int64",
    "boilerplate_frac": "Float64",
    "n_lines": "Int64",
    "n_lines_kept": "Int64",
    "clean_n_chars": "Int64",
}
REMOVED_COLUMNS = ["doc_id", "line_no", "text", "reason"]


def _accepted(pages: pd.DataFrame) -> pd.Series:
    return (pages["status"] == "accepted") & pages["raw_text"].notna()


def _sources(pages: pd.DataFrame) -> pd.Series:
    """Each page's source as a str, or None (object dtype: pandas' str dtype would turn None into NaN)."""
    values = pages["source"].tolist() if "source" in pages.columns else [None] * len(pages)
    return pd.Series(
        [v if isinstance(v, str) and v else None for v in values], index=pages.index, dtype=object
    )


def _keep_by_model(
    pages: list[PageLines], line_model: LineModel | None, params: BoilerplateParams
) -> np.ndarray:
    if line_model is None:
        return np.array(
            [len(t.split()) >= params.fallback_min_words for p in pages for t in p.texts], dtype=bool
        )
    kept = line_model.keep_lines_batch(pages)
    return np.concatenate(kept) if kept else np.zeros(0, dtype=bool)


def http_error_kind(status) -> str | None:
    """``http_<code>`` for a 4xx/5xx HTTP status, else None (no status, or a success)."""
    if status is None or status is pd.NA or (isinstance(status, float) and status != status):
        return None
    code = int(status)
    return f"http_{code}" if 400 <= code < 600 else None


def clean_pages(
    doc_ids: list[str],
    sources: list[str | None],
    texts: list[str | None],
    templates: TemplateIndex,
    params: BoilerplateParams,
    line_model: LineModel | None,
    http_status: list | None = None,
) -> tuple[dict[str, list], pd.DataFrame]:
    """Clean a batch of pages: the per-page output columns and the removed lines.

    Each page's result depends on that page and the template index only, so batches (or
    partitions on a cluster) of any size give the same rows. ``http_status`` (one per page, or
    None) makes a 4xx/5xx response an error page whatever its text.
    """
    pages = [split_lines(t) for t in texts]
    sizes = np.array([len(p.texts) for p in pages], dtype=np.int64)
    lines = [t for p in pages for t in p.texts]
    n_all = len(lines)
    lower = pc.utf8_lower(pa.array(lines, type=pa.large_string()))
    n_words = pc.list_value_length(pc.utf8_split_whitespace(lower)).to_numpy(zero_copy_only=False)
    n_words = n_words.astype(np.int64) if n_all else np.zeros(0, dtype=np.int64)
    kinds = error_kinds_batch(lower, n_words, params.error_line_max_words)
    fillers = fillers_batch(lower)
    furniture = furniture_batch(lower, n_words, params.pattern_max_words)
    hashes = line_hashes(normalize_lines(lines)) if n_all else np.zeros(0, dtype=np.int64)
    keep_model = _keep_by_model(pages, line_model, params)
    chars = np.fromiter((len(t) for t in lines), np.int64, n_all)
    # reasons, in order of precedence: error_page > site_template > pattern > line_model
    reason = np.full(n_all, None, dtype=object)
    cols: dict[str, list] = defaultdict(list)
    gone_mask = np.zeros(n_all, dtype=bool)
    starts = np.cumsum(sizes) - sizes
    for k, (source, page) in enumerate(zip(sources, pages, strict=True)):
        lo, n = int(starts[k]), int(sizes[k])
        hi = lo + n
        status_kind = http_error_kind(http_status[k]) if http_status is not None else None
        if n == 0:
            row = ("", "empty_input", True, status_kind or "empty_shell", 0, None, 0, 0.0, 0, 0, 0)
            for name, value in zip(OUT_DTYPES, row, strict=True):
                cols[name].append(value)
            continue
        scan = scan_errors_flags(list(kinds[lo:hi]), fillers[lo:hi], params.error_scan_lines)
        r = reason[lo:hi]
        r[templates.flags(source, hashes[lo:hi])] = "site_template"
        r[(r == None) & furniture[lo:hi]] = "pattern"  # noqa: E711 (elementwise on an object array)
        r[(r == None) & ~keep_model[lo:hi]] = "line_model"  # noqa: E711
        r[: scan.prefix_end] = "error_page"
        kept = r == None  # noqa: E711
        content_words = int(n_words[lo:hi][kept].sum())
        total_words = int(n_words[lo:hi].sum())
        status, is_error, kind = "ok", False, None
        if scan.first_kind and content_words < params.error_page_max_content_words:
            status, is_error, kind = "error_page", True, scan.first_kind
        elif content_words == 0 and total_words < params.empty_shell_max_words:
            status, is_error, kind = "error_page", True, "empty_shell"
        elif content_words == 0:
            status = "all_boilerplate"
        if status_kind is not None:  # the server said so: an error page whatever the body says
            status, is_error, kind = "error_page", True, status_kind
        if is_error:
            # The whole page is an error: every line goes, its reason says so (the flag, not an
            # empty string, is what downstream stages must look at).
            r[:] = "error_page"
            kept[:] = False
        page_chars = chars[lo:hi]
        total_chars = int(page_chars.sum())
        removed_chars = int(page_chars[~kept].sum())
        prefix_chars = int(page_chars[: scan.prefix_end].sum()) if not is_error else 0
        clean = "\n".join(t for t, keep in zip(page.texts, kept, strict=True) if keep)
        row = (
            clean,
            status,
            is_error,
            kind,
            prefix_chars,
            scan.prefix_kind if prefix_chars else None,
            removed_chars,
            round(removed_chars / total_chars, 6) if total_chars else 0.0,
            n,
            int(kept.sum()),
            len(clean),
        )
        for name, value in zip(OUT_DTYPES, row, strict=True):
            cols[name].append(value)
        gone_mask[lo:hi] = ~kept
    gone = np.flatnonzero(gone_mask)
    line_no = np.concatenate([np.asarray(p.line_no, dtype=np.int64) for p in pages]) if n_all else gone
    page_of_line = np.repeat(np.arange(len(pages)), sizes)
    removed = pd.DataFrame(
        {
            "doc_id": pd.Series(np.asarray(doc_ids, dtype=object)[page_of_line[gone]], dtype=object),
            "line_no": line_no[gone],
            "text": pd.Series([lines[i] for i in gone], dtype=object),
            "reason": reason[gone],
        }
    )
    removed["reason"] = pd.Categorical(removed["reason"], categories=list(REASONS))
    return cols, removed


def annotate_batch(
    pages: pd.DataFrame, templates: TemplateIndex, params: BoilerplateParams, line_model: LineModel | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The boilerplate columns added to one batch of the pages table, and its removed lines."""
    missing = {"doc_id", "raw_text", "status"} - set(pages.columns)
    if missing:
        raise NewsauditError(f"pages table: missing column(s) {sorted(missing)}")
    out = pages.copy()
    acc = _accepted(out)
    cols, removed = clean_pages(
        out.loc[acc, "doc_id"].astype(str).tolist(),
        _sources(out)[acc].tolist(),
        out.loc[acc, "raw_text"].tolist(),
        templates,
        params,
        line_model,
        out.loc[acc, "http_status"].tolist() if "http_status" in out.columns else None,
    )
    for name, dtype in OUT_DTYPES.items():
        col = pd.Series(pd.NA, index=out.index, dtype=dtype)
        if acc.any():
            col.loc[acc] = pd.Series(cols[name], index=out.index[acc]).astype(dtype)
        out[name] = col
    return out, removed


# --------------------------------------------------------------------------------------------
# CLI
