"""End to end against the field's pipeline: datatrove doing the equivalent steps on the same pages.

The same JSONL corpus our audit read goes through datatrove as its documentation builds a
deduplicated web corpus (FineWeb's recipe, without the steps that need downloaded models), run by
its own ``LocalPipelineExecutor`` with as many workers as our stages use:

1. ``filter``: ``JsonlReader`` -> ``GopherRepetitionFilter`` -> ``GopherQualityFilter`` ->
   ``JsonlWriter`` (one task per corpus shard);
2. ``signatures``: ``JsonlReader`` -> ``MinhashDedupSignature`` over the filtered files;
3. ``buckets``: ``MinhashDedupBuckets``, one task per band;
4. ``clusters``: ``MinhashDedupCluster``;
5. ``dedup``: ``JsonlReader`` -> ``MinhashDedupFilter`` -> ``JsonlWriter``.

Its MinHash uses our shingles and bands (``MinhashConfig`` from
:func:`~newsaudit.benchmarks.scale.compare_minhash.datatrove_config`). Our side is the audit's
ingest + boilerplate + duplicates on the same pages (classify has no datatrove counterpart; the
overall ratio including it is given too). What each side does that the other does not is in
``notes``: the ratio is of two pipelines a user would run, not of identical work.
"""

from __future__ import annotations

import gzip
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from newsaudit.benchmarks.scale.compare_minhash import (
    _quiet_datatrove,
    datatrove_config,
    datatrove_hash_fc,
    load_datatrove_minhash,
)
from newsaudit.benchmarks.scale.harness import (
    DATATROVE_LANGUAGE,
    failure,
    prepared,
    round_or_none,
    warm_datatrove_tokenizer,
)
from newsaudit.lib.measure import measure
from newsaudit.steps.dedup.params import DuplicatesParams

log = logging.getLogger(__name__)

OUR_EQUIVALENT_STAGES = ("ingest", "boilerplate", "duplicates")
NOTES = (
    "datatrove 5-stage LocalPipelineExecutor run (Gopher repetition + quality filters, MinHash "
    "signatures / buckets / clusters / filter, gzipped JSONL between stages) against our ingest + "
    "boilerplate + duplicates. Only ours: text repair (ftfy), language id, error-page and site-template "
    "removal, the line model, within-page repeated paragraphs, exact duplicates, Jaccard-verified "
    "near-duplicate pairs, every page kept with its flags. Only datatrove: the Gopher quality filter "
    "(ours computes the repetition statistics and flags, it does not drop pages)."
)


def _prepare() -> str:
    load_datatrove_minhash()
    warm_datatrove_tokenizer()
    fc = datatrove_hash_fc()
    return "" if fc == "xxhash" else f"n-gram hash {fc} (datatrove's xxhash call fails with this xxhash)"


