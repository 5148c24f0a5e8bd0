"""Boilerplate and error pages: clean article text out of plain-text page dumps.

Reads the pages table (one row per scraped page, ``raw_text`` = the page's full visible text) and
adds ``clean_text`` plus a traceable record of every removed line. Four signals, in this order
of precedence for the reason recorded:

1. ``error_page``: an error / blocked / empty-shell page, or an error block glued before real
   content (``boilerplate_errors``);
2. ``site_template``: lines (case-, digit- and space-folded) that recur on many pages of the same
   source, or of the whole corpus for pages without a (large enough) source;
3. ``pattern``: short page-furniture lines (comment widgets, disclaimers, share bars...);
4. ``line_model``: a classifier over per-line features trained on gold-aligned pages
   (``boilerplate_linemodel``), for everything the first three do not decide.

Rejected rows of the pages table pass through untouched (``clean_text`` null).
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from newsaudit.boilerplate_errors import is_furniture, scan_errors
from newsaudit.boilerplate_linemodel import LineModel, load_line_model
from newsaudit.boilerplate_lines import KEYWORD_GROUPS, PageLines, normalize_line, split_lines
from newsaudit.config import Section, load_params, section
from newsaudit.errors import NewsauditError
from newsaudit.io import write_json

log = logging.getLogger(__name__)

REASONS = ("error_page", "site_template", "pattern", "line_model")
# Only groups whose words rarely occur in news prose ("next", "share", "comment" do).
_TEMPLATE_KEYWORDS = ("copyright", "cookie", "account", "advert")


class BoilerplateParams(Section):
    """``boilerplate`` section of params.yaml."""

    line_model: str = "models/line_model.skops"
    # Site templates: a normalised line is a template of a scope (a source with at least
    # template_source_min_pages pages, else the corpus-wide pool of remaining pages) when it is on at
    # least template_min_pages pages and on at least template_min_page_frac of the scope's pages.
    template_source_min_pages: int = 20
    template_min_pages: int = 5
    template_min_page_frac: float = 0.05
    # Corpus-wide templates longer than this are only removed when they look like furniture
    # (keywords of copyright, cookies, sharing...): a syndicated article paragraph carried by many
    # outlets is long prose and is left to the line model.
    template_max_words: int = 12
    # Error pages: error lines are short; an error block must start within the first lines.
    error_line_max_words: int = 25
    error_scan_lines: int = 12
    # A page with an error line and fewer content words than this left is an error page.
    error_page_max_content_words: int = 60
    # A page with fewer words than this and no kept content is an empty shell.
    empty_shell_max_words: int = 40
    pattern_max_words: int = 60
    # Without a trained line model, keep lines with at least this many words (baseline rule).
    fallback_min_words: int = 15
    top_lines: int = 25


class BoilerplateBenchParams(Section):
    """``boilerplate_bench`` section: the scrapinghub / trafilatura-eval benchmark."""

    n_bootstrap: int = 1000
    seed: int = 0
    baseline_min_words: int = 15
    html_mode: str = "trafilatura"


# --------------------------------------------------------------------------------------------
# Site templates


@dataclass(frozen=True)
class TemplateIndex:
    """Template lines per scope ('source:<name>' or '*'), with their page counts."""

    scope_of_doc: dict[str, str]
    lines: dict[str, dict[str, int]]  # scope -> normalised line -> n pages

    def is_template(self, doc_id: str, norm: str) -> bool:
        return norm in self.lines.get(self.scope_of_doc.get(doc_id, "*"), {})


def _looks_like_furniture(text: str) -> bool:
    import re

    low = text.lower()
    return any(re.search(KEYWORD_GROUPS[g], low) for g in _TEMPLATE_KEYWORDS)


def build_template_index(
    docs: list[tuple[str, str | None, PageLines]], params: BoilerplateParams
) -> TemplateIndex:
    """Find template lines from (doc_id, source, lines) of all accepted pages."""
    per_source = Counter(src for _, src, _ in docs if src)
    scope_of_doc = {
        doc_id: f"source:{src}" if src and per_source[src] >= params.template_source_min_pages else "*"
        for doc_id, src, _ in docs
    }
    scope_pages: Counter = Counter(scope_of_doc.values())
    df: dict[str, Counter] = defaultdict(Counter)
    example: dict[str, str] = {}
    for doc_id, _, page in docs:
        scope = scope_of_doc[doc_id]
        norms = {normalize_line(t): t for t in page.texts}
        df[scope].update(norms.keys())
        for norm, text in norms.items():
            example.setdefault(norm, text)
    lines: dict[str, dict[str, int]] = {}
    for scope in sorted(df):
        min_pages = max(params.template_min_pages, params.template_min_page_frac * scope_pages[scope])
        kept = {}
        for norm, n in df[scope].items():
            if n < min_pages:
                continue
            long_line = len(norm.split()) > params.template_max_words
            # Within one site a repeated long line is the site's own (a disclaimer): syndication
            # of one article to the same site twice is a duplicate, handled elsewhere. Across the
            # corpus a long repeated line may be a syndicated article paragraph: keep it unless it
            # reads like furniture.
            if scope == "*" and long_line and not _looks_like_furniture(example[norm]):
                continue
            kept[norm] = n
        lines[scope] = kept
    return TemplateIndex(scope_of_doc, lines)


# --------------------------------------------------------------------------------------------
# One page


@dataclass
class PageResult:
    clean_text: str
    status: str  # ok | error_page | empty_input | all_boilerplate
    is_error_page: bool
    error_kind: str | None
    error_prefix_chars: int
    error_prefix_kind: str | None
    total_chars: int
    boilerplate_chars: int
    n_lines: int
    n_kept: int
    removed: list[tuple[int, str, str]]  # (line_no, text, reason)


def _line_model_keep(page: PageLines, line_model: LineModel | None, params: BoilerplateParams) -> np.ndarray:
    if line_model is None:
        return np.array([len(t.split()) >= params.fallback_min_words for t in page.texts], dtype=bool)
    return line_model.keep_lines(page)


def clean_page(
    doc_id: str,
    text: str | None,
    templates: TemplateIndex,
    params: BoilerplateParams,
    line_model: LineModel | None,
) -> PageResult:
    page = split_lines(text)
    n = len(page.texts)
    total_chars = sum(len(t) for t in page.texts)
    if n == 0:
        return PageResult("", "empty_input", True, "empty_shell", 0, None, 0, 0, 0, 0, [])
    reasons: list[str | None] = [None] * n
    scan = scan_errors(page.texts, params.error_scan_lines, params.error_line_max_words)
    for i in range(scan.prefix_end):
        reasons[i] = "error_page"
    for i, t in enumerate(page.texts):
        if reasons[i] is None and templates.is_template(doc_id, normalize_line(t)):
            reasons[i] = "site_template"
    for i, t in enumerate(page.texts):
        if reasons[i] is None and is_furniture(t, params.pattern_max_words):
            reasons[i] = "pattern"
    keep = _line_model_keep(page, line_model, params)
    for i in range(n):
        if reasons[i] is None and not keep[i]:
            reasons[i] = "line_model"
    content_words = sum(len(page.texts[i].split()) for i in range(n) if reasons[i] is None)
    total_words = sum(len(t.split()) for t in page.texts)
    status, is_error, kind = "ok", False, None
    if scan.first_kind and content_words < params.error_page_max_content_words:
        status, is_error, kind = "error_page", True, scan.first_kind
    elif content_words == 0 and total_words < params.empty_shell_max_words:
        status, is_error, kind = "error_page", True, "empty_shell"
    elif content_words == 0:
        status = "all_boilerplate"
    if is_error:
        # The whole page is an error: every line goes, its reason says so (the flag, not an empty
        # string, is what downstream stages must look at).
        reasons = ["error_page"] * n
    prefix_chars = sum(len(page.texts[i]) for i in range(scan.prefix_end)) if not is_error else 0
    removed = [(page.line_no[i], page.texts[i], r) for i, r in enumerate(reasons) if r is not None]
    kept = [page.texts[i] for i in range(n) if reasons[i] is None]
    return PageResult(
        clean_text="\n".join(kept),
        status=status,
        is_error_page=is_error,
        error_kind=kind,
        error_prefix_chars=prefix_chars,
        error_prefix_kind=scan.prefix_kind if prefix_chars else None,
        total_chars=total_chars,
        boilerplate_chars=sum(len(t) for _, t, _ in removed),
        n_lines=n,
        n_kept=len(kept),
        removed=removed,
    )


# --------------------------------------------------------------------------------------------
# The pages table


def _accepted(pages: pd.DataFrame) -> pd.Series:
    return (pages["status"] == "accepted") & pages["raw_text"].notna()


def annotate_boilerplate(
    pages: pd.DataFrame, params: BoilerplateParams, line_model: LineModel | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add clean text and boilerplate/error columns to the pages table; list every removed line.

    Pure: the input frame is not modified. Rejected rows keep all their values and get null
    clean_text / flags. ``line_model=None`` uses the fallback rule (lines of
    ``fallback_min_words`` words or more), for tests and for running without a trained model.
    """
    missing = {"doc_id", "raw_text", "status"} - set(pages.columns)
    if missing:
        raise NewsauditError(f"pages table: missing column(s) {sorted(missing)}")
    out = pages.copy()
    acc = _accepted(out)
    sources = out["source"] if "source" in out.columns else pd.Series([None] * len(out), index=out.index)
    docs = [
        (str(d), s if isinstance(s, str) and s else None, split_lines(t))
        for d, s, t in zip(out.loc[acc, "doc_id"], sources[acc], out.loc[acc, "raw_text"], strict=True)
    ]
    templates = build_template_index(docs, params)
    log.info("site templates: %s", {k: len(v) for k, v in templates.lines.items() if v})
    cols: dict[str, list] = defaultdict(list)
    removed_rows: list[tuple[str, int, str, str]] = []
    for doc_id, text in tqdm(
        zip(out.loc[acc, "doc_id"].astype(str), out.loc[acc, "raw_text"], strict=True),
        total=int(acc.sum()),
        desc="boilerplate",
        unit="page",
    ):
        r = clean_page(doc_id, text, templates, params, line_model)
        cols["clean_text"].append(r.clean_text)
        cols["clean_status"].append(r.status)
        cols["is_error_page"].append(r.is_error_page)
        cols["error_kind"].append(r.error_kind)
        cols["error_prefix_chars"].append(r.error_prefix_chars)
        cols["error_prefix_kind"].append(r.error_prefix_kind)
        cols["boilerplate_chars"].append(r.boilerplate_chars)
        cols["boilerplate_frac"].append(
            round(r.boilerplate_chars / r.total_chars, 6) if r.total_chars else 0.0
        )
        cols["n_lines"].append(r.n_lines)
        cols["n_lines_kept"].append(r.n_kept)
        cols["clean_n_chars"].append(len(r.clean_text))
        removed_rows.extend((doc_id, no, t, reason) for no, t, reason in r.removed)
    dtypes = {
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
    for name, dtype in dtypes.items():
        col = pd.Series(pd.NA, index=out.index, dtype=dtype)
        if acc.any():
            col.loc[acc] = pd.Series(cols[name], index=out.index[acc]).astype(dtype)
        out[name] = col
    removed = pd.DataFrame(removed_rows, columns=["doc_id", "line_no", "text", "reason"])
    removed = removed.sort_values(["doc_id", "line_no"], kind="stable").reset_index(drop=True)
    removed["reason"] = pd.Categorical(removed["reason"], categories=list(REASONS))
    return out, removed


# --------------------------------------------------------------------------------------------
# Corpus statistics


def _r(x: float) -> float:
    return round(float(x), 4)


def corpus_stats(pages: pd.DataFrame, removed: pd.DataFrame, params: BoilerplateParams) -> dict:
    acc = pages[pages["clean_status"].notna()]
    total = int(acc["boilerplate_chars"].sum() + acc["clean_n_chars"].sum()) if len(acc) else 0
    frac = acc["boilerplate_frac"].astype(float)
    chars_by_reason = removed.assign(n=removed["text"].str.len()).groupby("reason", observed=False)["n"].sum()
    stats: dict = {
        "n_pages": len(pages),
        "n_pages_cleaned": len(acc),
        "removed_char_share": _r(acc["boilerplate_chars"].sum() / total) if total else 0.0,
        "removed_frac_per_page": {
            q: _r(frac.quantile(v)) if len(frac) else 0.0
            for q, v in (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9))
        },
        "removed_chars_by_reason": {str(k): int(v) for k, v in chars_by_reason.items()},
        "removed_lines_by_reason": {
            str(k): int(v) for k, v in removed["reason"].value_counts().sort_index().items()
        },
        "status_counts": {str(k): int(v) for k, v in acc["clean_status"].value_counts().sort_index().items()},
        "error_pages_by_kind": {
            str(k): int(v)
            for k, v in acc.loc[acc["is_error_page"].fillna(False).astype(bool), "error_kind"]
            .value_counts()
            .sort_index()
            .items()
        },
        "error_prefixes_by_kind": {
            str(k): int(v)
            for k, v in acc.loc[acc["error_prefix_chars"] > 0, "error_prefix_kind"]
            .value_counts()
            .sort_index()
            .items()
        },
        "pages_empty_after_cleaning": int((acc["clean_n_chars"] == 0).sum()),
    }
    if "source" in acc.columns and acc["source"].notna().any():
        by_src = acc.groupby("source").agg(
            pages=("doc_id", "size"),
            removed=("boilerplate_chars", "sum"),
            kept=("clean_n_chars", "sum"),
        )
        by_src = by_src.sort_values(["pages", "removed"], ascending=False).head(params.top_lines)
        stats["by_source"] = {
            str(s): {"pages": int(r.pages), "removed_char_share": _r(r.removed / max(1, r.removed + r.kept))}
            for s, r in by_src.sort_index().iterrows()
        }
    if len(removed):
        src_of = dict(
            zip(pages["doc_id"].astype(str), pages.get("source", pd.Series(dtype=object)), strict=False)
        )
        tmp = removed[removed["reason"].isin(["site_template", "pattern"])].copy()
        tmp["norm"] = tmp["text"].map(normalize_line)
        tmp["src"] = tmp["doc_id"].map(src_of)
        agg = tmp.groupby("norm").agg(
            pages=("doc_id", "nunique"), sources=("src", "nunique"), reason=("reason", "first")
        )
        agg = agg.reset_index().sort_values(["pages", "norm"], ascending=[False, True]).head(params.top_lines)
        stats["top_boilerplate_lines"] = [
            {"line": r.norm[:120], "pages": int(r.pages), "sources": int(r.sources), "reason": str(r.reason)}
            for r in agg.itertuples()
        ]
    return stats


