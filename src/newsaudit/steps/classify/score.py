"""``predict``: apply the conflict-event classifier to the corpus, or to any texts.

Stage mode (``newsaudit predict``, no INPUT): reads the cleaned, deduplicated pages table
(``data/interim/pages_dedup.parquet``), scores the pages that can be scored (accepted, not an error
page, the representative of its near-duplicate cluster, long enough, in a language the model knows)
and writes ``data/processed/pages.parquet`` with ``conflict_prob``, ``conflict_label``,
``classified``, ``unclassified_reason``, ``conflict_terms`` and ``cluster_size``, plus corpus
statistics by source and language in ``reports/metrics/predictions.json``. Pages that are not
scored get nulls and a reason: a French page is never silently counted as "not a conflict event".

Ad-hoc mode (``newsaudit predict INPUT --out OUTPUT``): INPUT is a ``.txt`` file, a folder of
``.txt``/``.html`` pages, or JSONL / CSV / Parquet with a ``text`` column (optional ``id``); OUTPUT
(``.jsonl`` or ``.csv``) gets ``id``, ``conflict_prob``, ``conflict_label``, ``language`` and
``unclassified_reason`` for every input text.

``annotate_predictions(pages, model, params)`` is the pure core used by both and by ``audit``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from newsaudit.steps.classify.model import load_model
from newsaudit.core.config import Section, engine_of, load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import write_json
from newsaudit.engines.parallel import STATE, ordered_map

log = logging.getLogger(__name__)


class PredictParams(Section):
    model: str = "models/conflict_clf.skops"
    pages: str = "data/interim/pages_dedup.parquet"
    out: str = "data/processed/pages.parquet"
    predictions: str = "data/processed/predictions.parquet"
    stats: str = "reports/metrics/predictions.json"
    text_column: str = "clean_text"
    languages: list[str] = ["en"]  # the model is English-only
    min_chars: int = 200  # below this a page is a stub, not an article
    top_terms: int = 5
    batch_size: int = 2000  # pages vectorised at once (bounds memory)
    workers: int = 2  # processes scoring batches


# The predictions table: one row per page, what the classify stage decided and why.
PREDICTION_COLUMNS = [
    "doc_id",
    "source",
    "language",
    "near_dup_cluster",
    "cluster_size",
    "classified",
    "unclassified_reason",
    "conflict_prob",
    "conflict_label",
    "conflict_terms",
]


# --- pure core --------------------------------------------------------------------------------


def unclassified_reason(pages: pd.DataFrame, params: PredictParams) -> pd.Series:
    """Why each row is not scored (None when it is). First matching reason wins.

    Columns a table does not have are not checked (ad-hoc inputs have no status or clusters).
    """
    n = len(pages)
    reason = pd.Series([None] * n, index=pages.index, dtype=object)

    def mark(mask: pd.Series, why: str) -> None:
        reason[mask.fillna(False).astype(bool) & reason.isna()] = why

    if "status" in pages:
        mark(pages["status"] != "accepted", "rejected")
    if "is_error_page" in pages:
        mark(pages["is_error_page"].astype("boolean"), "error_page")
    if "is_representative" in pages:
        mark(~pages["is_representative"].astype("boolean"), "near_duplicate")
    missing = pd.Series([None] * n, index=pages.index, dtype=object)
    text = pages.get(params.text_column, missing)
    mark(text.isna(), "no_text")
    mark(text.fillna("").str.strip().str.len() < params.min_chars, "too_short")
    if "language" in pages:
        mark(pages["language"].isna(), "language_unknown")
        mark(~pages["language"].isin(params.languages), "language_not_supported")
    return reason


def _top_terms(x, coef: np.ndarray, names: np.ndarray, k: int) -> list[str]:
    """Per row of the tf-idf matrix: the k features that pushed it most towards 'conflict event'."""
    x = x.tocsr()
    out = []
    for i in range(x.shape[0]):
        lo, hi = x.indptr[i], x.indptr[i + 1]
        idx = x.indices[lo:hi]
        contrib = x.data[lo:hi] * coef[idx]
        order = np.argsort(-contrib, kind="stable")[:k]
        out.append("; ".join(str(names[idx[j]]).split("__", 1)[-1] for j in order if contrib[j] > 0))
    return out


def score_texts(bundle: dict[str, Any], texts: list[str], k: int) -> tuple[np.ndarray, list[str]]:
    """Calibrated probability and contributing terms of each text, vectorising the texts once.

    ``CalibratedClassifierCV(ensemble=False)`` holds one pipeline and one calibrator; its
    ``predict_proba`` would vectorise the texts a second time (the slowest part). The result is the
    same: the calibrator applied to the pipeline's decision function, clipped as scikit-learn does
    (tested against ``predict_proba``).
    """
    model = bundle["model"]
    pipe = model.calibrated_classifiers_[0].estimator
    features, clf = pipe.named_steps["features"], pipe.named_steps["clf"]
    x = features.transform(texts)
    single = len(model.calibrated_classifiers_) == 1 and model.method in ("sigmoid", "isotonic")
    if single and len(model.classes_) == 2:
        prob = model.calibrated_classifiers_[0].calibrators[0].predict(clf.decision_function(x))
        prob = np.asarray(prob, dtype=float)
        prob[(prob > 1.0) & (prob <= 1.0 + 1e-5)] = 1.0
    else:
        prob = model.predict_proba(texts)[:, 1]
    names = features.get_feature_names_out()
    return prob, _top_terms(x, clf.coef_.ravel(), names, k)


def annotate_predictions(pages: pd.DataFrame, model: dict[str, Any], params: PredictParams) -> pd.DataFrame:
    """Return ``pages`` with prediction columns added (input untouched, row order kept).

    ``model`` is the bundle from ``classifier_common.load_model``. Rows that are not scored have
    null ``conflict_prob`` / ``conflict_label`` / ``conflict_terms`` and an ``unclassified_reason``.
    """
    out = pages.copy()
    reason = unclassified_reason(out, params)
    todo = np.flatnonzero(reason.isna().to_numpy())
    prob = np.full(len(out), np.nan)
    terms: list[Any] = [None] * len(out)
    texts = out[params.text_column].iloc[todo].tolist() if len(todo) else []
    for start in range(0, len(todo), params.batch_size):
        idx = todo[start : start + params.batch_size]
        batch = texts[start : start + params.batch_size]
        prob[idx], batch_terms = score_texts(model, batch, params.top_terms)
        for i, t in zip(idx, batch_terms, strict=True):
            terms[i] = t
    classified = reason.isna().to_numpy()
    out["conflict_prob"] = pd.array(np.where(classified, prob, np.nan), dtype="Float64")
    flag = pd.array(prob >= float(model["threshold"]), dtype="boolean")
    flag[~classified] = pd.NA
    out["conflict_label"] = flag
    out["classified"] = classified
    out["unclassified_reason"] = pd.array(reason.tolist(), dtype="string")
    out["conflict_terms"] = pd.array(terms, dtype="string")
    if "near_dup_cluster" in out:
        out["cluster_size"] = cluster_sizes(out["near_dup_cluster"])
    return out


def corpus_stats(annotated: pd.DataFrame) -> dict[str, Any]:
    """Counts and shares by source and language; shares are over classified pages only."""

    def summary(part: pd.DataFrame) -> dict[str, Any]:
        done = part[part["classified"]]
        events = int(done["conflict_label"].fillna(False).sum())
        res = {
            "pages": len(part),
            "classified": len(done),
            "conflict_events": events,
            "share_conflict": events / len(done) if len(done) else None,
            "unclassified": {
                str(k): int(v)
                for k, v in part["unclassified_reason"].dropna().value_counts().sort_index().items()
            },
        }
        if "cluster_size" in done:
            weight = done["cluster_size"].astype(float)
            flagged = done["conflict_label"].fillna(False).astype(bool)
            res["share_conflict_cluster_weighted"] = (
                float(weight[flagged].sum() / weight.sum()) if weight.sum() else None
            )
        return res

    stats: dict[str, Any] = {"overall": summary(annotated)}
    for col in ("source", "language"):
        if col in annotated:
            keys = annotated[col].astype("string").fillna("(none)")
            stats[f"by_{col}"] = {str(k): summary(g) for k, g in annotated.groupby(keys, sort=True)}
    return stats


ADDED_FIELDS = [
    pa.field("conflict_prob", pa.float64()),
    pa.field("conflict_label", pa.bool_()),
    pa.field("classified", pa.bool_()),
    pa.field("unclassified_reason", pa.string()),
    pa.field("conflict_terms", pa.string()),
    pa.field("cluster_size", pa.int64()),
]


def cluster_sizes(near_dup_cluster: pd.Series) -> pd.Series:
    """Pages in each page's near-duplicate cluster (1 for a page in none)."""
    sizes = near_dup_cluster.groupby(near_dup_cluster, dropna=True).transform("size")
    return sizes.fillna(1).astype("int64")


