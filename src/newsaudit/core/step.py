"""The step interface: per-page logic as objects with declared phases, which any engine runs.

A *step* (``steps/*``) carries its parameters and declares the columns it needs and adds; its work
is a list of *phases*, each a pure function of a batch of the pages table and the *state* that
earlier phases left. Engines (``engines/*``) know these phase kinds and nothing about any step:

* :class:`Read` (the first step only): a list of input jobs, each read into rows of a schema;
* :class:`Map`: ``fn(batch, state) -> batch`` with columns added (or a :class:`MapOutput` that
  also carries side tables, e.g. the removed lines), batch by batch, in row order;
* :class:`Scan`: a corpus-wide pass. ``partial(batch, state)`` per batch, ``merge(parts)`` (any
  grouping of batches, so engines may merge in trees), then ``finish(merged, state)`` once; it
  returns a dict of new state entries;
* :class:`Components`: the one truly global operation, near-duplicate components over MinHash
  signatures. The step gives the per-batch signatures and what to do with the result; the engine
  owns how candidate pairs are found and joined (in memory, or shuffled on a cluster).

State values of type :class:`RowTable` are per-row results (indexed by the global row number):
an engine hands each batch only its own rows (on a cluster, each partition gets its piece), while
every other state value is shared whole (broadcast). Batches reach the functions with their global
row numbers as index, so a batch's result does not depend on how the table was cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

State = Mapping[str, Any]


@dataclass(frozen=True)
class RowTable:
    """A per-row state value: ``frame`` indexed by global row number (rows may be missing)."""

    frame: pd.DataFrame

    def rows(self, index: pd.Index) -> pd.DataFrame:
        """The rows of ``index`` that the table has (a batch's own rows)."""
        return self.frame[self.frame.index.isin(index)]

    def between(self, lo: int, hi: int) -> RowTable:
        """The rows ``lo <= row < hi`` (a contiguous batch or partition)."""
        idx = self.frame.index.to_numpy()
        return RowTable(self.frame[(idx >= lo) & (idx < hi)])


def batch_state(state: State, index: pd.Index) -> dict[str, Any]:
    """``state`` as a batch with row numbers ``index`` sees it: row tables cut to its rows."""
    return {k: RowTable(v.rows(index)) if isinstance(v, RowTable) else v for k, v in state.items()}


@dataclass
class MapOutput:
    """A map's result: the batch with its columns added, and side tables (name -> frame)."""

    pages: pd.DataFrame
    side: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Read:
    """Read inputs into rows: ``jobs()`` lists them (in output order), ``read(job)`` gives the rows
    of one job (dicts of ``schema``'s fields), run in worker processes."""

    name: str
    jobs: Callable[[], list[Any]]
    read: Callable[[Any], list[dict]]
    schema: pa.Schema


@dataclass(frozen=True)
class Map:
    name: str
    fn: Callable[[pd.DataFrame, State], pd.DataFrame | MapOutput]
    # a map whose work is light enough that a pool would cost more than it saves
    parallel: bool = True


@dataclass(frozen=True)
class Scan:
    name: str
    partial: Callable[[pd.DataFrame, State], Any]
    merge: Callable[[list[Any]], Any]
    finish: Callable[[Any, State], dict[str, Any]]
    columns: tuple[str, ...] = ()  # the columns ``partial`` reads (engines read only these); () = all


@dataclass(frozen=True)
class Signatures:
    """MinHash signatures of some rows of a batch: node positions (0..n-1 over the corpus), the
    ``(k, num_perm)`` uint32 matrix and the number of shingles of each (0 = no words)."""

    positions: np.ndarray
    matrix: np.ndarray
    n_shingles: np.ndarray


@dataclass(frozen=True)
class LSH:
    """How candidate pairs are found and kept: ``bands`` x ``rows`` bands, verified estimated
    Jaccard at least ``threshold``, buckets over ``max_bucket_pairs`` members checked as a star."""

    num_perm: int
    bands: int
    rows: int
    threshold: float
    max_bucket_pairs: int


@dataclass
class Clusters:
    """What an engine's components hook returns: the component label of each node (the smallest
    node position of its component; -1 for nodes without shingles), the estimated Jaccard of any
    pairs of nodes on request (``(k, 2)`` node positions; the engine reads the signatures where it
    keeps them, a chunk at a time), and counts for the step's notes."""

    labels: np.ndarray
    similarity: Callable[[np.ndarray], np.ndarray]
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Components:
    """Near-duplicate components: ``nodes(state)`` names the nodes (their ids order large LSH
    buckets, so the result is independent of input order), ``signatures(batch, state)`` gives the
    signatures of the batch's nodes, ``finish(clusters, state)`` turns the labels into state."""

    name: str
    nodes: Callable[[State], Sequence[str]]
    signatures: Callable[[pd.DataFrame, State], Signatures]
    lsh: Callable[[State], LSH]
    finish: Callable[[Clusters, State], dict[str, Any]]
    columns: tuple[str, ...] = ()


Phase = Read | Map | Scan | Components


class Step(Protocol):
    """A per-page step: what it needs, what it adds, and its phases in order."""

    name: str
    needs: tuple[str, ...]  # input columns (checked by the engine before any work)
    adds: tuple[pa.Field, ...]  # output columns, in order, with their Arrow types
    side_outputs: Mapping[str, pa.Schema]  # side tables a map emits (name -> schema)

    def phases(self) -> list[Phase]: ...


def output_schema(source: pa.Schema, step: Step) -> pa.Schema:
    """The step's output schema: the input's columns that the step does not add, followed by the
    step's added columns (a column added again by a rerun moves to the end, with its new type)."""
    added = {f.name for f in step.adds}
    return pa.schema([f for f in source if f.name not in added] + list(step.adds))


def missing_columns(columns: Iterable[str], step: Step) -> list[str]:
    have = set(columns)
    return sorted(c for c in step.needs if c not in have)
