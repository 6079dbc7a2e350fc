"""ZGC as gcscope reads it: one concurrent event per collection, its pauses, stalls and tables.

Every expected value below was read off the log line it comes from (quoted beside it).
"""

from __future__ import annotations

import polars as pl
import pytest

from gcscope import model
from gcscope.ingest import read_events

from .conftest import SAMPLE_LOGS

MB = 1024 * 1024


def _events(log: str) -> tuple[pl.DataFrame, list[dict]]:
    result = read_events([SAMPLE_LOGS / log])
    assert result.parse.coverage_pct == 100.0
    return result.events, result.runs


def _one(events: pl.DataFrame, **where) -> dict:
    rows = events.filter(pl.all_horizontal([pl.col(k) == v for k, v in where.items()]))
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_a_single_generation_cycle_starts_at_its_start_line():
    events, runs = _events("jdk17/zgc-gcstar.log")
    assert runs[0]["collector"] == "ZGC"
    assert runs[0]["heap_max_bytes"] == 64 * MB  # "Max Capacity: 64M"
    # [0.641s][info][gc,start    ] GC(3) Garbage Collection (Allocation Rate)
    # [0.655s][info][gc          ] GC(3) Garbage Collection (Allocation Rate) 30M(47%)->10M(16%)
    cycle = _one(events, gc_id=3, category=model.CONCURRENT)
    assert cycle[model.KIND] == "cycle"
    assert cycle[model.CAUSE] == "Allocation Rate"
    assert cycle[model.HEAP_BEFORE_BYTES] == 30 * MB
    assert cycle[model.HEAP_AFTER_BYTES] == 10 * MB
    assert cycle[model.UPTIME_S] == pytest.approx(0.641)
    assert cycle[model.DURATION_MS] == pytest.approx(14.0)
    # "GC(3)  Capacity: 64M (100%) ... 64M (100%)" (Relocate End), "GC(3) Metaspace: 0M used, 0M committed"
    assert cycle[model.HEAP_COMMITTED_BYTES] == 64 * MB
    assert cycle[model.METASPACE_AFTER_BYTES] == 0
    # "GC(3) Pause Mark Start 0.009ms", "GC(3) Pause Mark End 0.013ms", "GC(3) Pause Relocate Start 0.010ms"
    pauses = events.filter((pl.col(model.GC_ID) == 3) & (pl.col(model.CATEGORY) == model.PAUSE)).sort(model.UPTIME_S)
    assert pauses.get_column(model.KIND).to_list() == ["mark_start", "mark_end", "relocate_start"]
    assert pauses.get_column(model.DURATION_MS).to_list() == pytest.approx([0.009, 0.013, 0.010])
    # nothing of the collection's tables joined a pause
    assert pauses.get_column(model.HEAP_COMMITTED_BYTES).null_count() == 3


def test_an_xlog_gc_cycle_has_no_duration_and_a_stall_has_one():
    events, _ = _events("jdk17/zgc-gc.log")
    # [0.569s][info][gc] GC(3) Garbage Collection (Allocation Rate) 44M(69%)->10M(16%)
    cycle = _one(events, gc_id=3)
    assert (cycle[model.CATEGORY], cycle[model.KIND], cycle[model.CAUSE]) == (model.CONCURRENT, "cycle", "Allocation Rate")
    assert (cycle[model.HEAP_BEFORE_BYTES], cycle[model.HEAP_AFTER_BYTES]) == (44 * MB, 10 * MB)
    assert cycle[model.DURATION_MS] is None  # -Xlog:gc has no start line (gc,start) to time it by
    # [4.624s][info][gc] Allocation Stall (main) 1.431ms
    stall = _one(events, category=model.STALL)
    assert stall[model.NAME] == "Allocation Stall"
    assert stall[model.DURATION_MS] == pytest.approx(1.431)
    assert stall[model.UPTIME_S] == pytest.approx(4.624 - 0.001431)
    assert stall[model.GC_ID] is None


def test_generational_minor_and_major_collections():
    events, runs = _events("jdk21/zgc-generational-gcstar.log")
    assert runs[0]["collector"] == "ZGC"
    # [0.581s] GC(3) Minor Collection (Allocation Rate)
    # [0.652s] GC(3) Minor Collection (Allocation Rate) 48M(75%)->24M(38%) 0.071s
    # [0.652s] GC(3) y:      Used:       48M (75%)  52M (81%)  56M (88%)  20M (31%)   (young generation)
    minor = _one(events, gc_id=3, category=model.CONCURRENT)
    assert (minor[model.KIND], minor[model.CAUSE]) == ("minor", "Allocation Rate")
    assert (minor[model.HEAP_BEFORE_BYTES], minor[model.HEAP_AFTER_BYTES]) == (48 * MB, 24 * MB)
    assert minor[model.DURATION_MS] == pytest.approx(71.0)
    assert minor[model.UPTIME_S] == pytest.approx(0.581)
    assert (minor[model.YOUNG_BEFORE_BYTES], minor[model.YOUNG_AFTER_BYTES]) == (48 * MB, 20 * MB)
    # [0.776s] GC(5) Major Collection (Allocation Rate) 16M(25%)->20M(31%) 0.112s
    # [0.776s] GC(5) O:      Used:        4M (6%)   8M (12%)  10M (16%)  10M (16%)   (old generation)
    major = _one(events, gc_id=5, category=model.CONCURRENT)
    assert (major[model.KIND], major[model.CAUSE]) == ("major", "Allocation Rate")
    assert (major[model.HEAP_BEFORE_BYTES], major[model.HEAP_AFTER_BYTES]) == (16 * MB, 20 * MB)
    assert major[model.DURATION_MS] == pytest.approx(112.0)
    assert (major[model.OLD_BEFORE_BYTES], major[model.OLD_AFTER_BYTES]) == (4 * MB, 10 * MB)
    # a major collection's five pauses: young ("Y:", with "(Major)") and old ("O:")
    names = events.filter((pl.col(model.GC_ID) == 5) & (pl.col(model.CATEGORY) == model.PAUSE)).sort(model.UPTIME_S)
    assert names.get_column(model.NAME).to_list() == [
        "Y: Pause Mark Start (Major)", "Y: Pause Mark End", "Y: Pause Relocate Start",
        "O: Pause Mark End", "O: Pause Relocate Start",
    ]
    assert names.get_column(model.KIND).to_list() == [
        "mark_start", "mark_end", "relocate_start", "mark_end", "relocate_start",
    ]
    # [6.774s][info][gc          ] Allocation Stall (main) 11.019ms
    stall = _one(events, category=model.STALL, source_line=3055)
    assert stall[model.DURATION_MS] == pytest.approx(11.019)
    assert stall[model.UPTIME_S] == pytest.approx(6.774 - 0.011019)


