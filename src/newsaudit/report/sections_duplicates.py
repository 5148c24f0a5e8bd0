"""Report sections on duplicates: across the corpus (``duplicates``, ``bench-duplicates``) and
across the splits of the labelled data (``leakage``)."""

from __future__ import annotations

import pandas as pd

from newsaudit.report import figures as figs
from newsaudit.report.facts import clusters
from newsaudit.report.findings import num
from newsaudit.report.html import clip, esc, fmt, folded, note, table
from newsaudit.report.part import (
    EXAMPLE_CLUSTERS,
    EXAMPLE_PAIRS,
    TEXT_PREVIEW,
    Part,
    View,
    curve,
    figure,
    figure_row,
    missing,
)

# ---------------------------------------------------------------- duplicates


def duplicates(view: View) -> Part:
    title = "Duplicates"
    s, f = view.summary, view.facts
    found: dict[str, str] = {}
    if s is None or not view.ran("duplicates"):
        bench_html, bench_figure = _benchmark(view, found)
        html = missing(view.data, "duplicates") + bench_html
        return Part("duplicates", title, html + (figure_row(bench_figure) if bench_figure else ""), found)
    frame = f.frame
    top = clusters(f, EXAMPLE_CLUSTERS)
    html = note(
        f"{num(s.clustered)} pages compared; {num(s.dup_pages + s.dup_clusters)} fall in "
        f"{num(s.dup_clusters)} clusters of near or exact copies; {num(s.repeated_pages)} pages "
        "repeated one of their own paragraphs (removed before the comparison)."
    )
    items = []
    if len(top):
        sims = [
            frame.loc[(frame["cluster"] == c) & frame["dup"], "sim"].dropna().tolist() for c in top["cluster"]
        ]
        groups = [
            f"{r['size']} pages, {r['sources']} source{'s' if r['sources'] != 1 else ''}"
            for _, r in top.iterrows()
        ]
        found["largest_clusters"] = figs.strips(
            groups, sims, "Largest clusters: each copy's similarity", "similarity to the cluster's first page"
        )
        items.append(
            (found["largest_clusters"], "One row per cluster, one dot per copy (1 = identical text).")
        )
    sizes = frame.loc[frame["clustered"]].groupby("cluster").size().value_counts().sort_index()
    found["cluster_sizes"] = figs.bars(
        [str(k) for k in sizes.index],
        list(sizes.to_numpy()),
        "Clusters by size",
        "clusters",
        horizontal=False,
    )
    bench_html, bench_figure = _benchmark(view, found)
    if bench_figure:
        items.append(bench_figure)
    else:
        items.append((found["cluster_sizes"], "How many clusters have each size (1: a page with no copy)."))
    html += figure_row(*items)
    if len(top):
        rows = [
            [r["size"], r["sources"], r["top_sources"], r["min_sim"], r["cluster"]] for _, r in top.iterrows()
        ]
        html += table(["pages", "sources", "sources with most copies", "lowest similarity", "cluster"], rows)
        html += folded(
            "The largest cluster, its first page beside its least similar copy", _pair(view, top.iloc[0])
        )
    if bench_figure:
        html += folded(
            "Clusters by size", figure(found["cluster_sizes"], "How many clusters have each size.")
        )
    return Part("duplicates", title, html + bench_html, found)


