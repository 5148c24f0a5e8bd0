"""Connected components of a graph given as an edge list (near-duplicate clusters, label groups)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def connected_labels(n: int, pairs: np.ndarray) -> np.ndarray:
    """Component label per node (labels are the smallest node index of the component)."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    g = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    first = np.full(lab.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, lab, np.arange(n))
    return first[lab]
