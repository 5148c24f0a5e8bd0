"""The line model: which lines of a plain-text page dump are article text.

Training data are real pages whose gold main text is known (dragnet, CleanEval, trafilatura-eval;
never the scrapinghub benchmark, which is the test set). Each page's full visible text is produced
with the same HTML-to-text conversion the corpus goes through, split into lines, and every line is
labelled by aligning its tokens with the gold text (token-level monotonic alignment, so a line
counts as content when most of its tokens are matched in order, not only when it equals a gold
line). trafilatura-eval has no full gold text, only must-keep / must-drop segments, so only the
lines containing one of those are labelled there.

Two gradient-boosted models are stacked: the first sees per-line features (own, neighbours,
position, densest run); the second adds windows over the first model's out-of-fold probabilities,
which smooths isolated decisions (the article is usually one contiguous run). The decision
threshold is chosen by cross-validation on the training pages with the benchmark's own metric.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from tqdm import tqdm

from newsaudit.steps.boilerplate.lines import (
    PageLines,
    context_features,
    context_features_batch,
    contiguous_filter,
    line_features,
    line_features_and_tokens,
    split_lines,
    tokens,
)
from newsaudit.lib.extraction_metric import shingle_scores, shingles
from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError

log = logging.getLogger(__name__)

_DRAGNET_COMMENTS = re.compile(r"^\s*[!@#$%^&*()\s]{4,}COMMENTS\s*$", re.MULTILINE)
_CLEANEVAL_TAG = re.compile(r"^\s*<[phl]>\s*", re.MULTILINE)
_CLEANEVAL_TEXT_HEADER = re.compile(r"^\s*<text\b[^>]*>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?\s*([\w-]+)""", re.IGNORECASE)
_WS = re.compile(r"\s+")


class LineModelParams(Section):
    """``linemodel`` section of params.yaml: training of the line model."""

    sources: list[str] = ["dragnet", "cleaneval", "trafilatura-eval"]
    # Per-source weight of one page (every page has the same total weight within a source, as the
    # benchmark averages per document).
    source_weights: dict[str, float] = {"dragnet": 1.0, "cleaneval": 1.0, "trafilatura-eval": 0.5}
    # A line is content when at least this share of its tokens is aligned with the gold text.
    label_min_match: float = 0.5
    # Aligned blocks shorter than this many tokens only count when they cover a whole line
    # (isolated common words like "the" would otherwise match anywhere).
    align_min_block: int = 3
    cv_folds: int = 4
    seed: int = 13
    max_iter: int = 300
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    threshold_grid: list[float] = [round(0.2 + 0.025 * i, 3) for i in range(25)]
    # Contiguity decoder (see boilerplate_lines.contiguous_filter), chosen by CV like the threshold.
    run_gap_grid: list[int] = [2, 4, 8]
    run_frac_grid: list[float] = [0.0, 0.05, 0.1, 0.2, 0.35]


# --------------------------------------------------------------------------------------------
# HTML and gold files


