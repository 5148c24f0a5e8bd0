"""Shared fixtures: paths to the mirrored data (tests that need it skip cleanly without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MIRROR = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def mirror() -> Path:
    if not MIRROR.is_dir():
        pytest.skip(f"mirrored datasets not found at {MIRROR} (see ../shared/README.md)")
    return MIRROR
