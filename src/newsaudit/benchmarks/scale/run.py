"""``newsaudit bench``: throughput, memory and near-duplicate quality of the per-page stages at scale.

For each size N it builds (or reuses) a corpus of N pages from real mirrored text with planted
syndicated copies (:mod:`newsaudit.benchmarks.scale.corpus`), runs the audit on it
(:func:`newsaudit.pipeline.audit.audit`, the same code as ``newsaudit audit``: ingest -> boilerplate ->
duplicates -> classify, with per-step wall time and sampled peak RSS of the process tree), and
scores the near-duplicate clusters against the planted truth. The same run then compares the
near-duplicate stage with datasketch, rensa and datatrove, and our Gopher statistics with
datatrove's, on the same cleaned pages (:mod:`newsaudit.benchmarks.scale.compare_minhash`,
:mod:`newsaudit.benchmarks.scale.compare_gopher`).

Results go to ``reports/metrics/benchmark.json`` (written by the command,
:mod:`newsaudit.stages.bench`, not by ``dvc repro``: timings vary run to run) and to the terminal.
Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

from newsaudit.benchmarks.scale.compare_gopher import compare_gopher
from newsaudit.benchmarks.scale.compare_minhash import compare_near_duplicates
from newsaudit.benchmarks.scale.compare_pipeline import compare_pipeline
from newsaudit.benchmarks.scale.compare_text import compare_text
from newsaudit.benchmarks.scale.compare_tfidf import compare_tfidf
from newsaudit.benchmarks.scale.corpus import BenchCorpusParams, build_corpus
from newsaudit.benchmarks.scale.saved import SavedParts, bench_key
from newsaudit.benchmarks.scale.warc import run_warc
from newsaudit.benchmarks.syndication import pair_scores
from newsaudit.benchmarks.syndication_corpus import SyndicationParams
from newsaudit.core import paths
from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError
from newsaudit.pipeline.audit import audit
from newsaudit.pipeline.outdir import STEP_NAMES
from newsaudit.steps.dedup.params import DuplicatesParams

log = logging.getLogger(__name__)


class BenchParams(Section):
    """``params.yaml`` section ``bench``."""

    sizes: list[int] = [10_000, 100_000, 1_000_000]
    folder: str = str(paths.BENCH_FOLDER)  # generated corpora and audit outputs (git-ignored, reused)
    models: str = str(paths.MODELS)
    compare_pages: int = 10_000  # pages (of the smallest size) for the implementation comparison
    gopher_pages: int = 2_000
    warc_pages: int = 100_000  # the WARC row: pages of one generated crawl.warc.gz (0: no row)
    corpus: BenchCorpusParams = BenchCorpusParams()
    targets: dict[str, float] = {
        "pages_per_s_at_100k": 2000.0,
        "near_dup_speedup_vs_datasketch": 5.0,
        "peak_rss_mb_at_1m": 2048.0,
        "peak_rss_ratio_1m_over_100k": 1.3,  # flat memory: 10x the pages, at most 1.3x the peak
        "time_ratio_100k_over_10k": 11.0,
    }


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def near_duplicate_quality(pages: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """Pairwise precision / recall and ARI of the audit's clusters against the planted origins.

    A page's predicted group is its near-duplicate cluster (the representative's doc_id; exact
    copies share their canonical page's cluster). Pages left without text are their own group.
    """
    frame = pages[["doc_id", "record_id", "near_dup_cluster"]].merge(
        truth, left_on="record_id", right_on="doc_id", suffixes=("", "_truth"), validate="one_to_one"
    )
    if len(frame) != len(truth):
        raise NewsauditError(
            f"benchmark: {len(truth) - len(frame)} planted pages missing from the audit output"
        )
    pred = frame["near_dup_cluster"].where(frame["near_dup_cluster"].notna(), frame["doc_id"])
    scores = pair_scores(frame["origin"].tolist(), pred.tolist())
    copies = frame["kind"].isin(["copy", "recrawl"])
    return {
        "pages": len(frame),
        "planted_copies": int(copies.sum()),
        "planted_pairs": scores["true_pairs"],
        "predicted_pairs": scores["predicted_pairs"],
        "pair_precision": round(scores["pair_precision"], 4),
        "pair_recall": round(scores["pair_recall"], 4),
        "ari": round(scores["ari"], 4),
    }


def run_size(
    n_pages: int,
    params: dict,
    bench: BenchParams,
    syn: SyndicationParams,
    engine: str = "local",
    resume: bool = False,
) -> dict[str, Any]:
    """Build the N-page corpus (or reuse it), audit it with measurements, score the clusters.
    ``resume``: an audit of this corpus killed part-way starts after its last finished step (the
    reused steps keep the figures measured when they ran; ``resumed_steps`` names them)."""
    folder = Path(bench.folder) / f"n{n_pages}-seed{bench.corpus.seed}"
    t0 = time.perf_counter()
    corpus = build_corpus(n_pages, folder, bench.corpus, syn)
    built_s = time.perf_counter() - t0
    corpus_mb = _mb(corpus)
    log.info("bench: %d pages (%.0f MB) in %s; auditing", n_pages, corpus_mb, corpus)
    out = folder / f"audit-{engine}"
    ctx = audit(
        corpus, out, params, Path(bench.models), force=True, measure_steps=True, engine=engine, resume=resume
    )
    stages: dict[str, Any] = {name: {"skipped": why} for name, why in ctx.summary["skipped_steps"].items()}
    # local: one entry per step; dask: ingest, then the per-page steps as one graph
    for name, m in ctx.measurements.items():
        stages[name] = {
            "seconds": round(m.seconds, 2),
            "pages_per_s": round(n_pages / m.seconds, 1),
            "mb_per_s": round(corpus_mb / m.seconds, 2),
            "peak_rss_mb": round(m.peak_rss_mb, 1),
            "rss_at_start_mb": round(m.start_rss_mb, 1),  # the process tree as the step began
        }
    total = sum(m.seconds for m in ctx.measurements.values())
    pages = pd.read_parquet(out / "pages.parquet", columns=["doc_id", "record_id", "near_dup_cluster"])
    truth = pd.read_parquet(folder / "truth.parquet")
    return {
        "pages": n_pages,
        "engine": engine,
        "corpus_mb": round(corpus_mb, 1),
        "corpus_build_seconds": round(built_s, 1),
        "stages": stages,
        "overall": {
            "seconds": round(total, 2),
            "pages_per_s": round(n_pages / total, 1),
            "mb_per_s": round(corpus_mb / total, 2),
            "peak_rss_mb": round(max(m.peak_rss_mb for m in ctx.measurements.values()), 1),
        },
        "near_duplicates_vs_planted": near_duplicate_quality(pages, truth),
        "audit_dir": str(out),
        "resumed_steps": ctx.resumed,
        "measured_at": _now(),
    }


def _stage_rank(name: str) -> int:
    """Stages in the order they run (JSON files hold them sorted by name)."""
    return STEP_NAMES.index(name) if name in STEP_NAMES else len(STEP_NAMES)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def compare_implementations(
    run: dict[str, Any], bench: BenchParams, dup: DuplicatesParams, workers: int
) -> dict[str, Any]:
    """Near-duplicate and Gopher comparisons on the cleaned pages of one audited run (``workers``:
    our MinHash signature threads)."""
    audited = Path(run["audit_dir"]) / "pages.parquet"
    pages = pd.read_parquet(audited, columns=["record_id", "clean_text"]).dropna(subset=["clean_text"])
    pages = pages.head(bench.compare_pages)
    truth = pd.read_parquet(Path(run["audit_dir"]).parent / "truth.parquet").set_index("doc_id")["origin"]
    texts = pages["clean_text"].tolist()
    log.info("bench: comparing near-duplicate implementations on %d pages", len(texts))
    near = compare_near_duplicates(texts, truth.loc[pages["record_id"]].tolist(), dup, workers=workers)
    log.info("bench: comparing Gopher statistics on %d pages", min(len(texts), bench.gopher_pages))
    gopher = compare_gopher(texts, max_pages=bench.gopher_pages)
    # ingest's text costs on the ingested text (already repaired: the share needing repair is lower
    # than on raw pages; the identical-output check still holds)
    raw = pd.read_parquet(audited, columns=["raw_text"])["raw_text"].dropna().head(bench.gopher_pages)
    log.info("bench: comparing text repair and language identification on %d pages", len(raw))
    text = compare_text(raw.tolist())
    log.info("bench: comparing classify's TF-IDF features on %d pages", min(len(texts), bench.gopher_pages))
    tfidf = compare_tfidf(texts[: bench.gopher_pages], Path(bench.models) / paths.CLASSIFIER.name)
    corpus = Path(run["audit_dir"]).parent / "corpus"
    log.info("bench: datatrove's pipeline end to end on the %d pages of %s", run["pages"], corpus)
    pipeline = compare_pipeline(run, corpus, dup, workers)
    return {"near_duplicates": near, "gopher": gopher, "text": text, "tfidf": tfidf, "pipeline": pipeline}


def check_targets(report: dict[str, Any], targets: dict[str, float]) -> dict[str, Any]:
    """Each target with the measured value and whether it is met (None: not measured in this run)."""
    runs = {r["pages"]: r for r in report["runs"] if r.get("engine", "local") == "local"}
    out: dict[str, Any] = {}
    at_100k = runs.get(100_000)
    out["pages_per_s_at_100k"] = at_100k["overall"]["pages_per_s"] if at_100k else None
    at_1m = runs.get(1_000_000)
    out["peak_rss_mb_at_1m"] = at_1m["overall"]["peak_rss_mb"] if at_1m else None
    out["peak_rss_ratio_1m_over_100k"] = (
        round(at_1m["overall"]["peak_rss_mb"] / at_100k["overall"]["peak_rss_mb"], 3)
        if at_1m and at_100k
        else None
    )
    if 10_000 in runs and 100_000 in runs:
        out["time_ratio_100k_over_10k"] = round(
            runs[100_000]["overall"]["seconds"] / runs[10_000]["overall"]["seconds"], 2
        )
    else:
        out["time_ratio_100k_over_10k"] = None
    impls = report.get("comparison", {}).get("near_duplicates", {}).get("implementations", {})
    out["near_dup_speedup_vs_datasketch"] = impls.get("ours", {}).get("speedup_vs_datasketch")
    met = {}
    for key, value in out.items():
        if value is None or key not in targets:  # not measured, or no target set in params
            met[key] = None
        elif key in ("peak_rss_mb_at_1m", "peak_rss_ratio_1m_over_100k", "time_ratio_100k_over_10k"):
            met[key] = value <= targets[key]
        else:
            met[key] = value >= targets[key]
    return {"target": targets, "measured": out, "met": met}


def print_summary(report: dict[str, Any]) -> None:
    print(
        f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
        f"{report['machine']['memory_gb']} GB"
    )
    print(f"{'pages':>9} {'engine':<6} {'stage':<15} {'seconds':>8} {'pages/s':>8} ", end="")
    print(f"{'MB/s':>6} {'peak RSS MB':>11}")
    for run in report["runs"]:
        stages = sorted(run["stages"].items(), key=lambda kv: _stage_rank(kv[0]))
        for name, s in [*stages, ("overall", run["overall"])]:
            if "seconds" in s:
                print(
                    f"{run['pages']:>9} {run['engine']:<6} {name:<15} {s['seconds']:>8.1f} "
                    f"{s['pages_per_s']:>8.0f} {s['mb_per_s']:>6.1f} {s['peak_rss_mb']:>11.0f}"
                )
        q = run["near_duplicates_vs_planted"]
        print(
            f"{run['pages']:>9} near-duplicates vs planted: precision {q['pair_precision']}, "
            f"recall {q['pair_recall']}, ARI {q['ari']}"
        )
    near = report.get("comparison", {}).get("near_duplicates")
    if near:
        print(f"near-duplicate implementations on {near['pages']} pages:")
        for name, r in near["implementations"].items():
            if r.get("available"):
                print(
                    f"  {name:<11} {r['seconds']:>8.2f} s {r['pages_per_s']:>9.0f} pages/s "
                    f"peak +{r['peak_rss_above_start_mb']} MB  ARI vs truth {r['ari_vs_truth']}  "
                    f"vs ours {r['ari_vs_ours']}  x{r['speedup_vs_datasketch']} datasketch"
                )
            else:
                print(f"  {name:<11} unavailable: {r.get('reason')}")
    tfidf = report.get("comparison", {}).get("tfidf")
    if tfidf:
        print(f"classify's TF-IDF features ({tfidf['features']}) on {tfidf['pages']} pages:")
        for name, r in tfidf["ways"].items():
            if r.get("available"):
                same = r.get("identical_to_scikit_learn", "(the reference)")
                print(
                    f"  {name:<17} {r['seconds']:>8.2f} s {r['pages_per_s']:>9.0f} pages/s  identical {same}"
                )
    pipe = report.get("comparison", {}).get("pipeline")
    if pipe:
        ours, dt = pipe["ours"], pipe["datatrove"]
        print(
            f"end to end on {pipe['pages']} pages: ours (ingest + boilerplate + duplicates) "
            f"{ours['seconds']:.1f} s, {ours['removed_as_duplicates']} pages marked as copies "
            f"(planted {pipe['planted_copies']})"
        )
        if dt.get("available"):
            print(
                f"  datatrove pipeline {dt['seconds']:.1f} s, dropped {dt['dropped_by_filters']} by its "
                f"filters, removed {dt['removed_as_duplicates']} as duplicates: ours "
                f"x{pipe['speedup_vs_datatrove']} "
                f"(x{pipe['speedup_vs_datatrove_with_classify']} with classify)"
            )
        else:
            print(f"  datatrove pipeline unavailable: {dt.get('reason')}")
    warc = report.get("warc")
    if warc:
        w, o = warc["records_written"], warc["overall"]
        print(
            f"WARC: {w['pages']} pages in {w['responses']} responses + {w['requests']} requests "
            f"({warc['gzipped_mb']} MB gzipped): {o['pages_per_s']:.0f} pages/s, "
            f"peak RSS {o['peak_rss_mb']:.0f} MB"
        )
    t = report["targets"]
    for key, value in t["measured"].items():
        print(f"target {key}: {value} (target {t['target'].get(key)}, met: {t['met'][key]})")


def run_benchmark(
    params: dict,
    bench: BenchParams,
    syn: SyndicationParams,
    dup: DuplicatesParams,
    sizes: list[int],
    compare: bool = True,
    engines: tuple[str, ...] = ("local",),
    workers: int = 2,
    warc_pages: int = 0,
    checkpoint: Path | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Every size on every engine, the implementation comparison, the targets; printed as a table.

    ``params`` is the whole parameter document, handed to :func:`newsaudit.pipeline.audit.audit`;
    ``bench``, ``syn`` and ``dup`` are its ``bench``, ``bench_duplicates`` and ``duplicates``
    sections, ``workers`` our MinHash threads in the comparison (``execution.workers.duplicates``),
    ``warc_pages`` the size of the WARC row (0: none).

    A 1M-page run takes hours: each finished part is written to ``checkpoint`` (if given) as it
    ends, and ``resume`` keeps the parts a killed run had finished there, when its parameters and
    code were these (:func:`bench_key`), and resumes a killed audit after its last finished step.
    """
    bad = [n for n in sizes if n < 100]
    if bad:
        raise NewsauditError(f"bench --pages {bad[0]}: sizes must be at least 100 pages")
    parts = SavedParts(checkpoint, bench_key(params), resume)
    part = parts.run
    report: dict[str, Any] = {
        "measured_at": _now(),
        "machine": machine(),
        "engines": list(engines),
        "corpus_generator": bench.corpus.model_dump(),
        "runs": [
            part(
                f"run/{engine}/{n}",
                f"bench {n} pages ({engine})",
                run_size,
                n,
                params,
                bench,
                syn,
                engine,
                resume,
            )
            for engine in engines
            for n in sorted(sizes)
        ],
    }
    if compare:
        report["comparison"] = part(
            "comparison", "bench comparison", compare_implementations, report["runs"][0], bench, dup, workers
        )
    if warc_pages:
        folder = Path(bench.folder) / f"n{warc_pages}-seed{bench.corpus.seed}"
        corpus = build_corpus(warc_pages, folder, bench.corpus, syn)
        what = f"bench WARC {warc_pages} pages"
        report["warc"] = part(
            f"warc/{warc_pages}", what, run_warc, corpus, folder, params, Path(bench.models), engines[0]
        )
    report["memory_per_page"] = memory_per_page(report["runs"])
    report["targets"] = check_targets(report, bench.targets)
    report["resumed_parts"] = parts.reused  # measured by the run that was killed, kept by --resume
    return report


def memory_per_page(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per engine and stage: peak RSS per page at each size, and the bytes each extra page adds
    between the smallest and the largest size (flat memory: near 0)."""
    out: dict[str, Any] = {}
    for engine in sorted({r["engine"] for r in runs}):
        mine = sorted((r for r in runs if r["engine"] == engine), key=lambda r: r["pages"])
        stages: dict[str, Any] = {}
        for name in [*mine[0]["stages"], "overall"]:
            sized = [
                (
                    r["pages"],
                    (r["overall"] if name == "overall" else r["stages"].get(name, {})).get("peak_rss_mb"),
                )
                for r in mine
            ]
            sized = [(n, mb) for n, mb in sized if mb is not None]
            if not sized:
                continue
            entry: dict[str, Any] = {"kb_per_page": {str(n): round(mb * 1024 / n, 3) for n, mb in sized}}
            if len(sized) > 1 and sized[-1][0] > sized[0][0]:
                (n0, m0), (n1, m1) = sized[0], sized[-1]
                entry["bytes_per_extra_page"] = round((m1 - m0) * 2**20 / (n1 - n0), 1)
            stages[name] = entry
        out[engine] = stages
    return out
