"""Side-by-side benchmark of boilerplate removal against gold main text.

* scrapinghub article-extraction-benchmark (181 news pages; the test set, never trained or tuned
  on): text-only methods get each page's full visible text (our HTML-to-text, and the benchmark's
  own ``output/html-text.json``) and must return the article; the HTML mode (trafilatura) and the
  published extractors' outputs shipped in ``output/*.json`` are scored in the same run with the
  benchmark's metric.
* trafilatura-eval (must-keep / must-drop segments): the line model is a training source there,
  so its figures come from out-of-fold predictions written by ``train-linemodel``.

Pages are decoded with :func:`newsaudit.training.linemodel_gold.decode_html`, as the line model's
training pages are (see there why it is not :func:`newsaudit.lib.text.decode_bytes`). Stage:
``bench-boilerplate`` (:mod:`newsaudit.stages.bench_boilerplate`).
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError
from newsaudit.lib.extraction_metric import segment_counts, segment_scores, shingle_scores
from newsaudit.lib.text import html_to_text
from newsaudit.pipeline.reference import annotate_boilerplate
from newsaudit.steps.boilerplate.linemodel import LineModel
from newsaudit.steps.boilerplate.lines import split_lines
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.training.linemodel_gold import decode_html, trafilatura_eval_entries

log = logging.getLogger(__name__)

SCRAPINGHUB = "scrapinghub-article-extraction-benchmark"
TRAFILATURA_EVAL = "trafilatura-eval"


class BoilerplateBenchParams(Section):
    """``bench_boilerplate`` section: the scrapinghub / trafilatura-eval benchmark."""

    n_bootstrap: int = 1000
    seed: int = 0
    baseline_min_words: int = 15
    html_mode: str = "trafilatura"


def html_main_text(html: str) -> str:
    """HTML mode: trafilatura's main-text extraction (article only, no comments)."""
    import trafilatura

    return trafilatura.extract(html, include_comments=False) or ""


def keep_min_words(text: str, min_words: int) -> str:
    """Baseline: the lines of at least ``min_words`` words."""
    return "\n".join(t for t in split_lines(text).texts if len(t.split()) >= min_words)


def line_model_text(text: str, model: LineModel) -> str:
    page = split_lines(text)
    keep = model.keep_lines(page)
    return "\n".join(t for t, k in zip(page.texts, keep, strict=True) if k)


def _pipeline_texts(
    doc_ids: list[str], texts: list[str], model: LineModel, bp: BoilerplateParams
) -> list[str]:
    """The full boilerplate stage (errors, templates, patterns, line model) on pages without source."""
    pages = pd.DataFrame(
        {
            "doc_id": doc_ids,
            "source": [None] * len(doc_ids),
            "raw_text": texts,
            "status": ["accepted"] * len(doc_ids),
        }
    )
    out, _ = annotate_boilerplate(pages, bp, model)
    return [str(t) if isinstance(t, str) else "" for t in out["clean_text"]]


