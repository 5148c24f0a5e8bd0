"""Site templates: lines that recur on many pages of a source (or of the whole corpus).

Counted per batch, merged across batches or partitions, then turned into a small index of template
line hashes per scope. Lines are keyed by a 64-bit hash of their normalised form and sources by a
64-bit hash of their name, so the corpus-wide table holds numbers, not text: the step counts into
:class:`~newsaudit.lib.spill.KeyCounts` (:func:`template_key_counts`, :func:`index_from_key_counts`:
sorted arrays spilled to disk past a budget, so memory does not grow with the corpus). The pandas
functions :func:`template_line_counts`, :func:`merge_template_counts` and
:func:`build_template_index` are the readable reference they are tested against.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.spill import MAX_ROWS, KeyCounts
from newsaudit.steps.boilerplate.lines import KEYWORD_GROUPS, PageLines, normalize_lines

if TYPE_CHECKING:
    from newsaudit.steps.boilerplate.params import BoilerplateParams

# Only groups whose words rarely occur in news prose ("next", "share", "comment" do).
_TEMPLATE_KEYWORDS = ("copyright", "cookie", "account", "advert")


COUNT_COLUMNS = ["source", "line_hash", "pages", "long_plain"]
COUNT_DTYPES = ["object", "int64", "int64", "bool"]


def line_hashes(norms: list[str]) -> np.ndarray:
    """64-bit hashes as int64: pandas groups uint64 keys beside another key through float64 (lossy)."""
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(n.encode("utf-8")) for n in norms), np.uint64, len(norms))
    return hashes.view(np.int64)


def _furniture_words(norms: pa.Array) -> np.ndarray:
    """Whether each normalised line contains a furniture keyword (copyright, cookie, account, advert)."""
    pattern = "|".join(f"(?:{KEYWORD_GROUPS[g]})" for g in _TEMPLATE_KEYWORDS)
    return pc.match_substring_regex(norms, pattern).to_numpy(zero_copy_only=False)


def source_codes(sources: list[str | None]) -> np.ndarray:
    """A 64-bit code per source name ('' for none): the same on every machine, no dictionary to share."""
    return line_hashes([s or "" for s in sources])


def _page_lines(
    sources: list[str | None], pages: list[PageLines], params: BoilerplateParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Page number, source, line hash and long_plain of every line of the batch."""
    sizes = [len(p.texts) for p in pages]
    norms = normalize_lines([t for p in pages for t in p.texts])
    if not norms:
        empty = np.empty(0, np.int64)
        return empty, np.empty(0, object), empty, np.empty(0, bool)
    arr = pa.array(norms, type=pa.large_string())
    n_words = pc.list_value_length(pc.utf8_split_whitespace(arr)).to_numpy(zero_copy_only=False)
    return (
        np.repeat(np.arange(len(pages)), sizes),
        np.repeat(np.array([s or "" for s in sources], dtype=object), sizes),
        line_hashes(norms),
        (n_words > params.template_max_words) & ~_furniture_words(arr),
    )


def template_key_counts(
    sources: list[str | None], pages: list[PageLines], params: BoilerplateParams, max_rows: int = MAX_ROWS
) -> KeyCounts:
    """:func:`template_line_counts` as :class:`KeyCounts`: key (source code, line hash), pages,
    flag long_plain."""
    page, _, hashes, long_plain = _page_lines(sources, pages, params)
    codes = source_codes(sources)
    # each line once per page
    order = np.lexsort((hashes, page))
    first = np.ones(order.size, dtype=bool)
    first[1:] = (page[order][1:] != page[order][:-1]) | (hashes[order][1:] != hashes[order][:-1])
    keep = order[first]
    return KeyCounts.of(codes[page[keep]], hashes[keep], flag=long_plain[keep], max_rows=max_rows)


def index_from_key_counts(
    counts: KeyCounts, source_pages: dict[str, int], params: BoilerplateParams
) -> TemplateIndex:
    """:func:`build_template_index` from :class:`KeyCounts` (one hash bucket in memory at a time)."""
    scope_of_source = _scopes(source_pages, params)
    scope_pages: Counter = Counter()
    for src, n in source_pages.items():
        scope_pages[scope_of_source[src]] += n
    names = sorted(set(scope_of_source.values()) | {"*"})
    sid = {name: i for i, name in enumerate(names)}
    star = sid["*"]
    sources = list(source_pages)
    codes = source_codes(sources)
    if len(set(codes.tolist())) < len(codes):
        raise NewsauditError("boilerplate: two source names share a 64-bit hash code; rename one source")
    order = np.argsort(codes)
    code_sorted = codes[order]
    scope_sorted = np.array([sid[scope_of_source[sources[i]]] for i in order], dtype=np.int64)
    min_pages = np.array(
        [max(params.template_min_pages, params.template_min_page_frac * scope_pages[n]) for n in names]
    )
    seen = np.zeros(len(names), dtype=bool)
    kept_scope, kept_hash, kept_pages = [], [], []
    for rows in counts.buckets():
        if not rows.size:
            continue
        at = np.minimum(np.searchsorted(code_sorted, rows["hi"]), max(len(code_sorted) - 1, 0))
        known = code_sorted[at] == rows["hi"] if len(code_sorted) else np.zeros(rows.size, bool)
        scope = np.where(known, scope_sorted[at] if len(code_sorted) else star, star)
        o = np.lexsort((scope, rows["lo"]))
        sc, lo, cnt, flag = scope[o], rows["lo"][o], rows["count"][o], rows["flag"][o]
        new = np.ones(o.size, dtype=bool)
        new[1:] = (lo[1:] != lo[:-1]) | (sc[1:] != sc[:-1])
        starts = np.flatnonzero(new)
        sc, lo = sc[starts], lo[starts]
        cnt, flag = np.add.reduceat(cnt, starts), np.logical_or.reduceat(flag, starts)
        seen[np.unique(sc)] = True
        # see build_template_index: long plain lines are templates only within one site
        keep = (cnt >= min_pages[sc]) & ~((sc == star) & flag)
        kept_scope.append(sc[keep])
        kept_hash.append(lo[keep])
        kept_pages.append(cnt[keep])
    lines: dict[str, dict[int, int]] = {names[i]: {} for i in np.flatnonzero(seen)}
    if kept_scope:
        sc, lo, cnt = (np.concatenate(x) for x in (kept_scope, kept_hash, kept_pages))
        o = np.lexsort((lo, sc))
        for i in np.unique(sc):
            sel = o[sc[o] == i]
            lines[names[i]] = dict(zip(lo[sel].tolist(), cnt[sel].tolist(), strict=True))
    return TemplateIndex(scope_of_source, lines)


