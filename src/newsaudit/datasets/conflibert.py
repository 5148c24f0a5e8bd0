"""Reader for the ConfliBERT evaluation TSVs (``data/external/conflibert/<dataset>/<split>.tsv``).

The files have no header: column 1 is the text, the remaining columns are 0/1 labels. They are read
the way ConfliBERT's own ``finetune_data.py`` reads them (``delimiter='\\t'``, ``quotechar='"'``), so
row numbers here match the paper's data. A row is identified by ``(dataset, split, row)`` with ``row``
the 0-based record index in its file: the leakage audit and the labels stage both rely on that key.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from newsaudit.core.errors import NewsauditError

DATASETS = ("satp_all", "IndiaPoliceEvents_docs", "insightCrime", "BBC_News")
SPLITS = ("train", "dev", "test")

# Label column names, in file order. IndiaPoliceEvents' order is verified against the original
# release; satp_all's and insightCrime's are inferred from keywords (see the mirror's SOURCE.md).
LABEL_NAMES: dict[str, tuple[str, ...]] = {
    "satp_all": ("armed_assault", "bombing", "kidnapping", "other_attack"),
    "IndiaPoliceEvents_docs": ("KILL", "ARREST", "ANY_ACTION", "FAIL", "FORCE"),
    "insightCrime": (
        "drug_trafficking",
        "corruption",
        "law_enforcement",
        "violence",
        "extortion_kidnapping",
        "environmental_crime",
        "contraband_trafficking",
    ),
    "BBC_News": ("politics",),
}


def read_split(root: str | Path, dataset: str, split: str) -> pd.DataFrame:
    """One split as a frame: ``dataset, split, row, text`` and one int column per label."""
    path = Path(root) / dataset / f"{split}.tsv"
    if not path.is_file():
        raise NewsauditError(f"{path}: ConfliBERT split not found (run `newsaudit fetch` first)")
    names = LABEL_NAMES[dataset]
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for i, rec in enumerate(csv.reader(fh, delimiter="\t", quotechar='"')):
            if len(rec) != 1 + len(names):
                raise NewsauditError(
                    f"{path} record {i}: expected {1 + len(names)} tab-separated fields, found {len(rec)}"
                )
            try:
                labels = [int(v) for v in rec[1:]]
            except ValueError:
                raise NewsauditError(f"{path} record {i}: label fields {rec[1:]} are not 0/1") from None
            rows.append([dataset, split, i, rec[0], *labels])
    return pd.DataFrame(rows, columns=["dataset", "split", "row", "text", *names])


def read_all(root: str | Path, datasets: tuple[str, ...] | list[str] = DATASETS) -> dict[str, pd.DataFrame]:
    """Every split of each dataset, concatenated per dataset (label columns differ between datasets)."""
    return {d: pd.concat([read_split(root, d, s) for s in SPLITS], ignore_index=True) for d in datasets}
