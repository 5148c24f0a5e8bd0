"""The benchmark corpus: N news pages built from real mirrored text, with planted syndicated copies.

Real sentences (scrapinghub gold bodies, dragnet corrected texts, ConfliBERT rows; see
:func:`newsaudit.benchmarks.syndication_corpus.load_articles`) are recombined into *origin*
articles of about ``words_per_page`` words, in paragraphs of one to four sentences. Sentences, not
paragraphs, are the unit so that a 1M-page corpus (tens of millions of sentence draws from a few
hundred thousand sentences) still has distinct paragraphs: no two origins share a paragraph by
chance, and the frequent-line filter and site templates see what they would see on a real crawl.
Every page is wrapped in the header and footer lines of one of ``n_sites`` real article pages (as
in the duplicates benchmark). A share of origins is syndicated to other sites, each copy perturbed
by :func:`newsaudit.benchmarks.syndication_corpus.perturb` (truncation, repeated paragraphs, word
edits, case stripping, error-notice prefixes), and a share is crawled twice (exact copies).

Pages are written as JSONL shards (``id``, ``url``, ``source``, ``text``) so that ``newsaudit
ingest`` reads them like any corpus; the truth (``doc_id``, ``origin``, ``kind``) goes to
``truth.parquet`` next to the shards, outside the corpus folder.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from newsaudit.benchmarks.syndication_corpus import SyndicationParams, load_articles, load_sites, perturb
from newsaudit.core.config import Section

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“])")


class BenchCorpusParams(Section):
    """The generator part of ``params.yaml`` section ``bench``."""

    seed: int = 7
    words_per_page: int = 500
    min_sentence_words: int = 6
    max_paragraph_sentences: int = 4
    p_copies: float = 0.25  # share of origins syndicated to other sites
    max_copies: int = 3
    p_recrawl: float = 0.05  # share of origins captured twice (exact duplicates)
    edit_rate: float = 0.02
    shard_pages: int = 5000


def sentence_pool(texts: list[str], min_words: int) -> list[str]:
    """Distinct sentences of at least ``min_words`` words, in a stable order."""
    seen: dict[str, None] = {}
    for text in texts:
        for para in text.split("\n"):
            for sent in _SENTENCE_END.split(para.strip()):
                sent = " ".join(sent.split())
                if len(sent.split()) >= min_words:
                    seen.setdefault(sent, None)
    return list(seen)


def origin_article(
    sentences: list[str], words: np.ndarray, params: BenchCorpusParams, rng: np.random.Generator
) -> str:
    """One origin article: random sentences until ``words_per_page`` words, grouped in paragraphs."""
    # draw a little more than needed at once (vectorised), then cut at the word budget
    n_draw = max(4, int(params.words_per_page / max(1.0, float(words.mean())) * 1.5))
    idx = rng.integers(0, len(sentences), n_draw)
    cut = int(np.searchsorted(np.cumsum(words[idx]), params.words_per_page)) + 1
    idx = idx[:cut]
    paras, i = [], 0
    while i < len(idx):
        k = int(rng.integers(1, params.max_paragraph_sentences + 1))
        paras.append(" ".join(sentences[j] for j in idx[i : i + k]))
        i += k
    return "\n".join(paras)


def generate_pages(
    n_pages: int,
    sentences: list[str],
    sites: list[tuple[list[str], list[str]]],
    params: BenchCorpusParams,
    syn: SyndicationParams,
):
    """Yield ``(doc_id, site, origin, kind, text)`` until ``n_pages`` pages; deterministic in the seed."""
    rng = np.random.default_rng(params.seed)
    words = np.array([len(s.split()) for s in sentences], dtype=np.int64)
    vocab = sorted({w for s in sentences[:5000] for w in s.split() if w.isalpha()})
    copy_params = syn.model_copy(update={"p_error_prefix": syn.p_error_prefix})
    made, origin = 0, 0
    while made < n_pages:
        body = origin_article(sentences, words, params, rng)
        site_ids = rng.permutation(len(sites))
        home = int(site_ids[0])
        page = "\n".join([*sites[home][0], body, *sites[home][1]])
        out = [(home, "original", page)]
        if rng.random() < params.p_recrawl:
            out.append((home, "recrawl", page))
        if rng.random() < params.p_copies:
            for s in site_ids[1 : 1 + int(rng.integers(1, params.max_copies + 1))]:
                copy = perturb(body, copy_params, params.edit_rate, vocab, rng)
                out.append((int(s), "copy", "\n".join([*sites[s][0], copy, *sites[s][1]])))
        for site, kind, text in out[: n_pages - made]:
            yield f"bench-{made:08d}", site, origin, kind, text
            made += 1
        origin += 1


def build_corpus(n_pages: int, folder: Path, params: BenchCorpusParams, syn: SyndicationParams) -> Path:
    """Write ``folder/corpus/*.jsonl`` and ``folder/truth.parquet``; reuse them if already built.

    Returns the corpus folder. The folder name should carry ``n_pages`` and the seed (the caller's
    job); a finished build is marked by ``truth.parquet``, so an interrupted one is rebuilt.
    """
    corpus, truth_path = folder / "corpus", folder / "truth.parquet"
    if truth_path.is_file() and corpus.is_dir():
        log.info("bench corpus: reusing %s", folder)
        return corpus
    corpus.mkdir(parents=True, exist_ok=True)
    for old in corpus.glob("*.jsonl"):
        old.unlink()
    sentences = sentence_pool(load_articles(syn), params.min_sentence_words)
    sites = load_sites(syn)
    log.info("bench corpus: %d sentences, %d site wrappers -> %d pages", len(sentences), len(sites), n_pages)
    truth, shard, fh = [], -1, None
    try:
        for i, (doc_id, site, origin, kind, text) in enumerate(
            generate_pages(n_pages, sentences, sites, params, syn)
        ):
            if i % params.shard_pages == 0:
                if fh is not None:
                    fh.close()
                shard += 1
                fh = (corpus / f"pages-{shard:05d}.jsonl").open("w", encoding="utf-8")
            record = {
                "id": doc_id,
                "url": f"https://site{site:02d}.example/{origin}",
                "source": f"site{site:02d}",
                "text": text,
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            truth.append((doc_id, origin, kind, site))
    finally:
        if fh is not None:
            fh.close()
    frame = pd.DataFrame(truth, columns=["doc_id", "origin", "kind", "site"])
    frame.to_parquet(truth_path, index=False)
    return corpus
