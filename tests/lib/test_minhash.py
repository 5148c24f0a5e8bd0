"""MinHash and LSH: the S-curve and the reusable near-duplicate API (used by leakage and benchmarks)."""

from __future__ import annotations

import numpy as np
import pytest

from newsaudit.lib.frequent_lines import drop_frequent_lines, frequent_lines, page_line_hashes
from newsaudit.lib.minhash import near_duplicate_clusters, s_curve, s_curve_midpoint

_PROSE = (
    "police army rebels village district minister election court market bridge river school "
    "hospital farmers protest budget council report officials attack region border trade talks "
    "ceasefire vote capital governor party leader troops storm flood fire port airport station"
)
_VOCAB = _PROSE.split()


def _article(seed: int, n_words: int = 180) -> str:
    rng = np.random.default_rng(seed)
    words = rng.choice(_VOCAB, size=n_words)
    return "\n".join(" ".join(words[i : i + 30]).capitalize() + "." for i in range(0, n_words, 30))


def _edit(text: str, seed: int, rate: float = 0.03) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(w if rng.random() > rate else "edited" for w in text.split(" "))


def test_s_curve_midpoint():
    mid = s_curve_midpoint(42, 3)
    assert s_curve(mid, 42, 3) == pytest.approx(0.5)
    assert s_curve(0.9, 42, 3) > 0.999 and s_curve(0.05, 42, 3) < 0.01


def test_near_duplicate_api_is_reusable():
    texts = [_article(1), _edit(_article(1), 9), _article(2), ""]
    res = near_duplicate_clusters(texts, ["a", "b", "c", "d"], bands=42, rows=3, threshold=0.3)
    assert res.labels[0] == res.labels[1] != res.labels[2]
    assert res.labels[3] == -1  # no words: not clustered
    assert list(res.pairs[["id_a", "id_b"]].itertuples(index=False, name=None)) == [("a", "b")]
    assert 0.5 < res.pairs["similarity"].iloc[0] <= 1.0


def test_frequent_lines_are_counted_once_per_page_and_dropped_unless_most_of_the_page():
    footer = "Follow us for more news from the Example Daily"
    texts = [f"{_article(i, 60)}\n{footer}\n{footer}" for i in range(4)] + [footer]
    assert frequent_lines(page_line_hashes(texts), 5).size == 1
    assert frequent_lines(page_line_hashes(texts), 6).size == 0
    dropped = drop_frequent_lines(texts, 5, 0.5)
    assert all(footer not in t for t in dropped[:4])
    assert dropped[4] == footer  # removing it would leave nothing of the page
