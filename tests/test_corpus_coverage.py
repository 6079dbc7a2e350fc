"""Every unified log of the public corpus (of the collectors in tests/corpus_logs.py) parses, with >= 99 % of its
lines recognised. The per-file table is printed (run pytest with -s to see it)."""

from __future__ import annotations

from pathlib import Path

from gcscope.ingest import read_events

from .conftest import CORPUS
from .corpus_logs import unified_corpus_logs

MIN_COVERAGE_PCT = 99.0


LOGS = unified_corpus_logs()


def test_the_corpus_is_there(corpus: Path):
    assert len(LOGS) >= 30


def test_corpus_coverage(capsys):
    table, failures = [], []
    for log in LOGS:
        result = read_events([log], max_unknown=3)
        report = result.parse
        collectors = ",".join(sorted({run["collector"] or "?" for run in result.runs}))
        table.append(f"{report.coverage_pct:7.2f}%  {report.unknown_lines:5d}/{report.lines:6d}  "
                     f"{collectors:9s} {log.relative_to(CORPUS)}")
        if report.coverage_pct < MIN_COVERAGE_PCT:
            failures.append((log, [u.text for u in report.unknown_examples]))
        assert result.events.height > 0, f"{log}: no events"
    with capsys.disabled():
        print("\ncoverage  unknown/lines collector file")
        print("\n".join(table))
    assert not failures, failures
