"""The ingest step: every input file read into rows of the pages table (a :class:`Read` phase).

Inputs are discovered in a stable order and read in worker processes
(:func:`~newsaudit.steps.ingest.readers.read_input`); each input document becomes one row,
accepted with its text or rejected with a reason. :func:`summarise` checks
``inputs == accepted + rejected`` before the stage writes its metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
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


def summarise(pages: pd.DataFrame | Iterable[pd.DataFrame]) -> dict:
    """Counts for ``reports/metrics/ingest.json``; asserts inputs == accepted + rejected.

    ``pages`` is the table or its row batches (``lib.tables.column_batches``): the counts are
    summed batch by batch, so at a million pages the summary holds a batch and the distinct values,
    not a million rows of strings (measured: reading the seven columns whole cost 88 MB at 300k
    pages and about 150 MB at the 1M run's end of ingest).
    """
    tally = _Tally()
    for part in [pages] if isinstance(pages, pd.DataFrame) else pages:
        tally.add(part)
    return tally.summary()


@dataclass
class _Tally:
    inputs: int = 0
    status: Counter = field(default_factory=Counter)
    format_status: Counter = field(default_factory=Counter)  # (format, status) -> inputs
    reasons: Counter = field(default_factory=Counter)
    languages: Counter = field(default_factory=Counter)
    encodings: Counter = field(default_factory=Counter)
    accepted_chars: int = 0
    accepted_empty_text: int = 0
    with_source: int = 0
    sources: set = field(default_factory=set)

    def add(self, pages: pd.DataFrame) -> None:
        self.inputs += len(pages)
        self.status.update(_value_counts(pages["status"]))
        self.format_status.update(pages.groupby(["format", "status"], sort=False).size().to_dict())
        self.reasons.update(_value_counts(pages.loc[pages["status"] == "rejected", "reason_code"]))
        ok = pages[pages["status"] == "accepted"]
        self.accepted_chars += int(ok["n_chars"].sum())
        self.accepted_empty_text += int((ok["n_chars"] == 0).sum())
        self.with_source += int(ok["source"].notna().sum())
        self.sources.update(ok["source"].dropna().unique())
        self.languages.update(_value_counts(ok["language"].fillna("und")))
        self.encodings.update(_value_counts(ok["encoding"].fillna("none")))

    def summary(self) -> dict:
        accepted, rejected = self.status.get("accepted", 0), self.status.get("rejected", 0)
        if accepted + rejected != self.inputs:
            raise AssertionError(
                f"manifest invariant broken: {self.inputs} inputs, {accepted} accepted + {rejected} rejected"
            )
        by_format: dict[str, dict[str, int]] = {}
        for (fmt, status), n in sorted(self.format_status.items()):
            by_format.setdefault(str(fmt), {})[str(status)] = int(n)
        return {
            "inputs": self.inputs,
            "accepted": accepted,
            "rejected": rejected,
            "by_format": by_format,
            "rejected_by_reason": _sorted(self.reasons),
            "accepted_chars": self.accepted_chars,
            "accepted_empty_text": self.accepted_empty_text,
            "with_source": self.with_source,
            "distinct_sources": len(self.sources),
            "by_language": _sorted(self.languages),
            "encodings": _sorted(self.encodings),
        }


def _value_counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().items()}


def _sorted(counts: Counter) -> dict[str, int]:
    return {k: int(counts[k]) for k in sorted(counts)}