def _scopes(source_pages: dict[str, int], params: BoilerplateParams) -> dict[str, str]:
    return {
        src: f"source:{src}" if src and n >= params.template_source_min_pages else "*"
        for src, n in source_pages.items()
    }


def template_line_counts(
    sources: list[str | None], pages: list[PageLines], params: BoilerplateParams
) -> pd.DataFrame:
    """For one batch of accepted pages: on how many pages each (source, normalised line) occurs.

    Lines are keyed by a 64-bit hash of their normalised form, so the corpus-wide table holds
    numbers, not text. ``long_plain``: the line is longer than ``template_max_words`` and has no
    furniture keyword (a function of the line, so any page's copy gives the same value).
    """
    page, source, hashes, long_plain = _page_lines(sources, pages, params)
    if not page.size:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(COUNT_COLUMNS, COUNT_DTYPES, strict=True)})
    frame = pd.DataFrame(
        {"page": page, "source": source, "line_hash": hashes, "long_plain": long_plain}
    ).drop_duplicates(["page", "line_hash"])
    return merge_template_counts([frame.assign(pages=1)])


def merge_template_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Sum partial counts (of batches, or of partitions on a cluster) into one table."""
    frame = pd.concat([p[COUNT_COLUMNS] for p in parts], ignore_index=True)
    out = frame.groupby(["source", "line_hash"], sort=True).agg(
        pages=("pages", "sum"), long_plain=("long_plain", "first")
    )
    return out.reset_index()[COUNT_COLUMNS]


@dataclass(frozen=True)
class TemplateIndex:
    """Template line hashes per scope ('source:<name>' or '*'), with their page counts."""

    scope_of_source: dict[str, str]  # '' = pages without a source
    lines: dict[str, dict[int, int]]  # scope -> line hash -> n pages

    def scope(self, source: str | None) -> str:
        return self.scope_of_source.get(source or "", "*")

    def flags(self, source: str | None, line_hashes: np.ndarray) -> np.ndarray:
        kept = self._sorted.get(self.scope(source))
        if kept is None or not kept.size:
            return np.zeros(len(line_hashes), dtype=bool)
        return np.isin(np.asarray(line_hashes, dtype=np.int64), kept, assume_unique=False)

    @property
    def _sorted(self) -> dict[str, np.ndarray]:
        """Each scope's template hashes as a sorted array (built once, for vectorised lookups)."""
        cached = self.__dict__.get("_sorted_cache")
        if cached is None:
            cached = {k: np.sort(np.fromiter(v, np.int64, len(v))) for k, v in self.lines.items()}
            object.__setattr__(self, "_sorted_cache", cached)
        return cached


def build_template_index(
    counts: pd.DataFrame, source_pages: dict[str, int], params: BoilerplateParams
) -> TemplateIndex:
    """Template lines from the corpus-wide counts (:func:`merge_template_counts`) and the number of
    accepted pages per source ('' = no source)."""
    scope_of_source = _scopes(source_pages, params)
    scope_pages: Counter = Counter()
    for src, n in source_pages.items():
        scope_pages[scope_of_source[src]] += n
    scoped = counts.assign(scope=counts["source"].map(scope_of_source).fillna("*"))
    scoped = scoped.groupby(["scope", "line_hash"], sort=True).agg(
        pages=("pages", "sum"), long_plain=("long_plain", "first")
    )
    lines: dict[str, dict[int, int]] = {}
    for scope, grp in scoped.groupby(level="scope", sort=True):
        min_pages = max(params.template_min_pages, params.template_min_page_frac * scope_pages[scope])
        keep = grp["pages"] >= min_pages
        # Within one site a repeated long line is the site's own (a disclaimer): syndication of one
        # article to the same site twice is a duplicate, handled elsewhere. Across the corpus a long
        # repeated line may be a syndicated article paragraph: keep it unless it reads like furniture.
        if scope == "*":
            keep &= ~grp["long_plain"].astype(bool)
        kept = grp[keep]
        lines[str(scope)] = dict(
            zip(
                kept.index.get_level_values("line_hash").tolist(),
                kept["pages"].tolist(),
                strict=True,
            )
        )
    return TemplateIndex(scope_of_source, lines)


def source_page_counts(sources: pd.Series) -> dict[str, int]:
    """Accepted pages per source ('' = no source)."""
    return dict(sorted(Counter(s if isinstance(s, str) else "" for s in sources).items()))