def count_documents(folder: Path) -> int:
    """Documents in the gzipped JSONL files datatrove's ``JsonlWriter`` wrote under ``folder``."""
    n = 0
    for path in sorted(folder.rglob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            n += sum(1 for _ in fh)
    return n


def datatrove_executors(corpus: Path, work: Path, p: DuplicatesParams, workers: int) -> dict[str, Any]:
    """The five executors, in order, writing under ``work``."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    mh = load_datatrove_minhash()[0]
    cfg = datatrove_config(p)
    shards = len(list(corpus.glob("*.jsonl")))

    def executor(name: str, pipeline: list, tasks: int) -> Any:
        return LocalPipelineExecutor(
            pipeline=pipeline,
            tasks=tasks,
            workers=min(workers, tasks),
            logging_dir=str(work / "logs" / name),
            skip_completed=False,
        )

    def reader(folder: Path, pattern: str) -> Any:
        return JsonlReader(str(folder), glob_pattern=pattern, text_key="text", id_key="id")

    return {
        "filter": executor(
            "filter",
            [
                reader(corpus, "*.jsonl"),
                GopherRepetitionFilter(language=DATATROVE_LANGUAGE),
                GopherQualityFilter(language=DATATROVE_LANGUAGE),
                JsonlWriter(str(work / "filtered")),
            ],
            shards,
        ),
        "signatures": executor(
            "signatures",
            [
                reader(work / "filtered", "*.jsonl.gz"),
                mh.MinhashDedupSignature(
                    output_folder=str(work / "signatures"), config=cfg, language=DATATROVE_LANGUAGE
                ),
            ],
            shards,
        ),
        "buckets": executor(
            "buckets",
            [
                mh.MinhashDedupBuckets(
                    input_folder=str(work / "signatures"), output_folder=str(work / "buckets"), config=cfg
                )
            ],
            cfg.num_buckets,
        ),
        "clusters": executor(
            "clusters",
            [
                mh.MinhashDedupCluster(
                    input_folder=str(work / "buckets"), output_folder=str(work / "remove_ids"), config=cfg
                )
            ],
            1,
        ),
        "dedup": executor(
            "dedup",
            [
                reader(work / "filtered", "*.jsonl.gz"),
                mh.MinhashDedupFilter(input_folder=str(work / "remove_ids")),
                JsonlWriter(str(work / "deduplicated")),
            ],
            shards,
        ),
    }


@contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 redirected to ``path``: datatrove's worker processes log every task to the
    terminal (dozens of lines per bucket task); its own per-task log files are kept as well."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def run_datatrove_pipeline(corpus: Path, p: DuplicatesParams, workers: int) -> dict[str, Any]:
    """Each of datatrove's five stages timed (wall time, sampled peak RSS of the process tree), and
    the documents it kept after the filters and after deduplication. When the filters keep nothing,
    the MinHash stages have no input and are not run (datatrove's reader would fail on no files)."""
    stages: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="datatrove-pipeline-", dir=corpus.parent) as tmp:
        work = Path(tmp)
        for name, ex in datatrove_executors(corpus, work, p, workers).items():
            if name != "filter" and count_documents(work / "filtered") == 0:
                break
            with _quiet_datatrove(), stderr_to(work / "stderr.log"), measure() as m:
                ex.run()
            stages[name] = {"seconds": round(m.seconds, 2), "peak_rss_mb": round(m.peak_rss_mb, 1)}
            log.info("bench: datatrove %s %.1f s", name, m.seconds)
        kept = {
            "after_filters": count_documents(work / "filtered"),
            "after_dedup": count_documents(work / "deduplicated"),
        }
    return {"stages": stages, "documents": kept}


def ours_removed_as_duplicates(pages_parquet: Path) -> int:
    """Pages our duplicates step marks as copies: exact copies and non-representative near-duplicates."""
    pages = pd.read_parquet(pages_parquet, columns=["exact_dup_of", "near_dup_cluster", "is_representative"])
    near_copy = pages["near_dup_cluster"].notna() & ~pages["is_representative"].fillna(True).astype(bool)
    return int((pages["exact_dup_of"].notna() | near_copy).sum())


def compare_pipeline(run: dict[str, Any], corpus: Path, p: DuplicatesParams, workers: int) -> dict[str, Any]:
    """The table entry: datatrove's stages and totals beside our equivalent stages on ``run``'s pages.

    ``run`` is one audited size of :func:`newsaudit.benchmarks.scale.run.run_size` on ``corpus``;
    datatrove missing or failing is reported (``available: False`` with the reason), not raised.
    """
    pages = run["pages"]
    ours_s = sum(run["stages"][s]["seconds"] for s in OUR_EQUIVALENT_STAGES)
    truth = pd.read_parquet(corpus.parent / "truth.parquet", columns=["origin"])
    entry: dict[str, Any] = {
        "pages": pages,
        "notes": NOTES,
        "ours": {
            "stages": list(OUR_EQUIVALENT_STAGES),
            "seconds": round(ours_s, 2),
            "pages_per_s": round(pages / ours_s, 1),
            "seconds_with_classify": run["overall"]["seconds"],
            "peak_rss_mb": max(run["stages"][s]["peak_rss_mb"] for s in OUR_EQUIVALENT_STAGES),
            "removed_as_duplicates": ours_removed_as_duplicates(Path(run["audit_dir"]) / "pages.parquet"),
        },
        "planted_copies": int(len(truth) - truth["origin"].nunique()),
        "datatrove": {"available": False, "reason": None},
    }
    entry["datatrove"]["reason"], extra = prepared(_prepare)
    if extra:
        entry["notes"] += f"; {extra}"
    if entry["datatrove"]["reason"] is not None:
        return entry
    try:
        measured = run_datatrove_pipeline(corpus, p, workers)
    except Exception as exc:  # a broken library is a result to report, not a crash of the benchmark
        entry["datatrove"]["reason"] = failure(exc)
        return entry
    dt_s = sum(s["seconds"] for s in measured["stages"].values())
    docs = measured["documents"]
    entry["datatrove"] = {
        "available": True,
        "reason": None,
        **measured,
        "seconds": round(dt_s, 2),
        "pages_per_s": round(pages / dt_s, 1),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in measured["stages"].values()),
        "dropped_by_filters": pages - docs["after_filters"],
        "removed_as_duplicates": docs["after_filters"] - docs["after_dedup"],
    }
    entry["speedup_vs_datatrove"] = round_or_none(dt_s / ours_s)
    entry["speedup_vs_datatrove_with_classify"] = round_or_none(dt_s / run["overall"]["seconds"])
    return entry
