"""JVM memory-pool and collector names → gcscope categories (pure Python: no jpype here).

An exact table holds every name measured on JDK 17 and 25 (see JMX-NOTES); a substring fallback
catches names a future JDK words differently. Collector beans whose name says "Cycles" time
concurrent work (wall time), never pauses: they map to category "concurrent".
"""

from __future__ import annotations

from dataclasses import dataclass

from gcscope.model import CONCURRENT, PAUSE

# --- memory pools ----------------------------------------------------------------------------
POOL_TABLE: dict[str, str] = {
    # G1
    "G1 Eden Space": "eden",
    "G1 Survivor Space": "survivor",
    "G1 Old Gen": "old",
    # Parallel
    "PS Eden Space": "eden",
    "PS Survivor Space": "survivor",
    "PS Old Gen": "old",
    # Serial
    "Eden Space": "eden",
    "Survivor Space": "survivor",
    "Tenured Gen": "old",
    # ZGC (single generation, JDK ≤ 22) and generational ZGC (JDK 21+)
    "ZHeap": "heap",
    "ZGC Young Generation": "young",
    "ZGC Old Generation": "old",
    # Shenandoah and generational Shenandoah (JDK 25)
    "Shenandoah": "heap",
    "Shenandoah Young Gen": "young",
    "Shenandoah Old Gen": "old",
    # Epsilon
    "Epsilon Heap": "heap",
    # non-heap
    "Metaspace": "metaspace",
    "Compressed Class Space": "compressed_class",
    "CodeHeap 'non-nmethods'": "code_cache",
    "CodeHeap 'profiled nmethods'": "code_cache",
    "CodeHeap 'non-profiled nmethods'": "code_cache",
    "Code Cache": "code_cache",  # -XX:-SegmentedCodeCache
}

# Checked in order on the lower-cased name; the first match wins.
_POOL_FALLBACK: tuple[tuple[str, str], ...] = (
    ("eden", "eden"),
    ("survivor", "survivor"),
    ("old", "old"),
    ("tenured", "old"),
    ("young", "young"),
    ("compressed class", "compressed_class"),
    ("metaspace", "metaspace"),
    ("codeheap", "code_cache"),
    ("code cache", "code_cache"),
    ("heap", "heap"),
)

HEAP_POOL_CATEGORIES = ("eden", "survivor", "old", "heap", "young")


def pool_category(name: str) -> str:
    """Category of a memory pool (one of `gcscope.model.POOL_CATEGORIES`)."""
    exact = POOL_TABLE.get(name)
    if exact is not None:
        return exact
    lowered = name.lower()
    for needle, category in _POOL_FALLBACK:
        if needle in lowered:
            return category
    return "other"


def is_heap_category(category: str) -> bool:
    return category in HEAP_POOL_CATEGORIES


# --- collectors ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CollectorInfo:
    category: str  # model.PAUSE or model.CONCURRENT
    # default kind of its events: model.PAUSE_KINDS for pauses; for concurrent cycles "cycle",
    # or "minor"/"major" for generational ZGC (the leak verdict skips young-only "minor" ones)
    kind: str
    collector: str  # the family, as RUN_META "collector"


COLLECTOR_TABLE: dict[str, CollectorInfo] = {
    "G1 Young Generation": CollectorInfo(PAUSE, "young", "G1"),
    "G1 Old Generation": CollectorInfo(PAUSE, "full", "G1"),
    "G1 Concurrent GC": CollectorInfo(PAUSE, "remark", "G1"),  # JDK 25: remark and cleanup
    "PS Scavenge": CollectorInfo(PAUSE, "young", "Parallel"),
    "PS MarkSweep": CollectorInfo(PAUSE, "full", "Parallel"),
    "Copy": CollectorInfo(PAUSE, "young", "Serial"),
    "MarkSweepCompact": CollectorInfo(PAUSE, "full", "Serial"),
    "ZGC Cycles": CollectorInfo(CONCURRENT, "cycle", "ZGC"),
    "ZGC Pauses": CollectorInfo(PAUSE, "other", "ZGC"),
    "ZGC Minor Cycles": CollectorInfo(CONCURRENT, "minor", "ZGC generational"),
    "ZGC Minor Pauses": CollectorInfo(PAUSE, "other", "ZGC generational"),
    "ZGC Major Cycles": CollectorInfo(CONCURRENT, "major", "ZGC generational"),
    "ZGC Major Pauses": CollectorInfo(PAUSE, "other", "ZGC generational"),
    "Shenandoah Cycles": CollectorInfo(CONCURRENT, "cycle", "Shenandoah"),
    "Shenandoah Pauses": CollectorInfo(PAUSE, "other", "Shenandoah"),
    "Epsilon Heap": CollectorInfo(PAUSE, "other", "Epsilon"),
}

# Shenandoah's "Pauses" bean names the phase in gcAction; G1's concurrent bean names it in the
# cause. Lower-cased substring → kind, first match wins.
_PHASE_KINDS: tuple[tuple[str, str], ...] = (
    ("degenerated", "degenerated"),
    ("init mark", "initial_mark"),
    ("final mark", "final_mark"),
    ("update refs", "update_refs"),
    ("final roots", "final_roots"),
    ("remark", "remark"),
    ("cleanup", "cleanup"),
    ("full", "full"),
)


def collector_info(name: str) -> CollectorInfo:
    """Category, default kind and family of a GarbageCollectorMXBean name."""
    exact = COLLECTOR_TABLE.get(name)
    if exact is not None:
        return exact
    lowered = name.lower()
    family = name.split(" ")[0] if name else "unknown"
    if "cycle" in lowered or ("concurrent" in lowered and "pause" not in lowered):
        return CollectorInfo(CONCURRENT, "cycle", family)
    if any(w in lowered for w in ("old", "major", "marksweep", "full", "tenured")):
        return CollectorInfo(PAUSE, "full", family)
    if any(w in lowered for w in ("young", "minor", "scavenge", "copy", "new")):
        return CollectorInfo(PAUSE, "young", family)
    return CollectorInfo(PAUSE, "other", family)


def event_kind(gc_name: str, gc_action: str | None, gc_cause: str | None) -> tuple[str, str]:
    """(category, kind) of one GC notification."""
    info = collector_info(gc_name)
    if info.category == PAUSE and info.kind in ("other", "remark"):
        text = f"{gc_action or ''} {gc_cause or ''}".lower()
        for needle, kind in _PHASE_KINDS:
            if needle in text:
                return info.category, kind
    return info.category, info.kind


def is_gc_bean(name: str) -> bool:
    """False for memory managers that are not collectors (listed by MemoryManagerNames)."""
    return name not in ("CodeCacheManager", "Metaspace Manager")


def collector_family(gc_names: list[str]) -> str:
    """The collector family of a JVM from its GC bean names, e.g. "G1"."""
    for name in gc_names:
        info = COLLECTOR_TABLE.get(name)
        if info is not None:
            return info.collector
    return gc_names[0].split(" ")[0] if gc_names else "unknown"
