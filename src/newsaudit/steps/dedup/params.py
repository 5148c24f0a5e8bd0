"""Parameters of the dedup step (``params.yaml`` section ``duplicates``)."""

from __future__ import annotations

from typing import Any, Literal

from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError


class DuplicatesParams(Section):
    """``params.yaml`` section ``duplicates``."""

    num_perm: int = 512  # MinHash signature length (one-permutation bins)
    bands: int = 42  # LSH bands ...
    rows: int = 3  # ... of this many signature values; bands * rows <= num_perm
    shingle: int = 3  # word n-gram size (params.yaml; tuned on the syndication benchmark's dev seed)
    threshold: float = 0.45  # verified estimated Jaccard needed to link two pages
    seed: int = 1
    max_bucket_pairs: int = 50  # larger LSH buckets are checked as a star around their first member
    repetition_batch: int = 2000  # pages per repetition batch (one batch: no process pool)
    frequent_line_pages: int = 10  # lines on this many distinct pages are boilerplate for MinHash; 0 = off
    frequent_line_min_keep: float = 0.5  # ... unless that would remove more than half of a page's words
    min_repeated_line_chars: int = 30  # shorter repeated lines are kept (list items, "Yes")
    word_tokenizer: Literal["regex", "datatrove"] = "regex"  # for the Gopher n-gram statistics
    s_curve_points: list[float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]

    def model_post_init(self, __context: Any) -> None:
        if self.bands * self.rows > self.num_perm:
            raise NewsauditError(
                f"params.yaml duplicates: bands x rows = {self.bands * self.rows} exceeds "
                f"num_perm = {self.num_perm}"
            )

    def lsh_kwargs(self) -> dict[str, Any]:
        keys = ("num_perm", "bands", "rows", "shingle", "threshold", "seed", "max_bucket_pairs")
        return {k: getattr(self, k) for k in keys}
