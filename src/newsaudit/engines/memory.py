"""The in-memory engine: a whole pages table as one batch. The reference the other engines are
tested against, and what the benchmarks and small audits use."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from newsaudit.core.errors import NewsauditError
from newsaudit.core.step import (
    Clusters,
    Components,
    Map,
    MapOutput,
    Read,
    Scan,
    State,
    Step,
    batch_state,
    missing_columns,
)
from newsaudit.lib.minhash import cluster_labels, estimated_jaccard, node_rank


def run(
    step: Step, pages: pd.DataFrame | None = None, state_out: dict[str, Any] | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Run ``step`` over ``pages`` (``None`` for a reading step); returns the table with the step's
    columns (the input's index kept) and its side tables (rows in page order). ``state_out``, when
    given, receives the final state (notes of corpus-wide phases)."""
    if pages is not None:
        missing = missing_columns(pages.columns, step)
        if missing:
            raise NewsauditError(f"pages table lacks column(s) {missing} needed by the {step.name} step")
        index = pages.index
        frame = pages.reset_index(drop=True)
    else:
        index, frame = None, None
    state: dict[str, Any] = {}
    side: dict[str, list[pd.DataFrame]] = {name: [] for name in step.side_outputs}
    for phase in step.phases():
        if isinstance(phase, Read):
            frame = read_all(phase)
            index = frame.index
        elif isinstance(phase, Map):
            result = phase.fn(frame, batch_state(state, frame.index))
            if isinstance(result, MapOutput):
                for name, table in result.side.items():
                    side[name].append(table)
                result = result.pages
            frame = result
        elif isinstance(phase, Scan):
            state.update(phase.finish(phase.merge([phase.partial(frame, state)]), state))
        elif isinstance(phase, Components):
            state.update(phase.finish(components(phase, [frame], state), state))
    frame.index = index
    if state_out is not None:
        state_out.update(state)
    return frame, {name: _concat(parts) for name, parts in side.items()}


def read_all(phase: Read) -> pd.DataFrame:
    rows = [row for job in phase.jobs() for row in phase.read(job)]
    return phase.schema.empty_table().to_pandas() if not rows else _table(rows, phase)


def _table(rows: list[dict], phase: Read) -> pd.DataFrame:
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=phase.schema).to_pandas()


def components(phase: Components, batches: list[pd.DataFrame], state: State) -> Clusters:
    """The components hook on one machine: signatures gathered into one matrix, then LSH,
    verification and connected components (:func:`newsaudit.lib.minhash.cluster_labels`)."""
    nodes = phase.nodes(state)
    lsh = phase.lsh(state)
    sig = np.zeros((len(nodes), lsh.num_perm), dtype=np.uint32)
    n_shingles = np.zeros(len(nodes), dtype=np.int64)
    for batch in batches:
        part = phase.signatures(batch, batch_state(state, batch.index))
        sig[part.positions] = part.matrix
        n_shingles[part.positions] = part.n_shingles
    return cluster_on_client(sig, n_shingles, nodes, lsh)


def cluster_on_client(sig: np.ndarray, n_shingles: np.ndarray, nodes, lsh) -> Clusters:
    similarity = partial(estimated_jaccard, sig)
    if not len(nodes):
        return Clusters(np.empty(0, dtype=np.int64), similarity, {"candidate_pairs": 0})
    labels, pairs, _, n_cand = cluster_labels(
        sig, n_shingles, node_rank(nodes), lsh.bands, lsh.rows, lsh.threshold, lsh.max_bucket_pairs
    )
    notes = {"candidate_pairs": n_cand, "verified_edges": len(pairs)}
    return Clusters(labels, similarity, notes)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