def test_jdk11_reads_its_maximum_heap_at_exit():
    _, runs = _events("jdk11/zgc-gcstar.log")
    # JDK 11 prints no "Max Capacity" at start-up; at exit: " ZHeap  used 6M, capacity 64M, max capacity 64M"
    assert runs[0]["collector"] == "ZGC"
    assert runs[0]["heap_max_bytes"] == 64 * MB


def _size(text: str) -> int:
    return int(text[:-1]) * {"K": 2**10, "M": 2**20, "G": 2**30}[text[-1]]


@pytest.mark.parametrize("log", ["jdk21/zgc-generational-gcstar.log", "jdk25/zgc-gcstar.log"])
def test_generational_old_gen_saturation_is_old_after_of_the_max_heap(log: str):
    import re

    from gcscope.analysis import analyze_logs

    # Old after a major collection, from its "Old Generation Statistics" (four columns, the last
    # at Relocate End), e.g. "[0.776s] GC(5) O:      Used:   4M (6%)  8M (12%)  10M (16%)  10M (16%)";
    # the old generation can fill the heap: "[0.005s][info][gc,init] Max Capacity: 64M".
    text = (SAMPLE_LOGS / log).read_text()
    heap_max = _size(re.search(r"\[gc,init\] Max Capacity: (\d+[KMG])", text)[1])
    old_after = [
        _size(m[1])
        for m in re.finditer(r"GC\(\d+\) O:\s+Used:(?:\s+\d+[KMG] \(\d+%\)){3}\s+(\d+[KMG]) \(\d+%\)\s*$",
                             text, re.MULTILINE)
    ]
    assert len(old_after) > 5
    old = analyze_logs([SAMPLE_LOGS / log]).runs[0].old_gen
    assert old.basis == "old/heap_max"
    assert old.samples == len(old_after)
    assert old.saturation_last_pct == pytest.approx(100 * old_after[-1] / heap_max)
    assert old.saturation_max_pct == pytest.approx(100 * max(old_after) / heap_max)


def test_generational_promotion_is_the_old_generation_growth_between_major_collections():
    import re

    from gcscope.analysis import analyze_logs

    # Each major collection's "Old Generation Statistics" Used row: old at Mark Start (after its
    # young phase promoted) and at Relocate End, e.g. "[0.776s] GC(5) O:      Used:   4M (6%)
    # 8M (12%)  10M (16%)  10M (16%)"; promotion is old's growth from one major's end to the
    # next one's Mark Start, over the time from the end of the first major collection
    # ("[0.220s] GC(0) Major Collection (Warmup) 8M(12%)->4M(6%) 0.010s") to the start of the last.
    log = SAMPLE_LOGS / "jdk25/zgc-gcstar.log"
    text = log.read_text()
    rows = re.findall(r"GC\(\d+\) O:\s+Used:\s+(\d+[KMG]) \(\d+%\)(?:\s+\d+[KMG] \(\d+%\)){2}\s+(\d+[KMG]) \(\d+%\)\s*$",
                      text, re.MULTILINE)
    starts = [float(t) for t in re.findall(r"^\[([\d.]+)s\]\[info\]\[gc\s*\] GC\(\d+\) Major Collection \([^)]*\)$",
                                            text, re.MULTILINE)]
    ends = [float(t) for t in re.findall(r"^\[([\d.]+)s\]\[info\]\[gc\s*\] GC\(\d+\) Major Collection \(.*\) \S+->\S+ ",
                                          text, re.MULTILINE)]
    assert len(rows) == len(starts) == len(ends) > 5
    grown = sum(max(0, _size(rows[i + 1][0]) - _size(rows[i][1])) for i in range(len(rows) - 1))
    run = analyze_logs([log]).runs[0]
    assert run.promoted_bytes == grown
    # the first major's end: its start line plus the duration its summary line prints
    first_end = starts[0] + float(re.search(r"GC\(0\) Major Collection \(.*\) \S+ ([\d.]+)s$", text, re.MULTILINE)[1])
    assert run.promotion_rate_mb_s == pytest.approx(grown / MB / (starts[-1] - first_end), rel=1e-3)
