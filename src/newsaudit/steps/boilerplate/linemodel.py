"""The line model at prediction time: which lines of a plain-text page dump are article text.

Two stacked gradient-boosted classifiers: the first scores per-line features (own, neighbours,
position, densest run), the second adds windows over the first one's probabilities; a line is kept
when its probability reaches the cross-validated threshold, then a contiguity decoder drops small
runs far from the article. Training (gold pages, alignment, cross-validation) is
:mod:`newsaudit.training.linemodel`; this module only applies, saves and loads a trained model.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.archive import canonical_skops
from newsaudit.steps.boilerplate.lines import (
    PageLines,
    context_features_batch,
    contiguous_filter,
    line_features,
    line_features_and_tokens,
    split_lines,
)


@dataclass
class LineModel:
    """The two stacked classifiers and the decision threshold."""

    stage1: HistGradientBoostingClassifier
    stage2: HistGradientBoostingClassifier
    threshold: float
    feature_names: list[str]
    context_names: list[str]
    run_gap: int = 0
    run_min_mass_frac: float = 0.0

    def predict_proba_batch(self, pages: list[PageLines]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities of all lines of ``pages`` (in order), with each line's tokens and each
        page's line count. One model call per stage for the whole batch: per-page calls spent
        most of their time in scikit-learn's per-call overhead."""
        sizes = np.array([len(p.texts) for p in pages], dtype=np.int64)
        if not sizes.sum():
            return np.zeros(0), np.zeros(0), sizes
        X, _, n_tok = line_features_and_tokens(pages)
        p1 = self.stage1.predict_proba(X)[:, 1]
        C, _ = context_features_batch(p1, n_tok, sizes)
        return self.stage2.predict_proba(np.hstack([X, C]))[:, 1], n_tok, sizes

    def keep_lines_batch(self, pages: list[PageLines]) -> list[np.ndarray]:
        prob, n_tok, sizes = self.predict_proba_batch(pages)
        out, pos = [], 0
        for n in sizes:
            keep = prob[pos : pos + n] >= self.threshold
            out.append(contiguous_filter(keep, n_tok[pos : pos + n], self.run_gap, self.run_min_mass_frac))
            pos += n
        return out

    def predict_proba_lines(self, page: PageLines) -> np.ndarray:
        return self.predict_proba_batch([page])[0]

    def keep_lines(self, page: PageLines) -> np.ndarray:
        return self.keep_lines_batch([page])[0]


# --------------------------------------------------------------------------------------------
# Persistence (skops: a portable, inspectable format instead of pickle)


def save_line_model(model: LineModel, path: Path) -> None:
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(
        {
            "stage1": model.stage1,
            "stage2": model.stage2,
            "threshold": model.threshold,
            "feature_names": model.feature_names,
            "context_names": model.context_names,
            "run_gap": model.run_gap,
            "run_min_mass_frac": model.run_min_mass_frac,
        },
        path,
    )
    canonical_skops(path, compression=zipfile.ZIP_STORED, level=None)  # equal models, equal bytes


def load_line_model(path: str | Path) -> LineModel:
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise NewsauditError(f"line model {path} does not exist (run `newsaudit train-linemodel` first)")
    untrusted = sio.get_untrusted_types(file=path)
    # Only scikit-learn / numpy internals may be loaded; anything else means a foreign file.
    bad = [t for t in untrusted if not t.startswith(("sklearn.", "numpy.", "builtins."))]
    if bad:
        raise NewsauditError(f"line model {path}: refusing to load unexpected types {bad}")
    obj = sio.load(path, trusted=untrusted)
    model = LineModel(
        obj["stage1"],
        obj["stage2"],
        float(obj["threshold"]),
        list(obj["feature_names"]),
        list(obj["context_names"]),
        int(obj.get("run_gap", 0)),
        float(obj.get("run_min_mass_frac", 0.0)),
    )
    page = split_lines("probe")
    _, names = line_features(page)
    if names != model.feature_names:
        raise NewsauditError(f"line model {path} was trained with other features; retrain it")
    return model
