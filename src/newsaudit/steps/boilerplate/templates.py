"""Site templates: lines that recur on many pages of a source (or of the whole corpus).

Counted per batch (:func:`template_line_counts`), merged across batches or partitions
(:func:`merge_template_counts`), then turned into a small index of template line hashes per scope
(:func:`build_template_index`). Lines are keyed by a 64-bit hash of their normalised form, so the
corpus-wide table holds numbers, not text.
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


def template_line_counts(
    sources: list[str | None], pages: list[PageLines], params: BoilerplateParams
) -> pd.DataFrame:
    """For one batch of accepted pages: on how many pages each (source, normalised line) occurs.

    Lines are keyed by a 64-bit hash of their normalised form, so the corpus-wide table holds
    numbers, not text. ``long_plain``: the line is longer than ``template_max_words`` and has no
    furniture keyword (a function of the line, so any page's copy gives the same value).
    """
    sizes = [len(p.texts) for p in pages]
    norms = normalize_lines([t for p in pages for t in p.texts])
    if not norms:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(COUNT_COLUMNS, COUNT_DTYPES, strict=True)})
    arr = pa.array(norms, type=pa.large_string())
    n_words = pc.list_value_length(pc.utf8_split_whitespace(arr)).to_numpy(zero_copy_only=False)
    frame = pd.DataFrame(
        {
            "page": np.repeat(np.arange(len(pages)), sizes),
            "source": np.repeat(np.array([s or "" for s in sources], dtype=object), sizes),
            "line_hash": line_hashes(norms),
            "long_plain": (n_words > params.template_max_words) & ~_furniture_words(arr),
        }
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
        kept = self.lines.get(self.scope(source), {})
        return np.fromiter((int(h) in kept for h in line_hashes), bool, len(line_hashes))


def build_template_index(
    counts: pd.DataFrame, source_pages: dict[str, int], params: BoilerplateParams
) -> TemplateIndex:
    """Template lines from the corpus-wide counts (:func:`merge_template_counts`) and the number of
    accepted pages per source ('' = no source)."""
    scope_of_source = {
        src: f"source:{src}" if src and n >= params.template_source_min_pages else "*"
        for src, n in source_pages.items()
    }
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