def decode_html(raw: bytes) -> str:
    """Decode page bytes: UTF-8 if valid, else the charset the page declares, else cp1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET.search(raw[:4096])
    if m:
        try:
            return raw.decode(m.group(1).decode("ascii", "ignore"), errors="replace")
        except LookupError:
            pass
    return raw.decode("cp1252", errors="replace")


def html_to_text(html: str) -> str:
    """Full visible text of a page, as the ingest stage produces it."""
    try:  # the project's own conversion, once ingest provides it
        from newsaudit.steps.ingest.readers import html_to_text as ingest_html_to_text  # type: ignore[attr-defined]
    except ImportError:
        import html_text

        if not html.strip():
            return ""
        return html_text.extract_text(html, guess_layout=True)
    return ingest_html_to_text(html)


@dataclass
class GoldPage:
    doc_id: str
    source: str
    text: str  # full visible text
    gold: str | None = None  # full gold main text (dragnet, cleaneval)
    with_segs: list[str] = field(default_factory=list)  # trafilatura-eval
    without_segs: list[str] = field(default_factory=list)


def _dragnet_pages(root: Path) -> Iterator[GoldPage]:
    for gold_path in sorted((root / "Corrected").glob("*.html.corrected.txt")):
        stem = gold_path.name.removesuffix(".html.corrected.txt")
        html_path = root / "HTML" / f"{stem}.html"
        if not html_path.is_file():
            continue
        gold = decode_html(gold_path.read_bytes())
        # Visitor comments are not the article: keep the part above the comments marker.
        gold = _DRAGNET_COMMENTS.split(gold, maxsplit=1)[0]
        yield GoldPage(f"dragnet/{stem}", "dragnet", html_to_text(decode_html(html_path.read_bytes())), gold)


def _cleaneval_gold(raw: str) -> str:
    lines = raw.split("\n")
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    return _CLEANEVAL_TAG.sub("", "\n".join(lines))


def _cleaneval_pages(root: Path) -> Iterator[GoldPage]:
    for split in ("cleaneval-dev", "cleaneval-final"):
        for gold_path in sorted((root / split / "GoldStandard").glob("*.txt")):
            html_path = root / split / "input" / f"{gold_path.stem}.html"
            if not html_path.is_file():
                continue
            html = _CLEANEVAL_TEXT_HEADER.sub("", decode_html(html_path.read_bytes()), count=1)
            gold = _cleaneval_gold(decode_html(gold_path.read_bytes()))
            yield GoldPage(f"cleaneval/{split}/{gold_path.stem}", "cleaneval", html_to_text(html), gold)


def trafilatura_eval_entries(root: Path) -> list[tuple[str, Path, dict]]:
    """(doc_id, html path, evaldata entry) for every evaldata entry whose page is present."""
    data = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    out = []
    for url in sorted(data):
        entry = data[url]
        for sub in ("eval", "cache"):
            path = root / "tests" / sub / entry["file"]
            if path.is_file():
                out.append((f"trafilatura-eval/{entry['file']}", path, entry))
                break
    return out


def _trafilatura_pages(root: Path) -> Iterator[GoldPage]:
    for doc_id, path, entry in trafilatura_eval_entries(root):
        text = html_to_text(decode_html(path.read_bytes()))
        yield GoldPage(doc_id, "trafilatura-eval", text, None, list(entry["with"]), list(entry["without"]))


SOURCE_DIRS = {"dragnet": "dragnet-data", "cleaneval": "cleaneval", "trafilatura-eval": "trafilatura-eval"}
_READERS = {"dragnet": _dragnet_pages, "cleaneval": _cleaneval_pages, "trafilatura-eval": _trafilatura_pages}


def load_gold_pages(external: Path, sources: list[str]) -> list[GoldPage]:
    pages: list[GoldPage] = []
    for source in sources:
        if source not in _READERS:
            raise NewsauditError(
                f"linemodel.sources: unknown training source '{source}' (known: {sorted(_READERS)}); "
                "the scrapinghub benchmark is the test set and is never a training source"
            )
        root = external / SOURCE_DIRS[source]
        if not root.is_dir():
            raise NewsauditError(f"training source {source}: {root} is missing (run `newsaudit fetch`)")
        found = list(tqdm(_READERS[source](root), desc=f"html->text {source}", unit="page"))
        log.info("%s: %d gold pages", source, len(found))
        pages.extend(found)
    return pages


def pages_to_frame(pages: list[GoldPage]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": [p.doc_id for p in pages],
            "source": [p.source for p in pages],
            "text": [p.text for p in pages],
            "gold": [p.gold for p in pages],
            "with_segs": [json.dumps(p.with_segs, ensure_ascii=False) for p in pages],
            "without_segs": [json.dumps(p.without_segs, ensure_ascii=False) for p in pages],
        }
    )


def frame_to_pages(df: pd.DataFrame) -> list[GoldPage]:
    return [
        GoldPage(
            r.doc_id,
            r.source,
            r.text,
            r.gold if isinstance(r.gold, str) else None,
            json.loads(r.with_segs),
            json.loads(r.without_segs),
        )
        for r in df.itertuples(index=False)
    ]


# --------------------------------------------------------------------------------------------
# Alignment


def align_line_match(page: PageLines, gold: str, min_block: int = 3) -> np.ndarray:
    """Share of each line's tokens aligned (in order) with the gold text's tokens."""
    line_toks = [[t.lower() for t in tokens(line)] for line in page.texts]
    flat = [t for lt in line_toks for t in lt]
    owner = np.repeat(np.arange(len(line_toks)), [len(lt) for lt in line_toks]).astype(int)
    gold_toks = [t.lower() for t in tokens(gold)]
    matched = np.zeros(len(flat), dtype=bool)
    if flat and gold_toks:
        sm = SequenceMatcher(None, flat, gold_toks, autojunk=False)
        for a, _b, size in sm.get_matching_blocks():
            if size == 0:
                continue
            whole_line = owner[a] == owner[a + size - 1] and len(line_toks[owner[a]]) == size
            if size >= min_block or whole_line:
                matched[a : a + size] = True
    n_lines = len(line_toks)
    hits = np.bincount(owner[matched], minlength=n_lines).astype(float) if n_lines else np.zeros(0)
    sizes = np.array([max(1, len(lt)) for lt in line_toks], dtype=float)
    return hits / sizes if n_lines else np.zeros(0)


def segment_line_labels(page: PageLines, with_segs: list[str], without_segs: list[str]) -> np.ndarray:
    """1 for lines holding a must-keep segment, 0 for a must-drop one, NaN when unlabelled/ambiguous."""
    labels = np.full(len(page.texts), np.nan)
    w = [_WS.sub(" ", s).strip() for s in with_segs if s.strip()]
    wo = [_WS.sub(" ", s).strip() for s in without_segs if s.strip()]
    for i, line in enumerate(page.texts):
        norm = _WS.sub(" ", line)
        pos = any(s in norm or (len(norm) >= 30 and norm in s) for s in w)
        neg = any(s in norm for s in wo)
        if pos != neg:
            labels[i] = 1.0 if pos else 0.0
    return labels


# --------------------------------------------------------------------------------------------
# Training


@dataclass
class LineTable:
    """Stacked per-line features of many pages."""

    X: np.ndarray
    names: list[str]
    y: np.ndarray  # 1/0, NaN when unlabelled
    weight: np.ndarray
    doc: np.ndarray  # page index of each line
    n_tok: np.ndarray
    texts: list[str]


def build_line_table(pages: list[GoldPage], params: LineModelParams) -> LineTable:
    xs, ys, ws, docs, ntoks, texts = [], [], [], [], [], []
    names: list[str] = []
    for i, page in enumerate(tqdm(pages, desc="line features", unit="page")):
        lines = split_lines(page.text)
        if not lines.texts:
            continue
        X, names = line_features(lines)
        n_tok = np.array([len(tokens(t)) for t in lines.texts], dtype=float)
        if page.gold is not None:
            y = align_line_match(lines, page.gold, params.align_min_block) >= params.label_min_match
            y = y.astype(float)
        else:
            y = segment_line_labels(lines, page.with_segs, page.without_segs)
        # Token-proportional weights summing to the source weight per page: the benchmark scores
        # shingles and averages per document.
        w = np.where(np.isnan(y), 0.0, n_tok + 1.0)
        if w.sum() > 0:
            w = w / w.sum() * params.source_weights.get(page.source, 1.0)
        xs.append(X)
        ys.append(y)
        ws.append(w)
        docs.append(np.full(len(y), i))
        ntoks.append(n_tok)
        texts.extend(lines.texts)
    return LineTable(
        np.vstack(xs),
        names,
        np.concatenate(ys),
        np.concatenate(ws),
        np.concatenate(docs),
        np.concatenate(ntoks),
        texts,
    )


def _new_model(params: LineModelParams) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=params.max_iter,
        learning_rate=params.learning_rate,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        early_stopping=False,
        random_state=params.seed,
    )


def _fit(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, params: LineModelParams
) -> HistGradientBoostingClassifier:
    mask = w > 0
    model = _new_model(params)
    model.fit(X[mask], y[mask].astype(int), sample_weight=w[mask])
    return model


def stage2_matrix(
    table_doc: np.ndarray, prob1: np.ndarray, n_tok: np.ndarray, X1: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """First-pass features plus context windows over first-pass probabilities, page by page."""
    parts, names = [], []
    for d in np.unique(table_doc):
        idx = np.flatnonzero(table_doc == d)
        C, names = context_features(prob1[idx], n_tok[idx])
        parts.append((idx, C))
    C_all = np.zeros((len(prob1), len(names)))
    for idx, C in parts:
        C_all[idx] = C
    return np.hstack([X1, C_all]), names


def _doc_slices(doc: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(doc, kind="stable")
    bounds = np.flatnonzero(np.diff(doc[order])) + 1
    return {int(doc[g[0]]): g for g in np.split(order, bounds) if len(g)}


def kept_texts(
    table: LineTable, prob: np.ndarray, threshold: float, doc_ids: list[int], gap: int = 0, frac: float = 0.0
) -> list[str]:
    slices = _doc_slices(table.doc)
    out = []
    for d in doc_ids:
        idx = slices.get(d, np.zeros(0, dtype=int))
        keep = contiguous_filter(prob[idx] >= threshold, table.n_tok[idx], gap, frac)
        out.append("\n".join(table.texts[i] for i, k in zip(idx, keep, strict=True) if k))
    return out


@dataclass
class LineModel:
    """The two stacked classifiers and the decision threshold."""

    stage1: HistGradientBoostingClassifier
    stage2: HistGradientBoostingClassifier
    threshold: float
    feature_names: list[str]
    context_names: list[str]
    run_gap: int = 0
    run_min_mass_frac: float = 0.0

    def predict_proba_batch(self, pages: list[PageLines]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities of all lines of ``pages`` (in order), with each line's tokens and each
        page's line count. One model call per stage for the whole batch: per-page calls spent
        most of their time in scikit-learn's per-call overhead."""
        sizes = np.array([len(p.texts) for p in pages], dtype=np.int64)
        if not sizes.sum():
            return np.zeros(0), np.zeros(0), sizes
        X, _, n_tok = line_features_and_tokens(pages)
        p1 = self.stage1.predict_proba(X)[:, 1]
        C, _ = context_features_batch(p1, n_tok, sizes)
        return self.stage2.predict_proba(np.hstack([X, C]))[:, 1], n_tok, sizes

    def keep_lines_batch(self, pages: list[PageLines]) -> list[np.ndarray]:
        prob, n_tok, sizes = self.predict_proba_batch(pages)
        out, pos = [], 0
        for n in sizes:
            keep = prob[pos : pos + n] >= self.threshold
            out.append(contiguous_filter(keep, n_tok[pos : pos + n], self.run_gap, self.run_min_mass_frac))
            pos += n
        return out

    def predict_proba_lines(self, page: PageLines) -> np.ndarray:
        return self.predict_proba_batch([page])[0]

    def keep_lines(self, page: PageLines) -> np.ndarray:
        return self.keep_lines_batch([page])[0]


