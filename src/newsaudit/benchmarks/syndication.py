"""The ``syndication`` benchmark: near-duplicate detection measured against a gold set built from real text.

Published near-duplicate gold sets (NEWS-COPY) are not reachable here, so the benchmark makes its
own from real article texts of the mirror, with a seeded generator and this perturbation model:

* **pool**: real article bodies (scrapinghub gold bodies, dragnet corrected texts, ConfliBERT
  texts of at least ``min_words`` words), made distinct first (no two with word 5-gram Jaccard
  >= ``pool_max_jaccard``), then split in two halves by a hash of the text: the *dev* seed draws
  from one half (tuning), the *test* seed from the other (reported), so tuning never sees a test
  article;
* **sites**: ``n_sites`` wrappers made of real boilerplate lines: the visible text of real
  article pages (``html_text``) before and after the gold article, minus article lines. A site
  always uses the same header and footer, so different articles on one site share them — the
  main threat to precision;
* **origins**: ``n_origins`` pool articles, each published on a random site. With probability
  ``p_copies`` an origin is syndicated to 1..``max_copies`` other sites; each copy independently
  gets: truncation (``p_truncate``: keeps a uniform ``truncate_min``..1 share of the
  paragraphs), repeated paragraphs (``p_repeat``: the whole body twice, as an AMP/print copy, or
  some paragraphs twice), word edits (each word substituted, deleted or preceded by an inserted
  pool word with probability ``edit_rate``), case and punctuation stripping (``p_strip``), an
  error/consent notice prefix (``p_error_prefix``);
* **recrawls**: with probability ``p_recrawl`` an origin's page is captured twice (exact copy);
* **hard negatives**: with probability ``p_hard_negative`` an origin brings its nearest pool
  article by TF-IDF cosine (same topic, different story) as an origin of its own; these must stay
  apart.

Gold: pages sharing an origin. Reported per method: adjusted Rand index over all pages, pairwise
precision/recall/F1 (pairs of pages put in one cluster vs pairs sharing an origin), hard-negative
pairs merged. Methods side by side: ours (:func:`newsaudit.steps.dedup.step.annotate_duplicates`, the stage
itself), the text-dedup MinHash configuration (word 5-grams of text-dedup's tokenisation,
256 permutations, datasketch LSH at threshold 0.7 with its optimal bands/rows, every bucket merged
by union-find without verification, as text-dedup does), and exact-hash dedup (hash of the text).

The texts are what the duplicates stage would see if the boilerplate stage removed nothing: a
pessimistic setting (real input has most wrapper lines removed).
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xxhash
from sklearn.metrics import adjusted_rand_score

from newsaudit.core.config import Section
from newsaudit.lib.minhash import near_duplicate_clusters, normalize_array, words_of
from newsaudit.core.errors import NewsauditError

log = logging.getLogger(__name__)

# Generic notices of our own wording (not copied from any page): what an error or consent
# interstitial prepends to a captured article.
ERROR_NOTICES = (
    "Sorry, something went wrong while loading this page. Please try again later.",
    "We could not load the comments section. Refresh the page to try again.",
    "Please enable JavaScript in your browser to view this content.",
    "This content is not available in your region. Error 451.",
    "You have reached your limit of free articles this month. Subscribe to continue reading.",
)


class SyndicationParams(Section):
    """``params.yaml`` section ``duplicates_bench``."""

    conflibert: str = "data/external/conflibert"
    scrapinghub: str = "data/external/scrapinghub-article-extraction-benchmark"
    dragnet: str = "data/external/dragnet-data"
    min_words: int = 80
    pool_max_jaccard: float = 0.3
    n_sites: int = 20
    max_header_lines: int = 3
    max_footer_lines: int = 8
    n_origins: int = 500
    p_copies: float = 0.6
    max_copies: int = 4
    p_truncate: float = 0.3
    truncate_min: float = 0.6
    p_repeat: float = 0.15
    edit_rate: float = 0.03
    p_strip: float = 0.2
    p_error_prefix: float = 0.1
    p_hard_negative: float = 0.3
    p_recrawl: float = 0.1
    dev_seed: int = 11
    test_seed: int = 23
    edit_rates: list[float] = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    baseline_num_perm: int = 256
    baseline_shingle: int = 5
    baseline_threshold: float = 0.7


# ----------------------------------------------------------------------------- real text sources


def _paragraphs(text: str) -> list[str]:
    paras = [p.strip() for p in re.split(r"\n+", text) if p.strip()]
    if len(paras) > 1:
        return paras
    # single-paragraph texts (ConfliBERT rows): groups of three sentences act as paragraphs
    sents = re.split(r"(?<=[.!?])\s+", text.strip())
    return [" ".join(sents[i : i + 3]) for i in range(0, len(sents), 3)]


def load_articles(params: SyndicationParams) -> list[str]:
    """Real article bodies from the mirror (each as paragraphs joined by newlines)."""
    texts: list[str] = []
    gt = Path(params.scrapinghub) / "ground-truth.json"
    if gt.is_file():
        gold = json.loads(gt.read_text(encoding="utf-8"))
        texts += [gold[k]["articleBody"] for k in sorted(gold)]
    corrected = Path(params.dragnet) / "Corrected"
    if corrected.is_dir():
        texts += [p.read_text(encoding="utf-8", errors="replace") for p in sorted(corrected.glob("*.txt"))]
    root = Path(params.conflibert)
    if root.is_dir():
        from newsaudit.datasets.conflibert import DATASETS, SPLITS, read_split

        for d in DATASETS:
            for s in SPLITS:
                if (root / d / f"{s}.tsv").is_file():
                    texts += read_split(root, d, s)["text"].tolist()
    if not texts:
        raise NewsauditError(
            f"no article texts found under {params.scrapinghub}, {params.dragnet} or {params.conflibert} "
            "(run `newsaudit fetch` first)"
        )
    out = ["\n".join(_paragraphs(t)) for t in texts]
    return [t for t in out if len(t.split()) >= params.min_words]


def _shingle_set(text: str, k: int = 5) -> set[str]:
    w = words_of(text)
    return {" ".join(w[i : i + k]) for i in range(max(len(w) - k + 1, 1))}


def distinct_pool(texts: list[str], max_jaccard: float) -> list[str]:
    """Drop texts that repeat an earlier one (exact after normalisation, or shingle Jaccard >= max)."""
    norm = normalize_array(texts).to_pylist()
    seen: set[str] = set()
    keep = []
    for i, n in enumerate(norm):
        if n not in seen:
            seen.add(n)
            keep.append(i)
    texts = [texts[i] for i in keep]
    # permissive LSH (S-curve midpoint ~0.1) and a loose estimate (sd ~0.04 at 128 bins) find the
    # candidates, the exact shingle Jaccard decides
    near = near_duplicate_clusters(
        texts, [f"{i:06d}" for i in range(len(texts))], bands=64, rows=2, threshold=max_jaccard - 0.15
    )
    drop: set[int] = set()
    sets: dict[int, set[str]] = {}
    for a, b in zip(near.pairs["id_a"].astype(int), near.pairs["id_b"].astype(int), strict=True):
        if a in drop or b in drop:
            continue
        sa = sets.setdefault(a, _shingle_set(texts[a]))
        sb = sets.setdefault(b, _shingle_set(texts[b]))
        if len(sa & sb) / len(sa | sb) >= max_jaccard:
            drop.add(b)
    return [t for i, t in enumerate(texts) if i not in drop]


def load_sites(params: SyndicationParams) -> list[tuple[list[str], list[str]]]:
    """Site wrappers (header lines, footer lines) from real pages: visible text around the article."""
    import html_text

    gt = Path(params.scrapinghub) / "ground-truth.json"
    if not gt.is_file():
        raise NewsauditError(f"{gt}: needed for the benchmark's site wrappers (run `newsaudit fetch`)")
    gold = json.loads(gt.read_text(encoding="utf-8"))
    sites = []
    for key in sorted(gold):
        path = Path(params.scrapinghub) / "html" / f"{key}.html.gz"
        if not path.is_file():
            continue
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        lines = [ln.strip() for ln in html_text.extract_text(html, guess_layout=True).split("\n")]
        lines = [ln for ln in lines if ln]
        body = gold[key]["articleBody"]
        body_words = set(words_of(body))

        def is_article(line: str, body: str = body, body_words: set[str] = body_words) -> bool:
            w = words_of(line)
            return line in body or (len(w) >= 6 and sum(x in body_words for x in w) / len(w) > 0.8)

        flags = [is_article(ln) for ln in lines]
        if not any(flags):
            continue
        first, last = flags.index(True), len(flags) - 1 - flags[::-1].index(True)
        header = [ln for ln, f in zip(lines[:first], flags[:first], strict=True) if not f]
        footer = [ln for ln, f in zip(lines[last + 1 :], flags[last + 1 :], strict=True) if not f]
        header, footer = header[-params.max_header_lines :], footer[: params.max_footer_lines]
        if len(header) + len(footer) >= 5:
            sites.append((header, footer))
        if len(sites) == params.n_sites:
            break
    return sites


# ----------------------------------------------------------------------------- perturbation model


def _edit_words(text: str, rate: float, vocab: Sequence[str], rng: np.random.Generator) -> str:
    if rate <= 0:
        return text
    out_lines = []
    for line in text.split("\n"):
        words = line.split(" ")
        u = rng.random(len(words))
        ops = rng.integers(0, 3, len(words))
        new: list[str] = []
        for w, x, op in zip(words, u, ops, strict=True):
            if x >= rate:
                new.append(w)
            elif op == 0:  # substitute
                new.append(vocab[rng.integers(len(vocab))])
            elif op == 1:  # insert before
                new.extend((vocab[rng.integers(len(vocab))], w))
            # op == 2: delete
        out_lines.append(" ".join(new))
    return "\n".join(out_lines)


def perturb(
    body: str, params: SyndicationParams, edit_rate: float, vocab: Sequence[str], rng: np.random.Generator
) -> str:
    """One syndicated copy of ``body`` (no wrapper yet)."""
    paras = body.split("\n")
    if rng.random() < params.p_truncate and len(paras) > 1:
        keep = max(1, math.ceil(len(paras) * rng.uniform(params.truncate_min, 1.0)))
        paras = paras[:keep]
    if rng.random() < params.p_repeat:
        if rng.random() < 0.5:
            paras = paras + paras
        else:
            paras = [q for p in paras for q in ((p, p) if rng.random() < 0.5 else (p,))]
    text = _edit_words("\n".join(paras), edit_rate, vocab, rng)
    if rng.random() < params.p_strip:
        text = re.sub(r"[^\w\s]", "", text.lower())
    if rng.random() < params.p_error_prefix:
        text = ERROR_NOTICES[rng.integers(len(ERROR_NOTICES))] + "\n" + text
    return text


def _wrap(text: str, site: tuple[list[str], list[str]]) -> str:
    return "\n".join([*site[0], text, *site[1]])


def _nearest_topic(pool: list[str]) -> np.ndarray:
    """Index of each article's most similar other article by TF-IDF cosine (same topic)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(min_df=2, max_df=0.5, stop_words="english", sublinear_tf=True).fit_transform(pool)
    nearest = np.empty(len(pool), dtype=np.int64)
    for s in range(0, len(pool), 1000):
        sim = (x[s : s + 1000] @ x.T).toarray()
        sim[np.arange(sim.shape[0]), np.arange(s, s + sim.shape[0])] = -1
        nearest[s : s + 1000] = sim.argmax(axis=1)
    return nearest


