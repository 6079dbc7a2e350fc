"""The whole public corpus through gcscope (bench/sweep_corpus.py, in this process): every file
gives a result or one clear line saying why not, never a traceback.

Coverage per file is not pinned here: grammars for more collectors land over time and the
figures only go up; the coverage and differential tests pin what is covered.
"""

from __future__ import annotations

import importlib.util
import io
import sys

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def sweep_module():
    spec = importlib.util.spec_from_file_location("sweep_corpus", ROOT / "bench" / "sweep_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows(sweep_module, corpus):
    return sweep_module.sweep(corpus)


def test_every_corpus_file_gives_a_result_or_one_clear_line(rows, sweep_module, corpus):
    assert len(rows) == len(sweep_module.corpus_files(corpus)) > 100
    crashes = [f"{row.file}\n{row.message}" for row in rows if row.outcome == "crash"]
    assert not crashes, "\n\n".join(crashes)
    for row in rows:
        if row.outcome == "ok":
            assert row.lines > 0 and row.events >= 0 and row.runs >= 0, row
            assert 0.0 <= row.coverage_pct <= 100.0, row
        else:
            assert row.outcome in ("not supported", "unreadable"), row
            assert row.message and "\n" not in row.message, row
            assert str(corpus / row.file) in row.message, row.message


def test_legacy_logs_are_not_supported_with_a_clear_message(rows):
    legacy = [row for row in rows if row.format == "legacy"]
    assert len(legacy) > 50
    for row in legacy:
        assert row.outcome == "not supported", row
        assert "legacy format (JDK 8 and earlier" in row.message
        assert "gcscope reads unified logging (-Xlog:gc*, JDK 9+)" in row.message


def test_unified_logs_are_read(rows):
    unified = [row for row in rows if row.format == "unified"]
    assert len(unified) > 50
    assert [row for row in unified if row.outcome != "ok"] == []
    # Most of the corpus's unified logs are of collectors with complete grammars.
    assert sum(1 for row in unified if row.coverage_pct == 100.0) > len(unified) // 2


def test_table_has_a_row_per_file_and_the_counts(rows, sweep_module):
    out = io.StringIO()
    sweep_module.print_table(rows, out)
    text = out.getvalue()
    for row in rows:
        assert row.file in text
    counts = sweep_module.counts(rows)
    assert sum(counts.values()) == len(rows)
    assert f"{len(rows)} files: {counts['ok']} ok, {counts['not supported']} not supported" in text