def _annotate_batch(batch: pd.DataFrame) -> pd.DataFrame:
    return annotate_predictions(batch, STATE["model"], STATE["params"])


def predict_parquet(src: Path, dst: Path, model: dict[str, Any], params: PredictParams) -> pd.DataFrame:
    """Score ``src`` batch by batch into ``dst``; returns the small prediction columns (no text).

    The cluster sizes are corpus-wide, so they are computed first from the one small column.
    """
    names = pq.ParquetFile(src).schema_arrow.names
    if params.text_column not in names:
        raise NewsauditError(f"{src}: no '{params.text_column}' column (params predict.text_column)")
    sizes = (
        cluster_sizes(pd.read_parquet(src, columns=["near_dup_cluster"])["near_dup_cluster"])
        if ("near_dup_cluster" in names)
        else None
    )
    source = pq.ParquetFile(src).schema_arrow
    added = [f for f in ADDED_FIELDS if f.name != "cluster_size" or sizes is not None]
    schema = pa.schema([f for f in source if f.name not in {a.name for a in added}] + added)
    tmp = dst.with_name(dst.name + ".partial")
    start, small = 0, []
    batches = (rb.to_pandas() for rb in pq.ParquetFile(src).iter_batches(batch_size=params.batch_size))
    with pq.ParquetWriter(tmp, schema) as writer:
        for out in ordered_map(_annotate_batch, batches, params.workers, {"model": model, "params": params}):
            if sizes is not None:
                out["cluster_size"] = sizes.iloc[start : start + len(out)].to_numpy()
            start += len(out)
            writer.write_table(pa.Table.from_pandas(out[schema.names], schema=schema, preserve_index=False))
            small.append(out[[c for c in PREDICTION_COLUMNS if c in out.columns]])
    tmp.replace(dst)
    return pd.concat(small, ignore_index=True)