def cross_validate(
    pages: list[GoldPage], table: LineTable, params: LineModelParams
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Out-of-fold probabilities of both stages, the CV-chosen threshold and the CV report."""
    folds = GroupKFold(n_splits=params.cv_folds)
    p1 = np.zeros(len(table.y))
    for k, (tr, te) in enumerate(folds.split(table.X, groups=table.doc)):
        log.info("stage 1, fold %d/%d", k + 1, params.cv_folds)
        p1[te] = _fit(table.X[tr], table.y[tr], table.weight[tr], params).predict_proba(table.X[te])[:, 1]
    X2, _ = stage2_matrix(table.doc, p1, table.n_tok, table.X)
    p2 = np.zeros(len(table.y))
    for k, (tr, te) in enumerate(folds.split(X2, groups=table.doc)):
        log.info("stage 2, fold %d/%d", k + 1, params.cv_folds)
        p2[te] = _fit(X2[tr], table.y[tr], table.weight[tr], params).predict_proba(X2[te])[:, 1]
    gold_docs = [i for i, p in enumerate(pages) if p.gold is not None]
    # Gold shingles once, not once per threshold.
    golds = [shingles(pages[i].gold or "") for i in gold_docs]
    grid = {}
    for thr in params.threshold_grid:
        preds = kept_texts(table, p2, thr, gold_docs)
        grid[thr] = shingle_scores(golds, preds, n_bootstrap=0)["f1"]
    best = max(sorted(grid), key=lambda t: (grid[t], -abs(t - 0.5)))
    report: dict = {
        "threshold": best,
        "threshold_grid_f1": {f"{t:.3f}": round(v, 4) for t, v in grid.items()},
    }
    decoder = {}
    for gap in params.run_gap_grid:
        for frac in params.run_frac_grid:
            preds = kept_texts(table, p2, best, gold_docs, gap, frac)
            decoder[(gap, frac)] = shingle_scores(golds, preds, n_bootstrap=0)["f1"]
    # Ties go to the weaker filter (smaller fraction, then larger gap).
    gap, frac = max(sorted(decoder), key=lambda k: (decoder[k], -k[1], k[0]))
    report["run_gap"], report["run_min_mass_frac"] = gap, frac
    report["run_grid_f1"] = {f"gap={g},frac={f}": round(v, 4) for (g, f), v in sorted(decoder.items())}
    by_source: dict[str, dict] = {}
    stages = (
        ("stage1", p1, 0.5, 0, 0.0),
        ("stage2", p2, best, 0, 0.0),
        ("stage2+run", p2, best, gap, frac),
    )
    for stage, prob, thr, g, f in stages:
        for source in sorted({p.source for p in pages}):
            docs = [i for i in gold_docs if pages[i].source == source]
            if not docs:
                continue
            s = shingle_scores(
                [pages[i].gold or "" for i in docs],
                kept_texts(table, prob, thr, docs, g, f),
                n_bootstrap=200,
                seed=params.seed,
            )
            by_source.setdefault(source, {})[stage] = {k: round(v, 4) for k, v in s.items()}
        labelled = table.weight > 0
        acc = float(
            np.average((prob[labelled] >= thr) == (table.y[labelled] == 1), weights=table.weight[labelled])
        )
        report[f"{stage}_weighted_line_accuracy"] = round(acc, 4)
    report["cv_shingle_scores"] = by_source
    return p1, p2, report


def train_line_model(
    pages: list[GoldPage], params: LineModelParams
) -> tuple[LineModel, dict, tuple[LineTable, np.ndarray]]:
    """Cross-validate (threshold, report), then fit both stages on all pages.

    Returns the model, the card (CV report) and the out-of-fold stage-2 probability of every line,
    which the benchmark uses to score the training sources without leakage.
    """
    table = build_line_table(pages, params)
    log.info(
        "line table: %d lines, %d labelled, %d features",
        len(table.y),
        int((table.weight > 0).sum()),
        table.X.shape[1],
    )
    p1_oof, p2_oof, report = cross_validate(pages, table, params)
    stage1 = _fit(table.X, table.y, table.weight, params)
    # The final second stage learns from out-of-fold first-stage probabilities, as at test time
    # the first stage has never seen the page.
    X2, cnames = stage2_matrix(table.doc, p1_oof, table.n_tok, table.X)
    stage2 = _fit(X2, table.y, table.weight, params)
    model = LineModel(
        stage1,
        stage2,
        float(report["threshold"]),
        table.names,
        cnames,
        int(report["run_gap"]),
        float(report["run_min_mass_frac"]),
    )
    report["n_pages"] = {s: sum(p.source == s for p in pages) for s in sorted({p.source for p in pages})}
    report["n_lines"] = len(table.y)
    report["n_labelled_lines"] = int((table.weight > 0).sum())
    report["positive_share"] = round(float(np.nanmean(table.y)), 4)
    return model, report, (table, p2_oof)


# --------------------------------------------------------------------------------------------
# Persistence (skops: a portable, inspectable format instead of pickle)


def save_line_model(model: LineModel, path: Path) -> None:
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(
        {
            "stage1": model.stage1,
            "stage2": model.stage2,
            "threshold": model.threshold,
            "feature_names": model.feature_names,
            "context_names": model.context_names,
            "run_gap": model.run_gap,
            "run_min_mass_frac": model.run_min_mass_frac,
        },
        path,
    )


def load_line_model(path: str | Path) -> LineModel:
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise NewsauditError(f"line model {path} does not exist (run `newsaudit train-linemodel` first)")
    untrusted = sio.get_untrusted_types(file=path)
    # Only scikit-learn / numpy internals may be loaded; anything else means a foreign file.
    bad = [t for t in untrusted if not t.startswith(("sklearn.", "numpy.", "builtins."))]
    if bad:
        raise NewsauditError(f"line model {path}: refusing to load unexpected types {bad}")
    obj = sio.load(path, trusted=untrusted)
    model = LineModel(
        obj["stage1"],
        obj["stage2"],
        float(obj["threshold"]),
        list(obj["feature_names"]),
        list(obj["context_names"]),
        int(obj.get("run_gap", 0)),
        float(obj.get("run_min_mass_frac", 0.0)),
    )
    page = split_lines("probe")
    _, names = line_features(page)
    if names != model.feature_names:
        raise NewsauditError(f"line model {path} was trained with other features; retrain it")
    return model


def read_gz_text(path: Path) -> str:
    with gzip.open(path, "rb") as fh:
        return decode_html(fh.read())


def oof_frame(pages: list[GoldPage], table: LineTable, prob: np.ndarray, model: LineModel) -> pd.DataFrame:
    """Out-of-fold clean text of every training page (no page was cleaned by a model that saw it)."""
    ids = list(range(len(pages)))
    texts = kept_texts(table, prob, model.threshold, ids, model.run_gap, model.run_min_mass_frac)
    return pd.DataFrame(
        {"doc_id": [p.doc_id for p in pages], "source": [p.source for p in pages], "clean_text": texts}
    )


def train_and_save(
    external: Path, params: LineModelParams, model_path: Path, card_path: Path, oof_path: Path
) -> dict:
    import sklearn

    pages = load_gold_pages(external, params.sources)
    model, report, (table, p2_oof) = train_line_model(pages, params)
    save_line_model(model, model_path)
    card = {
        "model": "two stacked HistGradientBoostingClassifier (per-line features, then windows over "
        "out-of-fold first-stage probabilities)",
        "training_sources": params.sources,
        "test_set_never_used": "scrapinghub-article-extraction-benchmark",
        "params": params.model_dump(),
        "scikit_learn": sklearn.__version__,
        "features": model.feature_names,
        "context_features": model.context_names,
        "cv": report,
    }
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(json.dumps(_round_floats(card), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    oof_path.parent.mkdir(parents=True, exist_ok=True)
    oof_frame(pages, table, p2_oof, model).to_parquet(oof_path, index=False)
    log.info("line model -> %s (CV threshold %.3f); card -> %s", model_path, model.threshold, card_path)
    return card


def _round_floats(obj, ndigits: int = 4):
    if isinstance(obj, float):
        return round(obj, ndigits)
    if isinstance(obj, dict):
        return {str(k): _round_floats(v, ndigits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_round_floats(v, ndigits) for v in obj]
    return obj