def write_plots(pages: pd.DataFrame, stats: dict, plots_dir: Path) -> None:
    """Plot data (CSV, for `dvc plots`) and PNG figures of the removed share."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    acc = pages[pages["clean_status"].notna()]
    bins = np.linspace(0, 1, 21)
    counts, _ = np.histogram(acc["boilerplate_frac"].astype(float), bins=bins)
    hist = pd.DataFrame({"removed_frac": np.round(bins[:-1], 2), "pages": counts})
    hist.to_csv(plots_dir / "removed_frac_hist.csv", index=False)
    by_src = pd.DataFrame(
        [{"source": s, **v} for s, v in stats.get("by_source", {}).items()],
        columns=["source", "pages", "removed_char_share"],
    )
    by_src.to_csv(plots_dir / "removed_by_source.csv", index=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(hist["removed_frac"], hist["pages"], width=0.05, align="edge")
    ax.set_xlabel("share of page characters removed")
    ax.set_ylabel("pages")
    fig.tight_layout()
    fig.savefig(plots_dir / "removed_frac_hist.png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    if len(by_src):
        fig, ax = plt.subplots(figsize=(6, max(2.5, 0.25 * len(by_src))))
        ax.barh(by_src["source"], by_src["removed_char_share"])
        ax.set_xlabel("share of characters removed")
        fig.tight_layout()
        fig.savefig(plots_dir / "removed_by_source.png", dpi=100, metadata={"Software": None})
        plt.close(fig)


# --------------------------------------------------------------------------------------------
# CLI


def run_boilerplate(args: argparse.Namespace) -> None:
    params = section(load_params(args.params), "boilerplate", BoilerplateParams)
    pages_path = Path(args.pages)
    if not pages_path.is_file():
        raise NewsauditError(f"{pages_path} does not exist (run `newsaudit ingest` first)")
    pages = pd.read_parquet(pages_path)
    model_path = Path(args.model or params.line_model)
    line_model = load_line_model(model_path)
    out, removed = annotate_boilerplate(pages, params, line_model)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_parquet(args.out, index=False)
    removed.to_parquet(args.removed, index=False)
    stats = corpus_stats(out, removed, params)
    write_json(stats, Path(args.metrics))
    write_plots(out, stats, Path(args.plots))
    log.info(
        "boilerplate: %d pages, %.1f%% of characters removed, %d error pages",
        stats["n_pages_cleaned"],
        100 * stats["removed_char_share"],
        sum(stats["error_pages_by_kind"].values()),
    )


def run_train(args: argparse.Namespace) -> None:
    from newsaudit.boilerplate_linemodel import LineModelParams, train_and_save

    params = section(load_params(args.params), "linemodel", LineModelParams)
    train_and_save(Path(args.external), params, Path(args.model), Path(args.card), Path(args.oof))


def run_bench(args: argparse.Namespace) -> None:
    from newsaudit.boilerplate_bench import run_benchmark

    all_params = load_params(args.params)
    bench = section(all_params, "boilerplate_bench", BoilerplateBenchParams)
    bp = section(all_params, "boilerplate", BoilerplateParams)
    run_benchmark(
        Path(args.external), Path(args.model or bp.line_model), Path(args.oof), Path(args.out), bench, bp
    )


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("boilerplate", help="clean article text, flag error pages, record removed lines")
    p.add_argument("--pages", default="data/interim/pages.parquet")
    p.add_argument("--out", default="data/interim/pages_clean.parquet")
    p.add_argument("--removed", default="data/interim/removed_lines.parquet")
    p.add_argument("--metrics", default="reports/metrics/boilerplate.json")
    p.add_argument("--plots", default="reports/plots/boilerplate")
    p.add_argument("--model", default=None, help="line model (default: boilerplate.line_model)")
    p.set_defaults(func=run_boilerplate)

    t = sub.add_parser("train-linemodel", help="train the boilerplate line model on gold-aligned pages")
    t.add_argument("--external", default="data/external")
    t.add_argument("--model", default="models/line_model.skops")
    t.add_argument("--card", default="models/line_model.json")
    t.add_argument(
        "--oof",
        default="data/interim/linemodel_oof.parquet",
        help="out-of-fold clean text of the training pages (for the benchmark)",
    )
    t.set_defaults(func=run_train)

    b = sub.add_parser(
        "bench-boilerplate", help="score cleaning on the scrapinghub and trafilatura-eval gold"
    )
    b.add_argument("--external", default="data/external")
    b.add_argument("--model", default=None)
    b.add_argument("--oof", default="data/interim/linemodel_oof.parquet")
    b.add_argument("--out", default="reports/metrics/boilerplate_benchmark.json")
    b.set_defaults(func=run_bench)
