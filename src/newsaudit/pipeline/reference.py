"""The in-memory reference of each step: a DataFrame in, the annotated DataFrame out.

The memory engine runs the same step objects the streaming and Dask engines run, so these are the
results every engine must reproduce (tests/engines/test_parity.py).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from newsaudit.engines import memory
from newsaudit.steps.boilerplate.clean import REASONS
from newsaudit.steps.boilerplate.linemodel import LineModel
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.step import BoilerplateStep
from newsaudit.steps.classify.score import ClassifyParams
from newsaudit.steps.classify.step import ClassifyStep
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.step import DedupStep


def annotate_boilerplate(
    pages: pd.DataFrame, params: BoilerplateParams, line_model: LineModel | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pages with clean text and boilerplate/error columns, and every removed line (sorted by
    doc_id and line). ``line_model=None`` uses the fallback rule (lines of N+ words)."""
    out, side = memory.run(BoilerplateStep(params, line_model), pages)
    removed = side["removed_lines"]
    if removed.empty:
        removed = _empty_removed()
    return out, removed.sort_values(["doc_id", "line_no"], kind="stable").reset_index(drop=True)


def _empty_removed() -> pd.DataFrame:
    frame = pd.DataFrame({"doc_id": [], "line_no": [], "text": [], "reason": []})
    frame = frame.astype({"doc_id": object, "line_no": "int64", "text": object})
    frame["reason"] = pd.Categorical([], categories=list(REASONS))
    return frame


def annotate_duplicates(pages: pd.DataFrame, params: DuplicatesParams) -> pd.DataFrame:
    """Pages with repetition statistics, de-repeated ``clean_text`` and cluster columns."""
    return memory.run(DedupStep(params), pages)[0]


def annotate_predictions(pages: pd.DataFrame, bundle: dict[str, Any], params: ClassifyParams) -> pd.DataFrame:
    """Pages with the prediction columns (``cluster_size`` when the table has clusters)."""
    step = ClassifyStep(params, bundle, with_clusters="near_dup_cluster" in pages.columns)
    return memory.run(step, pages)[0]