def generate(
    pool: list[str],
    sites: list[tuple[list[str], list[str]]],
    params: SyndicationParams,
    seed: int,
    edit_rate: float | None = None,
) -> pd.DataFrame:
    """The benchmark pages: ``doc_id, text, origin, site, kind`` (original / recrawl / copy /
    hard_negative)."""
    rng = np.random.default_rng(seed)
    edit_rate = params.edit_rate if edit_rate is None else edit_rate
    vocab = sorted({w for t in pool[:500] for w in t.split() if w.isalpha()})
    nearest = _nearest_topic(pool)
    chosen = list(rng.choice(len(pool), size=min(params.n_origins, len(pool)), replace=False))
    kinds = dict.fromkeys(chosen, "original")
    for i in list(chosen):
        j = int(nearest[i])
        if rng.random() < params.p_hard_negative and j not in kinds:
            kinds[j] = "hard_negative"
    rows = []
    for origin, kind in kinds.items():
        site_ids = rng.permutation(len(sites))
        body = pool[origin]
        rows.append((origin, int(site_ids[0]), kind, _wrap(body, sites[site_ids[0]])))
        if rng.random() < params.p_recrawl:  # the same page crawled twice: an exact duplicate
            rows.append((origin, int(site_ids[0]), "recrawl", rows[-1][3]))
        if rng.random() < params.p_copies:
            n = int(rng.integers(1, params.max_copies + 1))
            for s in site_ids[1 : n + 1]:
                rows.append(
                    (origin, int(s), "copy", _wrap(perturb(body, params, edit_rate, vocab, rng), sites[s]))
                )
    frame = pd.DataFrame(rows, columns=["origin", "site", "kind", "text"])
    frame["hard_negative_of"] = [
        int(nearest[o]) if k == "hard_negative" else -1
        for o, k in zip(frame["origin"], frame["kind"], strict=True)
    ]
    order = rng.permutation(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "doc_id", [f"syn{seed}-{i:05d}" for i in range(len(frame))])
    return frame


