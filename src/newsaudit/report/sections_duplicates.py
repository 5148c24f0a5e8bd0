"""Report sections on duplicates: across the corpus (``duplicates``, ``bench-duplicates``) and
across the splits of the labelled data (``leakage``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from newsaudit.core import paths
from newsaudit.report import figures as figs
from newsaudit.report.data import ReportData
from newsaudit.report.html import clip, esc, fmt, heading, json_tables, note, table
from newsaudit.report.part import EXAMPLE_CLUSTERS, EXAMPLE_PAIRS, TEXT_PREVIEW, Part, curve, figure, missing

# ---------------------------------------------------------------- duplicates


def duplicates(data: ReportData) -> Part:
    title = "Duplicates"
    metrics = data.metrics.get("duplicates")
    dedup = data.dedup
    have_pages = dedup is not None and dedup.has("doc_id", "near_dup_cluster")
    html, found, facts = "", {}, []
    if metrics is None and not have_pages:
        html += missing(data, "duplicates", paths.PAGES_DEDUP)
    if metrics is not None:
        html += json_tables(metrics)
    if have_pages:
        html += _clusters(dedup, found, facts)
    bench = data.metrics.get("bench_duplicates")
    if data.pipeline or bench is not None:
        html += heading(3, "Benchmark: syndicated copies with known origin")
        html += json_tables(bench) if bench is not None else missing(data, "bench_duplicates")
    recall = curve(
        data.plots,
        ("recall_vs_edit_rate", "edit_rate_recall", "recall_by_edit_rate"),
        ("edit_rate",),
        ("recall", "pair_recall"),
    )
    if recall:
        found["recall_vs_edit_rate"] = figs.lines(
            recall, "Recall as edit rate grows", "edit rate", "recall", unit_square=False
        )
        html += figure(found["recall_vs_edit_rate"], "Pairwise recall against the benchmark's edit rate.")
    return Part("duplicates", title, html, found, facts)


def _clusters(dedup, found: dict[str, str], facts: list) -> str:
    frame = dedup.read(
        ["doc_id", "source", "near_dup_cluster", "is_representative", "exact_dup_of", "sim_to_representative"]
    )
    frame = frame[frame["near_dup_cluster"].notna()]
    sizes = frame.groupby("near_dup_cluster").size()
    dist = sizes.value_counts().sort_index()
    found["cluster_sizes"] = figs.bars(
        [str(s) for s in dist.index],
        list(dist.values),
        "Cluster size distribution",
        "clusters",
        horizontal=False,
    )
    html = heading(3, "Cluster sizes") + figure(found["cluster_sizes"], "Number of clusters of each size.")
    html += table(["cluster size", "clusters"], list(dist.items()))
    multi = sizes[sizes > 1]
    facts.append(("pages with an exact or near duplicate", int(multi.sum())))
    order = sorted(multi.items(), key=lambda kv: (-kv[1], str(kv[0])))[:EXAMPLE_CLUSTERS]
    if not order:
        return html + note("No page has a duplicate.")
    html += heading(3, f"Example clusters (the {len(order)} largest), representative on the left")
    for cluster, size in order:
        html += _cluster_pair(dedup, frame[frame["near_dup_cluster"] == cluster], cluster, size)
    return html


def _cluster_pair(dedup, members: pd.DataFrame, cluster: Any, size: int) -> str:
    reps = members.head(1)
    if "is_representative" in members and members["is_representative"].fillna(False).astype(bool).any():
        reps = members[members["is_representative"].fillna(False).astype(bool)]
    rep = reps.sort_values("doc_id").iloc[0]
    others = members[members["doc_id"] != rep["doc_id"]]
    # The least similar member shows how far the threshold reaches; ties broken by doc_id.
    sort_cols = [c for c in ("sim_to_representative", "doc_id") if c in others.columns]
    other = others.sort_values(sort_cols).iloc[0]
    texts = dedup.read(["doc_id", "clean_text", "raw_text"], doc_ids=[rep["doc_id"], other["doc_id"]])
    by_id = {row["doc_id"]: row for _, row in texts.iterrows()}

    def side(row: pd.Series, role: str) -> str:
        text_row = by_id.get(row["doc_id"])
        text = ""
        if text_row is not None:
            text = text_row.get("clean_text") if "clean_text" in text_row else text_row.get("raw_text")
        facts = [f"{role}: {row['doc_id']}", f"source: {fmt(row.get('source')) or '(none)'}"]
        if role != "representative":
            facts.append(f"similarity: {fmt(row.get('sim_to_representative'))}")
            if pd.notna(row.get("exact_dup_of")) and row.get("exact_dup_of"):
                facts.append(f"exact copy of {row.get('exact_dup_of')}")
        return (
            f'<div><div class="mono">{"<br>".join(esc(f) for f in facts)}</div>'
            f'<div class="text">{esc(clip(text, TEXT_PREVIEW))}</div></div>'
        )

    return (
        f"<h4>cluster {esc(cluster)}: {esc(size)} pages</h4>"
        f'<div class="pair">{side(rep, "representative")}{side(other, "member")}</div>'
    )


def leakage(data: ReportData) -> Part:
    title = "Leakage audit of the labelled data"
    metrics = data.metrics.get("leakage")
    if metrics is None:
        return Part("leakage", title, missing(data, "leakage"))
    rest, pairs = _split_pairs(metrics, "")
    html = json_tables(rest)
    if pairs:
        html += heading(3, "Example pairs across splits")
        for where, example in pairs:
            html += _text_pair(where, example)
    return Part("leakage", title, html)


def _split_pairs(data: Any, path: str) -> tuple[Any, list[tuple[str, dict]]]:
    """``data`` without its lists of text pairs (records with text_a and text_b), and those pairs."""
    if not isinstance(data, Mapping):
        return data, []
    rest, pairs = {}, []
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if is_pair_list(value):
            pairs.extend((where, example) for example in value[:EXAMPLE_PAIRS])
            continue
        rest[key], found = _split_pairs(value, where)
        pairs.extend(found)
    return rest, pairs


def is_pair_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and {"text_a", "text_b"} <= set(v) for v in value)
    )


def _text_pair(where: str, example: Mapping[str, Any]) -> str:
    facts = [f"{k}: {fmt(v)}" for k, v in example.items() if k not in ("text_a", "text_b")]
    sides = "".join(
        f'<div><div class="mono">{esc(side)}</div>'
        f'<div class="text">{esc(clip(example[key], TEXT_PREVIEW))}</div></div>'
        for side, key in ((example.get("a", "a"), "text_a"), (example.get("b", "b"), "text_b"))
    )
    return f'<p class="mono">{esc(where)}: {esc("; ".join(facts))}</p><div class="pair">{sides}</div>'