def _benchmark(view: View, found: dict[str, str]) -> tuple[str, tuple[str, str] | None]:
    """The syndication benchmark: a sentence, its tables folded, and the recall figure."""
    if not view.data.pipeline:
        return "", None
    methods = view.data.table("bench_duplicates", "methods")
    recall = curve(
        view.data.plots,
        ("recall_vs_edit_rate", "edit_rate_recall", "recall_by_edit_rate"),
        ("edit_rate",),
        ("recall", "pair_recall"),
    )
    item = None
    if recall:
        found["recall_vs_edit_rate"] = figs.lines(
            recall, "Recall as edit rate grows", "edit rate", "recall", unit_square=False
        )
        item = (
            found["recall_vs_edit_rate"],
            "Benchmark: share of true copy pairs found as copies get more edits.",
        )
    if methods is None or "method" not in methods:
        return missing(view.data, "bench_duplicates"), item
    test = methods[methods["split"] == "test"] if "split" in methods else methods
    ours = test[test["method"] == "ours"]
    line = "Syndication benchmark (generated copies with known origin, test split)"
    if len(ours) and {"ari", "pair_precision", "pair_recall"} <= set(ours.columns):
        o = ours.iloc[0]
        line += (
            f": ARI {o['ari']:.3f}, pair precision {o['pair_precision']:.3f}, recall {o['pair_recall']:.3f}"
        )
        others = test[test["method"] != "ours"]
        line += "".join(f"; {r['method']} ARI {r['ari']:.3f}" for _, r in others.iterrows())
    cols = list(methods.columns)
    return note(line + ".") + folded(
        "Benchmark scores", table(cols, list(methods.itertuples(index=False)))
    ), item


def _pair(view: View, cluster: pd.Series) -> str:
    f = view.facts.frame
    members = f[f["cluster"] == cluster["cluster"]]
    rep = members[~members["dup"]].sort_values("doc_id").head(1)
    copy = members[members["dup"]].sort_values(["sim", "doc_id"]).head(1)
    ids = [*rep["doc_id"], *copy["doc_id"]]
    texts = view.data.pages.read(["doc_id", "clean_text"], doc_ids=ids).set_index("doc_id")

    def side(row: pd.Series, role: str) -> str:
        text = texts["clean_text"].get(row["doc_id"]) if "clean_text" in texts else None
        facts = [f"{role}: {row['doc_id']}", f"source: {row['source']}"]
        if role == "copy":
            facts.append(f"similarity: {fmt(row['sim'])}")
        return (
            f'<div><div class="meta">{"<br>".join(esc(x) for x in facts)}</div>'
            f'<div class="text">{esc(clip(text, TEXT_PREVIEW))}</div></div>'
        )

    sides = "".join(
        side(r, role) for role, part in (("first page", rep), ("copy", copy)) for _, r in part.iterrows()
    )
    return f'<div class="pair">{sides}</div>'


# ---------------------------------------------------------------- leakage


def leakage(view: View) -> Part | None:
    """Duplicates across the splits of the labelled data, in one sentence; the counts folded."""
    title = "Leakage audit of the labelled data"
    datasets = view.data.table("leakage", "datasets")
    if datasets is None:
        return Part("leakage", title, missing(view.data, "leakage"))
    total = view.metric("leakage", "train_texts_in_dev_or_test")
    line = "Training texts found again in the dev or test split of the same dataset"
    line += f": {num(total)} over {len(datasets)} datasets" if total is not None else ""
    html = note(line + "; the labels stage moves such duplicates to one side before training.")
    body = table(list(datasets.columns), list(datasets.itertuples(index=False)))
    examples = view.data.table("leakage", "examples")
    if examples is not None and len(examples):
        body += "".join(_text_pair(r) for _, r in examples.head(EXAMPLE_PAIRS).iterrows())
    html += folded("Every count per dataset, and example pairs", body)
    return Part("leakage", title, html)


def _text_pair(example: pd.Series) -> str:
    facts = [f"{k}: {fmt(v)}" for k, v in example.items() if k not in ("text_a", "text_b") and pd.notna(v)]
    sides = "".join(
        f'<div><div class="meta">{esc(example.get(side, side))}</div>'
        f'<div class="text">{esc(clip(example.get(key), TEXT_PREVIEW))}</div></div>'
        for side, key in (("a", "text_a"), ("b", "text_b"))
    )
    return f'<p class="meta">{esc("; ".join(facts))}</p><div class="pair">{sides}</div>'
