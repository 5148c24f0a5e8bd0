"""``newsaudit predict INPUT --out OUTPUT``: score any texts with the conflict-event classifier.

INPUT is anything ingest reads (a ``.txt``/``.html`` file, a folder of pages, JSONL/CSV/TSV/Parquet
with a ``text`` column), read by the same code as the pipeline's ingest, so a page gets the same
text here as in ``newsaudit audit``. OUTPUT (``.jsonl`` or ``.csv``) has one row per input document,
rejected ones included: ``id`` (the record's own id, else its file and record number),
``conflict_prob``, ``conflict_label``, ``conflict_terms`` (the terms that pushed the score up most,
``; ``-separated, so a user can check why a page was flagged), ``language``, ``unclassified_reason``
(``rejected: <code>`` for inputs ingest rejected). The text is scored as read: no boilerplate
cleaning.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import Execution, load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.engines.dispatch import run_step
from newsaudit.pipeline.reference import annotate_predictions
from newsaudit.stages.classify import classify_params
from newsaudit.steps.classify.model import load_model
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams
from newsaudit.steps.ingest.step import IngestStep

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("predict", help="score texts (INPUT: file or folder) into OUTPUT (.jsonl or .csv)")
    p.add_argument("input", help="a page, a folder of pages, or JSONL/CSV/TSV/Parquet with a 'text' column")
    p.add_argument("--out", required=True, help="output .jsonl or .csv")
    p.add_argument("--model", default=str(paths.CLASSIFIER))
    p.set_defaults(func=run)


def run(args) -> None:
    raw = load_params(args.params)
    params = classify_params(raw)
    bundle = load_model(args.model)
    out = Path(args.out)
    if out.suffix.lower() not in (".jsonl", ".csv"):
        raise NewsauditError(f"{out}: output must end in .jsonl or .csv")
    pages = read_texts(Path(args.input), section(raw, "ingest", IngestParams))
    result = predict_texts(pages, bundle, params)
    write_output(result, out)
    log.info(
        "predict: %d texts, %d flagged -> %s", len(result), int(result["conflict_label"].fillna(0).sum()), out
    )


def read_texts(path: Path, params: IngestParams) -> pd.DataFrame:
    """INPUT through the ingest step (in memory): one row per input document."""
    if not path.exists():
        raise NewsauditError(f"{path}: input not found")
    step = IngestStep(CorpusParams(path=str(path), include=[]), params)
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "pages.parquet"
        run_step(step, Execution(engine="memory"), None, dst)
        return pd.read_parquet(dst)


def document_ids(pages: pd.DataFrame) -> list[str]:
    ids = []
    for rid, p, rec in zip(pages["record_id"], pages["path"], pages["record"], strict=True):
        if isinstance(rid, str) and rid:
            ids.append(rid)
        else:
            ids.append(p if pd.isna(rec) else f"{p}#{int(rec)}")
    return ids


def predict_texts(pages: pd.DataFrame, bundle: dict, params) -> pd.DataFrame:
    """id, conflict_prob, conflict_label, conflict_terms, language, unclassified_reason per document."""
    ad_hoc = params.model_copy(update={"text_column": "raw_text", "min_chars": 1})
    done = annotate_predictions(pages, bundle, ad_hoc)
    reason = done["unclassified_reason"].astype(object)
    rejected = done["status"].eq("rejected").to_numpy()
    reason[rejected] = ["rejected: " + str(c) for c in done.loc[rejected, "reason_code"]]
    return pd.DataFrame(
        {
            "id": document_ids(done),
            "conflict_prob": done["conflict_prob"],
            "conflict_label": done["conflict_label"].astype("Int8"),
            "conflict_terms": done["conflict_terms"],
            "language": done["language"],
            "unclassified_reason": reason,
        }
    )


def write_output(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    if path.suffix.lower() == ".csv":
        frame.to_csv(tmp, index=False, lineterminator="\n")
    else:
        with tmp.open("w", encoding="utf-8") as fh:
            for rec in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    tmp.replace(path)