# --- ad-hoc inputs ------------------------------------------------------------------------------


def read_input(path: Path) -> pd.DataFrame:
    """INPUT as a frame with ``id`` and ``text`` (see module doc)."""
    if not path.exists():
        raise NewsauditError(f"{path}: input not found")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in {".txt", ".html", ".htm"})
        rows = []
        for p in files:
            raw = p.read_text(encoding="utf-8", errors="replace")
            if p.suffix.lower() != ".txt":
                import html_text

                raw = html_text.extract_text(raw)
            rows.append({"id": str(p.relative_to(path)), "text": raw})
        frame = pd.DataFrame(rows, columns=["id", "text"])
    elif path.suffix.lower() == ".txt":
        text = path.read_text(encoding="utf-8", errors="replace")
        frame = pd.DataFrame({"id": [path.name], "text": [text]})
    elif path.suffix.lower() in {".jsonl", ".csv", ".parquet"}:
        if path.suffix.lower() == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        elif path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_parquet(path)
        if "text" not in frame.columns:
            raise NewsauditError(f"{path}: no 'text' column (found {list(frame.columns)})")
        if "id" not in frame.columns:
            frame["id"] = [str(i) for i in range(len(frame))]
        frame = frame[["id", "text"]].astype({"id": str})
    else:
        raise NewsauditError(f"{path}: unsupported input (use .txt, a folder, .jsonl, .csv or .parquet)")
    if frame.empty:
        raise NewsauditError(f"{path}: no texts to classify")
    return frame