# ----------------------------------------------------------------------------- methods and scores


def pair_scores(gold: Sequence[Any], pred: Sequence[Any]) -> dict[str, float]:
    """ARI and pairwise precision/recall/F1 of a clustering against gold labels."""
    g = pd.factorize(pd.Series(list(gold), dtype=object))[0]
    p = pd.factorize(pd.Series(list(pred), dtype=object))[0]
    # group sizes, not a dense contingency table: 100k pages make a 64k x 64k crosstab

    def c2(x: np.ndarray) -> float:
        x = x.astype(np.int64)
        return float((x * (x - 1) // 2).sum())

    both = pd.DataFrame({"g": g, "p": p}).value_counts().to_numpy()
    tp, pred_pairs, gold_pairs = c2(both), c2(np.bincount(p)), c2(np.bincount(g))
    prec = tp / pred_pairs if pred_pairs else 1.0
    rec = tp / gold_pairs if gold_pairs else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {
        "ari": float(adjusted_rand_score(g, p)),
        "pair_precision": prec,
        "pair_recall": rec,
        "pair_f1": f1,
        "true_pairs": int(gold_pairs),
        "predicted_pairs": int(pred_pairs),
    }


def method_ours(pages: pd.DataFrame, dup_params: Any) -> np.ndarray:
    from newsaudit.steps.dedup.step import annotate_duplicates

    frame = pd.DataFrame({"doc_id": pages["doc_id"], "clean_text": pages["text"], "status": "accepted"})
    return annotate_duplicates(frame, dup_params)["near_dup_cluster"].to_numpy()


TEXT_DEDUP_NON_ALPHA = re.compile(r"[^A-Za-z_0-9]")


def method_text_dedup(pages: pd.DataFrame, params: SyndicationParams) -> np.ndarray:
    """text-dedup's MinHash configuration on datasketch: no verification, buckets merged."""
    from datasketch import MinHash, MinHashLSH

    from newsaudit.lib.minhash import connected_labels

    k = params.baseline_shingle
    lsh = MinHashLSH(threshold=params.baseline_threshold, num_perm=params.baseline_num_perm)
    hashes = []
    for i, text in enumerate(pages["text"]):
        toks = [t for t in TEXT_DEDUP_NON_ALPHA.split(text.lower()) if t]
        grams = {" ".join(toks[j : j + k]).encode() for j in range(max(len(toks) - k + 1, 1))}
        m = MinHash(num_perm=params.baseline_num_perm, seed=1)
        m.update_batch(list(grams))
        lsh.insert(i, m)
        hashes.append(m)
    pairs = [(i, j) for i, m in enumerate(hashes) for j in lsh.query(m) if j > i]
    arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return connected_labels(len(pages), arr)


def method_exact(pages: pd.DataFrame) -> np.ndarray:
    return np.asarray([xxhash.xxh3_64_hexdigest(t.encode("utf-8")) for t in pages["text"]], dtype=object)


def hard_negative_merges(pages: pd.DataFrame, pred: np.ndarray) -> int:
    """Hard-negative originals put in the cluster of the article they were chosen to resemble."""
    cluster_of_origin = {
        o: c for o, c, k in zip(pages["origin"], pred, pages["kind"], strict=True) if k == "original"
    }
    merged = 0
    for c, k, near in zip(pred, pages["kind"], pages["hard_negative_of"], strict=True):
        if k == "hard_negative" and near in cluster_of_origin and cluster_of_origin[near] == c:
            merged += 1
    return merged


def evaluate(pages: pd.DataFrame, methods: dict[str, Callable[[pd.DataFrame], np.ndarray]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, fn in methods.items():
        pred = fn(pages)
        scores = pair_scores(pages["origin"], pred)
        scores["hard_negative_merges"] = hard_negative_merges(pages, pred)
        out[name] = scores
    return out


def corpus_summary(pages: pd.DataFrame) -> dict[str, Any]:
    return {
        "pages": len(pages),
        "origins": int(pages["origin"].nunique()),
        "copies": int((pages["kind"] == "copy").sum()),
        "recrawls": int((pages["kind"] == "recrawl").sum()),
        "hard_negatives": int((pages["kind"] == "hard_negative").sum()),
        "mean_words": round(float(pages["text"].str.split().str.len().mean()), 1),
    }


def verified_clusters(minhashes: list, lsh: Any, threshold: float) -> np.ndarray:
    """Cluster labels from an LSH index's candidates whose estimated Jaccard reaches ``threshold``.

    Shared by the datasketch and rensa comparisons (both expose ``query`` and ``jaccard``).
    """
    from newsaudit.lib.minhash import connected_labels

    pairs = [
        (i, j)
        for i, m in enumerate(minhashes)
        for j in lsh.query(m)
        if j > i and m.jaccard(minhashes[j]) >= threshold
    ]
    return connected_labels(len(minhashes), np.asarray(pairs, dtype=np.int64).reshape(-1, 2))


def time_implementations(
    texts: list[str], gold: Sequence[Any], dup_params: Any, repeat: int = 3
) -> dict[str, Any]:
    """Signature + LSH + clusters with each MinHash implementation on the same texts and parameters.

    Wall-clock figures: written outside the DVC metrics (they vary run to run).
    """
    from datasketch import MinHash, MinHashLSH

    from newsaudit.lib.minhash import drop_frequent_lines

    p = dup_params
    fast_words = re.compile(r"[\W_]+")
    # the same input for every implementation: the stage's frequent-line filter applied once, untimed
    texts = drop_frequent_lines(texts, p.frequent_line_pages, p.frequent_line_min_keep)

    def shingles(text: str) -> list[str]:
        w = fast_words.sub(" ", text.lower()).split()
        return list({" ".join(w[i : i + p.shingle]) for i in range(max(len(w) - p.shingle + 1, 1))})

    def run_datasketch() -> np.ndarray:
        lsh = MinHashLSH(num_perm=p.num_perm, params=(p.bands, p.rows))
        ms = []
        for i, t in enumerate(texts):
            m = MinHash(num_perm=p.num_perm, seed=p.seed)
            m.update_batch([s.encode() for s in shingles(t)])
            lsh.insert(i, m)
            ms.append(m)
        return verified_clusters(ms, lsh, p.threshold)

    def run_rensa() -> np.ndarray:
        import rensa

        # rensa needs num_perm divisible by the bands: it gets bands x rows values
        lsh = rensa.RMinHashLSH(threshold=p.threshold, num_perm=p.bands * p.rows, num_bands=p.bands)
        ms = []
        for i, t in enumerate(texts):
            m = rensa.RMinHash(num_perm=p.bands * p.rows, seed=p.seed)
            m.update(shingles(t))
            lsh.insert(i, m)
            ms.append(m)
        return verified_clusters(ms, lsh, p.threshold)

    def run_ours() -> np.ndarray:
        res = near_duplicate_clusters(texts, [f"{i:07d}" for i in range(len(texts))], **p.lsh_kwargs())
        return res.labels

    impls = {"ours_numpy_oph": run_ours, "datasketch": run_datasketch}
    try:
        import rensa  # noqa: F401

        impls["rensa_rminhash"] = run_rensa
    except ImportError:
        log.info("rensa not installed: skipped in the timing table")
    out: dict[str, Any] = {"pages": len(texts), "words": int(sum(len(t.split()) for t in texts))}
    for name, fn in impls.items():
        best = math.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            labels = fn()
            best = min(best, time.perf_counter() - t0)
        out[name] = {
            "seconds": round(best, 3),
            "pages_per_s": round(len(texts) / best, 1),
            "ari_vs_truth": round(
                float(adjusted_rand_score(pd.factorize(pd.Series(list(gold)))[0], labels)), 4
            ),
        }
    base = out["datasketch"]["seconds"]
    for name in impls:
        out[name]["speedup_vs_datasketch"] = round(base / out[name]["seconds"], 2)
    return out


def split_pool(pool: list[str]) -> dict[str, list[str]]:
    """Dev and test halves of the pool, by a hash of the text (stable under pool order)."""
    halves: dict[str, list[str]] = {"dev": [], "test": []}
    for t in pool:
        halves["dev" if xxhash.xxh3_64_intdigest(t.encode("utf-8")) % 2 == 0 else "test"].append(t)
    return halves


def _rounded(scores: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}


def run_benchmark(
    params: SyndicationParams, dup_params: Any, timing: bool = False
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any] | None]:
    """Dev and test runs, the recall-vs-edit-rate curve (test half), optionally implementation timings."""
    pool = distinct_pool(load_articles(params), params.pool_max_jaccard)
    halves = split_pool(pool)
    sites = load_sites(params)
    if len(sites) <= params.max_copies:
        raise NewsauditError(
            f"duplicates_bench.max_copies = {params.max_copies} needs more than that many site wrappers, "
            f"found {len(sites)}"
        )
    methods = {
        "ours": lambda pages: method_ours(pages, dup_params),
        "text_dedup": lambda pages: method_text_dedup(pages, params),
        "exact_hash": method_exact,
    }
    report: dict[str, Any] = {
        "perturbation": params.model_dump(),
        "duplicates_params": dup_params.model_dump(),
        "pool": {
            "articles": len(pool),
            "dev": len(halves["dev"]),
            "test": len(halves["test"]),
            "sites": len(sites),
        },
    }
    timed_pages = []
    for name, seed in (("dev", params.dev_seed), ("test", params.test_seed)):
        pages = generate(halves[name], sites, params, seed)
        timed_pages.append(pages)
        scores = evaluate(pages, methods)
        report[name] = {
            "seed": seed,
            "corpus": corpus_summary(pages),
            "methods": {m: _rounded(s) for m, s in scores.items()},
        }
        log.info("%s: %s", name, {m: round(s["ari"], 4) for m, s in scores.items()})
    ours = report["test"]["methods"]["ours"]
    report["targets"] = {
        "ari_ge_0.95": ours["ari"] >= 0.95,
        "pair_precision_ge_0.99": ours["pair_precision"] >= 0.99,
    }
    rows = []
    for rate in params.edit_rates:
        pages = generate(halves["test"], sites, params, params.test_seed, edit_rate=rate)
        for m, s in evaluate(pages, methods).items():
            rows.append(
                {
                    "edit_rate": rate,
                    "method": m,
                    "ari": round(s["ari"], 4),
                    "pair_precision": round(s["pair_precision"], 4),
                    "pair_recall": round(s["pair_recall"], 4),
                }
            )
    curve = pd.DataFrame(rows)
    timings = None
    if timing:
        pages = pd.concat(timed_pages, ignore_index=True)
        gold = [f"{i}-{o}" for i, frame in enumerate(timed_pages) for o in frame["origin"]]
        timings = time_implementations(pages["text"].tolist(), gold, dup_params)
    return report, curve, timings
