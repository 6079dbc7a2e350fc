"""Shared test helpers: where the corpus and sample logs are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLE_LOGS = ROOT / "sample_logs"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the public log corpus is missing at {CORPUS} (it sits beside the project)")
    return CORPUS
