"""A real JVM per collector: gcscope's pause counts equal the JVM's GarbageCollectorMXBeans."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gcscope.ingest import read_events

from .corpus_logs import assert_counts_equal
from .java_support import compile_workload, run_workload

COLLECTORS = {
    "G1": ["-XX:+UseG1GC"],
    "Parallel": ["-XX:+UseParallelGC"],
    "Serial": ["-XX:+UseSerialGC"],
}


@pytest.mark.jvm
@pytest.mark.parametrize("collector", list(COLLECTORS))
def test_pause_counts_equal_mxbean_counts_of_a_live_jvm(collector: str, tmp_path: Path):
    classes = compile_workload(tmp_path)
    log = tmp_path / f"{collector}.log"
    beans = run_workload(
        shutil.which("java") or "java", classes, log,
        ["-Xmx48m", "-Xms48m", *COLLECTORS[collector]],
        # sysgc adds full collections to the young ones: both kinds are counted
        ["--seconds", "4", "--mode", "sysgc"],
    )
    result = read_events([log])
    assert result.parse.coverage_pct == 100.0, [u.text for u in result.parse.unknown_examples]
    assert result.runs[0]["collector"] == collector
    assert sum(beans.values()) > 5, beans  # the run really collected
    assert_counts_equal(result.events, beans)
