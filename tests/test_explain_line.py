"""`gcscope explain-line`: the rule that reads a line and its fields, or, for a line no rule
reads, the nearest rule and the column (with a caret) where it stopped.

The lines are real JVM output (sample_logs/jdk17/g1-gcstar.log, parallel-gcstar.log), one of
them altered by hand where a line must fail.
"""

from __future__ import annotations

import io

import pytest

from gcscope import cli
from gcscope.errors import ExitStatus

from .conftest import SAMPLE_LOGS


def real_line(log: str, contains: str) -> str:
    path = SAMPLE_LOGS / "jdk17" / log
    return next(line for line in path.read_text().splitlines() if contains in line)


G1_PAUSE = real_line("g1-gcstar.log", "Pause Young (Normal) (G1 Evacuation Pause) 6M->")


def explain(*argv: str, capsys) -> tuple[int, list[str]]:
    status = cli.main(["explain-line", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out.splitlines()


def test_matched_line_names_the_rule_and_its_fields(capsys):
    assert G1_PAUSE == ("[0.077s][info][gc          ] GC(0) Pause Young (Normal) (G1 Evacuation Pause) "
                        "6M->1M(64M) 4.601ms")
    status, out = explain(G1_PAUSE, capsys=capsys)
    assert status == ExitStatus.OK
    assert out[0] == "decorations: uptime=0.077s, level=info, tags=gc"
    assert out[1].startswith("rule: g1_pause (g1, grammars/g1.grammar:")
    assert out[1].endswith(" yields pause")
    fields = dict(line.strip().split(" = ", 1) for line in out[2:])
    assert fields == {
        "uptime_s": "0.077", "gc_id": "0", "name": "'Pause Young (Normal)'",
        "cause": "'G1 Evacuation Pause'", "heap_before_bytes": str(6 * 2**20),
        "heap_after_bytes": str(2**20), "heap_committed_bytes": str(64 * 2**20),
        "duration_ms": "4.601",
    }


def test_parallel_line_is_read_by_the_parallel_grammar(capsys):
    line = real_line("parallel-gcstar.log", "Pause Young (Allocation Failure) 1")
    status, out = explain("--collector", "parallel", line, capsys=capsys)
    assert status == ExitStatus.OK
    assert out[1].startswith("rule: parallel_pause (parallel, grammars/parallel.grammar:")


@pytest.mark.parametrize("broken, at, expected", [
    ("6M=>1M(64M)", "=>", "'->'"),  # the arrow: the rule stops where it is
    ("4.601xs", "4.601xs", "duration_ms"),  # the unit: the duration token fails as a whole
])
def test_unmatched_line_shows_where_the_nearest_rule_stopped(capsys, broken, at, expected):
    original = "6M->1M(64M)" if "=>" in broken else "4.601ms"
    line = G1_PAUSE.replace(original, broken)
    status, out = explain(line, capsys=capsys)
    assert status == ExitStatus.FINDINGS == 1
    column = line.index(at) + 1  # 1-based column of the first character no rule accepts
    assert out[1].startswith("no rule matches; nearest is g1_pause (grammars/g1.grammar:"), out[1]
    assert out[1].endswith(f"which stopped at column {column}: expected {expected}"), out[1]
    assert out[2] == f"  {line}"
    caret = out[3]
    assert caret.strip() == "^"
    assert caret.index("^") - 2 == column - 1  # under that character of the line shown above
    assert line[caret.index("^") - 2:].startswith(at)


def test_collector_option_limits_the_grammars(capsys):
    status, out = explain("--collector", "parallel", G1_PAUSE, capsys=capsys)
    assert status == ExitStatus.FINDINGS
    assert "nearest is" in out[1] and "g1_pause" not in out[1]
    status, _ = explain("--collector", "nosuch", G1_PAUSE, capsys=capsys)
    assert status == ExitStatus.USAGE


def test_line_from_standard_input(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(G1_PAUSE + "\r\n"))
    status, out = explain("-", capsys=capsys)
    assert status == ExitStatus.OK and out[1].startswith("rule: g1_pause ")