def _published(root: Path) -> dict[str, dict[str, str]]:
    out = {}
    for path in sorted((root / "output").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "output" in data and isinstance(data["output"], dict):
            data = data["output"]
        out[path.stem] = {k: (v or {}).get("articleBody", "") or "" for k, v in data.items()}
    return out


def _rounded(d: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def scrapinghub_table(
    root: Path, model: LineModel, bench: BoilerplateBenchParams, bp: BoilerplateParams
) -> list[dict]:
    gt = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(gt)
    golds = [gt[k].get("articleBody", "") or "" for k in keys]
    htmls = {}
    for k in tqdm(keys, desc="scrapinghub html", unit="page"):
        with gzip.open(root / "html" / f"{k}.html.gz", "rb") as fh:
            htmls[k] = decode_html(fh.read())
    published = _published(root)
    inputs = {
        "newsaudit html_to_text": [html_to_text(htmls[k]) for k in keys],
        "output/html-text.json": [published.get("html-text", {}).get(k, "") for k in keys],
    }
    rows: list[dict] = []

    def score(name: str, kind: str, inp: str, preds: list[str]) -> None:
        s = shingle_scores(golds, preds, n_bootstrap=bench.n_bootstrap, seed=bench.seed)
        rows.append({"method": name, "kind": kind, "input": inp, **_rounded(s)})

    for inp, texts in inputs.items():
        score("full text, no cleaning", "text-only", inp, texts)
        score(
            f"lines >= {bench.baseline_min_words} words",
            "text-only",
            inp,
            [keep_min_words(t, bench.baseline_min_words) for t in texts],
        )
        score(
            "newsaudit line model",
            "text-only",
            inp,
            [line_model_text(t, model) for t in tqdm(texts, desc="line model", unit="page")],
        )
        score("newsaudit boilerplate stage", "text-only", inp, _pipeline_texts(keys, texts, model, bp))
    score(
        f"newsaudit HTML mode ({bench.html_mode})",
        "html",
        "html/*.html.gz",
        [html_main_text(htmls[k]) for k in tqdm(keys, desc="html mode", unit="page")],
    )
    for name, preds in published.items():
        score(f"published: {name}", "html", f"output/{name}.json", [preds.get(k, "") for k in keys])
    return rows


def trafilatura_eval_table(root: Path, oof_path: Path, bench: BoilerplateBenchParams) -> list[dict]:
    entries = trafilatura_eval_entries(root)
    oof = {}
    if oof_path.is_file():
        df = pd.read_parquet(oof_path)
        oof = dict(zip(df["doc_id"], df["clean_text"], strict=True))
    else:
        log.warning("%s missing: the line model is not scored on trafilatura-eval", oof_path)
    methods: dict[str, Callable[[str, str], str | None]] = {
        "full text, no cleaning": lambda doc_id, html: html_to_text(html),
        f"lines >= {bench.baseline_min_words} words": lambda doc_id, html: keep_min_words(
            html_to_text(html), bench.baseline_min_words
        ),
        f"newsaudit HTML mode ({bench.html_mode})": lambda doc_id, html: html_main_text(html),
    }
    if oof:
        methods["newsaudit line model (out-of-fold)"] = lambda doc_id, html: oof.get(doc_id)
    per: dict[str, list] = {m: [] for m in methods}
    for doc_id, path, entry in tqdm(entries, desc="trafilatura-eval", unit="page"):
        html = decode_html(path.read_bytes())
        for m, fn in methods.items():
            try:
                pred = fn(doc_id, html)
            except Exception as exc:  # a crash counts as a full miss, as in trafilatura's own evaluation
                log.debug("%s crashed on %s: %s", m, doc_id, exc)
                pred = None
            per[m].append(segment_counts(pred, entry["with"], entry["without"]))
    return [{"method": m, **_rounded(segment_scores(v))} for m, v in per.items()]


def print_table(rows: list[dict], title: str, cols: list[str]) -> None:
    print(f"\n{title}")
    header = f"{'method':<44} {'input':<26} " + " ".join(f"{c:>15}" for c in cols)
    print(header)
    print("-" * len(header))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            std = r.get(f"{c}_std")
            cells.append(f"{v:.3f} ± {std:.3f}" if std is not None else f"{v:.3f}")
        print(f"{r['method']:<44} {r.get('input', ''):<26} " + " ".join(f"{c:>15}" for c in cells))


def run_benchmark(
    external: Path, model: LineModel, oof_path: Path, bench: BoilerplateBenchParams, bp: BoilerplateParams
) -> dict:
    """Both tables (printed as they are made) as one JSON-ready result."""
    root = external / SCRAPINGHUB
    if not (root / "ground-truth.json").is_file():
        raise NewsauditError(f"{root}/ground-truth.json is missing (run `newsaudit fetch`)")
    sh = scrapinghub_table(root, model, bench, bp)
    print_table(
        sh,
        "scrapinghub article-extraction-benchmark (181 pages; F1 of averaged per-doc shingle P/R, "
        "± bootstrap std)",
        ["f1", "precision", "recall", "accuracy"],
    )
    te_root = external / TRAFILATURA_EVAL
    te = trafilatura_eval_table(te_root, oof_path, bench) if (te_root / "evaldata.json").is_file() else []
    if te:
        print_table(
            te, "trafilatura-eval segments (corpus-level counts)", ["f1", "precision", "recall", "accuracy"]
        )
    return {"scrapinghub": sh, "trafilatura_eval": te, "n_bootstrap": bench.n_bootstrap, "seed": bench.seed}
