"""The one schema: every column gcscope produces, its type and its unit.

Log events (from `gcscope.ingest`) and live samples (from `gcscope.jmx`) are both expressed
in these columns, so every analysis runs unchanged on either source. Other modules import
column names from here rather than spelling them again.

Units live in names: `_s` seconds, `_ms` milliseconds, `_bytes` bytes, `_pct` percent.
Every measurement column is nullable: a log that does not print a value yields null, never 0.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # polars is imported on first use of a schema: `gcscope --help` stays fast
    import polars as pl

# --- identity and time -------------------------------------------------------------------
RUN_ID = "run_id"  # index of the JVM run within the analysed input (a restart starts a new run)
SOURCE_FILE = "source_file"  # file (or "archive.zip!member") the anchor line came from
SOURCE_LINE = "source_line"  # 1-based line number of the anchor line in that file
GC_ID = "gc_id"  # the JVM's GC(n) number; null where the JVM printed none
UPTIME_S = "uptime_s"  # JVM uptime at the start of the event
TIME = "time"  # absolute wall-clock time of the start, when the log decorates with time/utctime

# --- what happened -------------------------------------------------------------------------
CATEGORY = "category"  # one of CATEGORIES below
KIND = "kind"  # normalised kind, one of PAUSE_KINDS / CONCURRENT_KINDS (grammar tables map to it)
NAME = "name"  # the collector's own wording, e.g. "Pause Young (Normal)"
CAUSE = "cause"  # e.g. "G1 Evacuation Pause", "Allocation Failure", "System.gc()"
DURATION_MS = "duration_ms"  # stop-the-world duration for pauses, wall time for concurrent work
FAILURE = "failure"  # what went wrong, as logged: "To-space exhausted", "Evacuation Failure: ..."
TIME_TO_SAFEPOINT_MS = "time_to_safepoint_ms"  # safepoints: time until all threads stopped

# What every event keeps whichever measurement columns a reader asks for (`wanted`).
EVENT_CORE_COLUMNS = (RUN_ID, SOURCE_FILE, SOURCE_LINE, GC_ID, UPTIME_S, TIME,
                      CATEGORY, KIND, NAME, CAUSE, DURATION_MS, FAILURE)

# --- heap as a whole ------------------------------------------------------------------------
HEAP_BEFORE_BYTES = "heap_before_bytes"
HEAP_AFTER_BYTES = "heap_after_bytes"
HEAP_COMMITTED_BYTES = "heap_committed_bytes"  # capacity printed after the collection

# --- per generation / space (where the log has them) ----------------------------------------
# G1 prints regions; the engine converts them to bytes with the region size of the run.
GENERATIONS = ("young", "eden", "survivor", "old", "humongous")
GEN_SUFFIXES = ("before_bytes", "after_bytes", "capacity_bytes")


def gen_col(generation: str, suffix: str) -> str:
    """Column name for a generation figure, e.g. gen_col("old", "after_bytes")."""
    assert generation in GENERATIONS and suffix in GEN_SUFFIXES, (generation, suffix)
    return f"{generation}_{suffix}"


OLD_BEFORE_BYTES = gen_col("old", "before_bytes")
OLD_AFTER_BYTES = gen_col("old", "after_bytes")
OLD_CAPACITY_BYTES = gen_col("old", "capacity_bytes")
YOUNG_BEFORE_BYTES = gen_col("young", "before_bytes")
YOUNG_AFTER_BYTES = gen_col("young", "after_bytes")
YOUNG_CAPACITY_BYTES = gen_col("young", "capacity_bytes")

METASPACE_BEFORE_BYTES = "metaspace_before_bytes"
METASPACE_AFTER_BYTES = "metaspace_after_bytes"
METASPACE_COMMITTED_BYTES = "metaspace_committed_bytes"

# --- CPU of the collection ("User=0.21s Sys=1.16s Real=0.14s") ------------------------------
USER_S = "user_s"
SYS_S = "sys_s"
REAL_S = "real_s"

# --- categories and kinds ---------------------------------------------------------------------
PAUSE = "pause"  # stop-the-world: counted in pause percentiles and throughput
CONCURRENT = "concurrent"  # a concurrent cycle (G1 mark cycle, ZGC/Shenandoah cycle): wall time
STALL = "stall"  # allocation stall (ZGC): a latency incident with no pause logged
SAFEPOINT = "safepoint"  # -Xlog:safepoint: time to safepoint + duration per VM operation
HEAP_SAMPLE = "heap_sample"  # heap occupancy without a collection (Epsilon, periodic lines)
CATEGORIES = (PAUSE, CONCURRENT, STALL, SAFEPOINT, HEAP_SAMPLE)

# Pause kinds every collector's grammar maps its wording to.
PAUSE_KINDS = (
    "young",  # young/minor collection (G1 Normal/Concurrent Start/Prepare Mixed, PS/Serial young)
    "mixed",  # G1 mixed collection: young + some old regions
    "full",  # full, stop-the-world compaction of the whole heap
    "remark",  # G1/CMS remark
    "cleanup",  # G1 cleanup
    "initial_mark",  # CMS initial mark / Shenandoah init mark
    "final_mark",  # Shenandoah final mark
    "mark_start",  # ZGC Pause Mark Start
    "mark_end",  # ZGC Pause Mark End
    "relocate_start",  # ZGC Pause Relocate Start
    "update_refs",  # Shenandoah init/final update refs
    "final_roots",  # Shenandoah final roots
    "degenerated",  # Shenandoah degenerated GC (bad news: counted separately too)
    "other",  # a pause the grammar knows but does not classify further
)
# Kinds of concurrent events (category "concurrent"), as the grammars' kinds tables name them.
CONCURRENT_KINDS = (
    "mark_cycle",  # G1 concurrent mark cycle (remark and cleanup pauses share its GC id)
    "cycle",  # a whole ZGC / Shenandoah / CMS concurrent collection
    "minor",  # generational ZGC minor (young) collection
    "major",  # generational ZGC major (young + old) collection
    "young",  # generational Shenandoah young cycle
    "old",  # generational Shenandoah old cycle
    "global",  # generational Shenandoah global cycle
)
# Kinds that reclaim the old generation: the post-GC baseline of the leak verdict uses them.
OLD_RECLAIMING_KINDS = ("full", "mixed", "remark", "cleanup", "degenerated")

# --- the event table ----------------------------------------------------------------------------
def _event_schema() -> dict[str, pl.DataType]:
    import polars as pl

    # The text columns hold a handful of distinct values over millions of events: categorical,
    # they cost 4 bytes a row (as strings ~25: 250 MB of a 2 GB log's 2.1 million events).
    return {
        RUN_ID: pl.UInt32(),
        SOURCE_FILE: pl.Categorical(),
        SOURCE_LINE: pl.UInt32(),
        GC_ID: pl.Int64(),
        UPTIME_S: pl.Float64(),
        TIME: pl.Datetime("ms", "UTC"),
        CATEGORY: pl.Categorical(),
        KIND: pl.Categorical(),
        NAME: pl.Categorical(),
        CAUSE: pl.Categorical(),
        DURATION_MS: pl.Float64(),
        FAILURE: pl.Categorical(),
        TIME_TO_SAFEPOINT_MS: pl.Float64(),
        HEAP_BEFORE_BYTES: pl.Int64(),
        HEAP_AFTER_BYTES: pl.Int64(),
        HEAP_COMMITTED_BYTES: pl.Int64(),
        **{gen_col(g, s): pl.Int64() for g in GENERATIONS for s in GEN_SUFFIXES},
        METASPACE_BEFORE_BYTES: pl.Int64(),
        METASPACE_AFTER_BYTES: pl.Int64(),
        METASPACE_COMMITTED_BYTES: pl.Int64(),
        USER_S: pl.Float64(),
        SYS_S: pl.Float64(),
        REAL_S: pl.Float64(),
    }


def empty_events() -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema=_schema("EVENT_SCHEMA"))


def conform_events(frame: pl.DataFrame) -> pl.DataFrame:
    """Add missing columns as nulls and order/cast columns as EVENT_SCHEMA says."""
    import polars as pl

    exprs = []
    for name, dtype in _schema("EVENT_SCHEMA").items():
        if name in frame.columns:
            exprs.append(pl.col(name).cast(dtype, strict=False))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(exprs)


# --- live samples (JMX polls, hsperfdata reads, recordings) -------------------------------------
# One row per (poll, memory pool). Pools are categorised so analyses need not know JVM names.
POOL = "pool"  # the JVM's own name, e.g. "G1 Old Gen"
POOL_CATEGORY = "pool_category"  # one of POOL_CATEGORIES
USED_BYTES = "used_bytes"
COMMITTED_BYTES = "committed_bytes"
MAX_BYTES = "max_bytes"  # null where the JVM reports -1 (undefined)
POOL_CATEGORIES = (
    "eden",
    "survivor",
    "old",
    "heap",  # single-generation heaps: ZHeap, Shenandoah, Epsilon Heap
    "young",  # generational ZGC / Shenandoah young generation
    "metaspace",
    "compressed_class",
    "code_cache",
    "other",
)
def _sample_schema() -> dict[str, pl.DataType]:
    import polars as pl

    return {
        RUN_ID: pl.UInt32(),
        UPTIME_S: pl.Float64(),
        TIME: pl.Datetime("ms", "UTC"),
        POOL: pl.String(),
        POOL_CATEGORY: pl.String(),
        USED_BYTES: pl.Int64(),
        COMMITTED_BYTES: pl.Int64(),
        MAX_BYTES: pl.Int64(),
    }


def empty_samples() -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema=_schema("SAMPLE_SCHEMA"))


@cache
def _schema(name: str) -> dict:
    return {
        "EVENT_SCHEMA": _event_schema,
        "SAMPLE_SCHEMA": _sample_schema,
        "COLLECTOR_SAMPLE_SCHEMA": _collector_sample_schema,
    }[name]()


def __getattr__(name: str):
    """The schemas (EVENT_SCHEMA, SAMPLE_SCHEMA, COLLECTOR_SAMPLE_SCHEMA) are built on first
    use: they need polars, and naming a column must not cost its import."""
    if name in ("EVENT_SCHEMA", "SAMPLE_SCHEMA", "COLLECTOR_SAMPLE_SCHEMA"):
        return _schema(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- run metadata -------------------------------------------------------------------------------
# A run is one JVM lifetime. Its metadata is a plain dict with these keys (nulls allowed).
RUN_META_KEYS = (
    RUN_ID,
    "source_set",  # the rotated set (or file) the run was read from
    "collector",  # "G1", "Parallel", "Serial", "ZGC", "ZGC generational", "Shenandoah", ...
    "jvm_version",  # e.g. "17.0.15+6-Debian-1deb12u1"; null when the log lacks it
    "heap_max_bytes",
    "heap_initial_bytes",
    "heap_min_bytes",
    "heap_reserved_bytes",  # "Heap address: …, size: N MB" (JDK 9-14 print no max capacity)
    "region_size_bytes",  # G1 only
    "region_size_inferred",  # True when the log lacked the region size and it was inferred
    "cpus",
    "memory_bytes",  # physical memory the JVM saw
    "command_line",  # flags, where the log shows them
    "hostname",
    "pid",
    "start_uptime_s",
    "end_uptime_s",
    "start_time",  # ISO 8601, when the log has absolute time
    "files",  # the files (or archive members) this run was read from, in order
)


# --- live collector counters (JMX GarbageCollectorMXBean, hsperfdata sun.gc.collector.N) -------
# One row per (poll, collector). Cumulative since JVM start, as the JVM reports them; a log has
# no such table. `category` says whether the collector's time is pause time or concurrent time
# (ZGC/Shenandoah "Cycles" beans time concurrent work and must never count as pauses).
COLLECTOR = "collector"  # the JVM's own name, e.g. "G1 Young Generation", "ZGC Minor Cycles"
COLLECTION_COUNT = "collection_count"
COLLECTION_TIME_MS = "collection_time_ms"
def _collector_sample_schema() -> dict[str, pl.DataType]:
    import polars as pl

    return {
        RUN_ID: pl.UInt32(),
        UPTIME_S: pl.Float64(),
        TIME: pl.Datetime("ms", "UTC"),
        COLLECTOR: pl.String(),
        CATEGORY: pl.String(),
        COLLECTION_COUNT: pl.Int64(),
        COLLECTION_TIME_MS: pl.Float64(),
    }
