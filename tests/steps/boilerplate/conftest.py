"""Fixtures of the boilerplate tests: a MENAFN-style page (an error block glued before an article,
a disclaimer and a comment widget after it) and a pages-table builder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

LINE_MODEL = Path(__file__).resolve().parents[3] / "models" / "line_model.skops"

_ARTICLE = [
    "Harbour city council approves new flood barrier after months of debate",
    "The council of the harbour city voted on Tuesday to build a flood barrier along the old port, "
    "ending a debate that had divided residents, shop owners and the regional government "
    "for most of the year.",
    "Supporters said the barrier would protect thousands of homes from the storms that have become more "
    "frequent, while opponents argued that the cost was too high and that the money should go to housing.",
    "The mayor said construction would begin in the spring and that the project would be financed "
    "partly by the national government and partly by a new levy on port traffic.",
]

_MENAFN_PAGE = "\n".join(
    [
        "403",
        "Sorry!!",
        "Error! We're sorry, but the page you were looking for doesn't exist.",
        "",
        *_ARTICLE,
        "",
        "Legal Disclaimer:",
        'MENAFN provides the information "as is" without warranty of any kind. We do not accept any '
        "responsibility or liability for the accuracy, content, images, videos, licenses, completeness, "
        "legality, or reliability of the information contained in this article.",
        "Comments",
        "No comment",
    ]
)


@pytest.fixture(scope="session")
def article() -> list[str]:
    """The article's lines (headline first)."""
    return list(_ARTICLE)


@pytest.fixture(scope="session")
def menafn_page() -> str:
    return _MENAFN_PAGE


def _pages(texts: list[str | None], sources: list[str | None] | None = None, status: list[str] | None = None):
    n = len(texts)
    return pd.DataFrame(
        {
            "doc_id": [f"d{i:03d}" for i in range(n)],
            "path": [f"p/{i}.txt" for i in range(n)],
            "format": ["txt"] * n,
            "source": sources or [None] * n,
            "url": [None] * n,
            "record": [0] * n,
            "raw_text": texts,
            "n_chars": [len(t or "") for t in texts],
            "status": status or ["accepted"] * n,
            "status_reason": [None] * n,
            "language": ["en"] * n,
        }
    )


@pytest.fixture(scope="session")
def make_pages():
    """``make_pages(texts, sources=None, status=None)``: a pages table as ingest writes it."""
    return _pages


@pytest.fixture(scope="session")
def trained_line_model():
    """The line model ``dvc repro`` trained (skipped when absent or trained on older features)."""
    from newsaudit.core.errors import NewsauditError
    from newsaudit.steps.boilerplate.linemodel import load_line_model

    if not LINE_MODEL.is_file():
        pytest.skip(f"{LINE_MODEL} not trained")
    try:
        return load_line_model(LINE_MODEL)
    except NewsauditError as exc:  # trained by an older version of the features: dvc repro retrains it
        pytest.skip(str(exc))
