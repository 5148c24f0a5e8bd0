"""The ingest step: every input file read into rows of the pages table (a :class:`Read` phase).

Inputs are discovered in a stable order and read in worker processes
(:func:`~newsaudit.steps.ingest.readers.read_input`); each input document becomes one row,
accepted with its text or rejected with a reason. :func:`summarise` checks
``inputs == accepted + rejected`` before the stage writes its metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from newsaudit.core.step import Phase, Read
from newsaudit.steps.ingest.readers import PAGES_SCHEMA, CorpusParams, IngestParams, discover, read_input
from newsaudit.steps.ingest.warc import jobs_of, warc_format


@dataclass(frozen=True)
class IngestStep:
    corpus: CorpusParams
    params: IngestParams

    name = "ingest"
    needs = ()
    adds = tuple(PAGES_SCHEMA)
    side_outputs = MappingProxyType({})

    def phases(self) -> list[Phase]:
        return [Read("read", self.jobs, read_input, PAGES_SCHEMA)]

    def jobs(self) -> list[tuple]:
        """One job per input file; a WARC over ``ingest.warc_job_bytes`` is several (its slices)."""
        out: list[tuple] = []
        for path, rel in discover(self.corpus):
            if warc_format(rel) is None:
                out.append((str(path), rel, self.params))
                continue
            try:
                slices = jobs_of(path, self.params.warc_job_bytes)
            except OSError:
                slices = [(0, None, 1)]  # the reading job reports the file as unreadable
            out.extend((str(path), rel, self.params, piece) for piece in slices)
        return out


# What :func:`summarise` reads: the audit reads only these columns back (lib.tables.read_columns).
SUMMARY_COLUMNS = ("status", "format", "reason_code", "n_chars", "source", "language", "encoding")


def summarise(pages: pd.DataFrame) -> dict:
    """Counts for ``reports/metrics/ingest.json``; asserts inputs == accepted + rejected."""
    by_status = pages["status"].value_counts().to_dict()
    accepted, rejected = int(by_status.get("accepted", 0)), int(by_status.get("rejected", 0))
    if accepted + rejected != len(pages):
        raise AssertionError(
            f"manifest invariant broken: {len(pages)} inputs, {accepted} accepted + {rejected} rejected"
        )
    by_format = {
        fmt: {s: int(n) for s, n in grp["status"].value_counts().sort_index().items()}
        for fmt, grp in pages.groupby("format", sort=True)
    }
    ok = pages[pages["status"] == "accepted"]
    rejected_rows = pages[pages["status"] == "rejected"]
    return {
        "inputs": len(pages),
        "accepted": accepted,
        "rejected": rejected,
        "by_format": by_format,
        "rejected_by_reason": _counts(rejected_rows["reason_code"]),
        "accepted_chars": int(ok["n_chars"].sum()),
        "accepted_empty_text": int((ok["n_chars"] == 0).sum()),
        "with_source": int(ok["source"].notna().sum()),
        "distinct_sources": int(ok["source"].nunique()),
        "by_language": _counts(ok["language"].fillna("und")),
        "encodings": _counts(ok["encoding"].fillna("none")),
    }


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}
