"""The syndication benchmark's gold set: pages built from real text with known origins.

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

Gold: pages sharing an origin. The texts are what the duplicates stage would see if the
boilerplate stage removed nothing: a pessimistic setting (real input has most wrapper lines
removed). Scoring and the methods compared: :mod:`newsaudit.benchmarks.syndication`.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xxhash

from newsaudit.core import paths
from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError
from newsaudit.datasets.conflibert import DATASETS, SPLITS, read_split
from newsaudit.lib.minhash import near_duplicate_clusters, normalize_array, words_of

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
    """``params.yaml`` section ``bench_duplicates``."""

    conflibert: str = str(paths.EXTERNAL / "conflibert")
    scrapinghub: str = str(paths.EXTERNAL / "scrapinghub-article-extraction-benchmark")
    dragnet: str = str(paths.EXTERNAL / "dragnet-data")
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


def nearest_topic(pool: list[str]) -> np.ndarray:
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
    nearest = nearest_topic(pool)
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


def split_pool(pool: list[str]) -> dict[str, list[str]]:
    """Dev and test halves of the pool, by a hash of the text (stable under pool order)."""
    halves: dict[str, list[str]] = {"dev": [], "test": []}
    for t in pool:
        halves["dev" if xxhash.xxh3_64_intdigest(t.encode("utf-8")) % 2 == 0 else "test"].append(t)
    return halves