def predict_texts(
    frame: pd.DataFrame, bundle: dict[str, Any], params: PredictParams, language_of
) -> pd.DataFrame:
    """id, conflict_prob, conflict_label, language, unclassified_reason for every input text."""
    frame = frame.assign(language=[language_of(t) for t in frame["text"].fillna("")])
    ad_hoc = params.model_copy(update={"text_column": "text", "min_chars": 1})
    done = annotate_predictions(frame, bundle, ad_hoc)
    return pd.DataFrame(
        {
            "id": done["id"],
            "conflict_prob": done["conflict_prob"],
            "conflict_label": done["conflict_label"].astype("Int8"),
            "language": done["language"],
            "unclassified_reason": done["unclassified_reason"],
        }
    )


def write_output(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False, lineterminator="\n")
    elif path.suffix.lower() == ".jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for rec in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    else:
        raise NewsauditError(f"{path}: output must end in .jsonl or .csv")


# --- CLI ----------------------------------------------------------------------------------------


def _language_identifier(raw_params: dict[str, Any]):
    from newsaudit.steps.ingest.readers import IngestParams, identify_language

    ingest = section(raw_params, "ingest", IngestParams)
    return lambda text: identify_language(text, ingest)[0]


def run(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    params = section(raw, "predict", PredictParams)
    bundle = load_model(args.model or params.model)
    if args.input:
        if not args.out:
            raise NewsauditError("predict INPUT needs --out OUTPUT (.jsonl or .csv)")
        result = predict_texts(read_input(Path(args.input)), bundle, params, _language_identifier(raw))
        write_output(result, Path(args.out))
        log.info(
            "predict: %d texts, %d flagged -> %s",
            len(result),
            int(result["conflict_label"].fillna(0).sum()),
            args.out,
        )
        return
    pages_path = Path(args.pages or params.pages)
    if not pages_path.is_file():
        raise NewsauditError(f"{pages_path}: pages table not found (run the duplicates stage first)")
    out = Path(args.out or params.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if engine_of(raw) == "dask":
        from newsaudit.engines.dask.legacy import DaskParams, connect, predict_dask

        dask_params = section(raw, "dask", DaskParams)
        with connect(dask_params) as client:
            annotated = predict_dask(client, pages_path, bundle, params, dask_params).compute()
        annotated.to_parquet(out, index=False)
        small = annotated[[c for c in PREDICTION_COLUMNS if c in annotated.columns]]
    else:
        small = predict_parquet(pages_path, out, bundle, params)
    predictions = Path(params.predictions)
    predictions.parent.mkdir(parents=True, exist_ok=True)
    small.to_parquet(predictions, index=False)
    stats = corpus_stats(small)
    write_json(stats, args.stats or params.stats)
    o = stats["overall"]
    log.info(
        "predict: %d pages, %d classified, %d conflict events -> %s",
        o["pages"],
        o["classified"],
        o["conflict_events"],
        out,
    )


def register_cli(subparsers) -> None:
    p = subparsers.add_parser(
        "predict",
        aliases=["classify"],
        help="flag conflict-event pages in the corpus (no INPUT) or in INPUT texts (--out required)",
    )
    p.add_argument("input", nargs="?", default=None, help=".txt, folder, .jsonl/.csv/.parquet with 'text'")
    p.add_argument("--out", default=None, help="output: pages parquet (stage) or .jsonl/.csv (INPUT)")
    p.add_argument("--pages", default=None, help="stage input (default: predict.pages)")
    p.add_argument("--stats", default=None, help="stage statistics JSON (default: predict.stats)")
    p.add_argument("--model", default=None, help="model bundle (default: predict.model)")
    p.set_defaults(func=run)
