"""Pool and collector names → categories (pure Python: no JVM needed)."""

from __future__ import annotations

import pytest

from gcscope import model
from gcscope.jmx.names import collector_family, collector_info, event_kind, pool_category

# The names measured on JDK 17 and 25 (JMX-NOTES), per collector.
MEASURED = {
    "G1": {"G1 Eden Space": "eden", "G1 Survivor Space": "survivor", "G1 Old Gen": "old"},
    "Parallel": {"PS Eden Space": "eden", "PS Survivor Space": "survivor", "PS Old Gen": "old"},
    "Serial": {"Eden Space": "eden", "Survivor Space": "survivor", "Tenured Gen": "old"},
    "ZGC": {"ZHeap": "heap"},
    "ZGC generational": {"ZGC Young Generation": "young", "ZGC Old Generation": "old"},
    "Shenandoah": {"Shenandoah": "heap"},
    "Shenandoah generational": {"Shenandoah Young Gen": "young", "Shenandoah Old Gen": "old"},
    "Epsilon": {"Epsilon Heap": "heap"},
    "non-heap": {
        "Metaspace": "metaspace",
        "Compressed Class Space": "compressed_class",
        "CodeHeap 'non-nmethods'": "code_cache",
        "CodeHeap 'profiled nmethods'": "code_cache",
        "CodeHeap 'non-profiled nmethods'": "code_cache",
    },
}


@pytest.mark.parametrize("collector", sorted(MEASURED))
def test_measured_pool_names_have_their_category(collector):
    for name, category in MEASURED[collector].items():
        assert pool_category(name) == category, name
        assert category in model.POOL_CATEGORIES


def test_unknown_pool_names_fall_back_by_substring():
    assert pool_category("Future Eden Space") == "eden"
    assert pool_category("XGC Tenured Region") == "old"
    assert pool_category("Some Metaspace Thing") == "metaspace"
    assert pool_category("CodeHeap 'new kind'") == "code_cache"
    assert pool_category("Mystery") == "other"


@pytest.mark.parametrize(
    "bean",
    ["ZGC Cycles", "ZGC Minor Cycles", "ZGC Major Cycles", "Shenandoah Cycles", "Future GC Cycles"],
)
def test_cycles_beans_are_concurrent_never_pauses(bean):
    assert collector_info(bean).category == model.CONCURRENT


@pytest.mark.parametrize(
    "bean,kind",
    [
        ("G1 Young Generation", "young"),
        ("G1 Old Generation", "full"),
        ("PS Scavenge", "young"),
        ("PS MarkSweep", "full"),
        ("Copy", "young"),
        ("MarkSweepCompact", "full"),
        ("ZGC Pauses", "other"),
        ("ZGC Minor Pauses", "other"),
    ],
)
def test_pause_beans(bean, kind):
    info = collector_info(bean)
    assert (info.category, info.kind) == (model.PAUSE, kind)


def test_shenandoah_phase_comes_from_gc_action():
    assert event_kind("Shenandoah Pauses", "Init Mark", "Concurrent GC") == (
        model.PAUSE,
        "initial_mark",
    )
    assert event_kind("Shenandoah Pauses", "Final Update Refs", "x") == (model.PAUSE, "update_refs")
    assert event_kind("Shenandoah Pauses", "Degenerated GC", "x")[1] == "degenerated"
    assert event_kind("G1 Concurrent GC", "end of GC pause", "G1 Cleanup")[1] == "cleanup"


def test_collector_family_from_bean_names():
    assert collector_family(["G1 Young Generation", "G1 Old Generation"]) == "G1"
    assert collector_family(["ZGC Minor Cycles", "ZGC Minor Pauses"]) == "ZGC generational"
    assert collector_family(["Copy", "MarkSweepCompact"]) == "Serial"
