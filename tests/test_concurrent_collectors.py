"""Shenandoah, generational Shenandoah, Epsilon and CMS: what their lines become.

Every expected value below was read off the log lines quoted beside it.
"""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from gcscope import model
from gcscope.ingest import read_events

from .conftest import SAMPLE_LOGS

M, K = 2**20, 2**10


def _events(path: str) -> pl.DataFrame:
    result = read_events([SAMPLE_LOGS / path])
    assert result.parse.coverage_pct == 100.0, [u.text for u in result.parse.unknown_examples]
    return result.events


def _one(events: pl.DataFrame, **where) -> dict:
    rows = events.filter(*[pl.col(k) == v for k, v in where.items()])
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_a_degenerated_shenandoah_gc_is_a_pause_of_its_own_kind():
    # [1.105s][info][gc             ] GC(11) Pause Degenerated GC (Outside of Cycle) 46M->45M(64M) 12.865ms
    events = _events("jdk17/shenandoah-gcstar-oom.log")
    event = _one(events, gc_id=11, category=model.PAUSE)
    assert event[model.KIND] == "degenerated"
    assert event[model.NAME] == "Pause Degenerated GC (Outside of Cycle)"
    assert (event[model.HEAP_BEFORE_BYTES], event[model.HEAP_AFTER_BYTES]) == (46 * M, 45 * M)
    assert event[model.HEAP_COMMITTED_BYTES] == 64 * M
    assert event[model.DURATION_MS] == pytest.approx(12.865)
    assert event[model.UPTIME_S] == pytest.approx(1.105 - 0.012865)  # printed when it ended
    # [1.092s][info][gc          ] Trigger: Handle Allocation Failure   (the line before GC(11)'s)
    assert event[model.CAUSE] == "Handle Allocation Failure"
    # the run's other bad news: 6 degenerated GCs and, after "Cannot finish degeneration,
    # upgrading to Full GC", [1.158s] GC(17) Pause Full 45M->45M(64M) 3.435ms
    kinds = events.filter(pl.col(model.CATEGORY) == model.PAUSE).get_column(model.KIND).value_counts()
    counts = dict(kinds.iter_rows())
    assert (counts["degenerated"], counts["full"]) == (6, 1)
    assert _one(events, gc_id=17, category=model.PAUSE)[model.DURATION_MS] == pytest.approx(3.435)


def test_a_shenandoah_cycle_is_one_concurrent_event_from_reset_to_last_cleanup():
    # [0.533s][info][gc          ] GC(0) Concurrent reset 0.071ms
    # [0.536s][info][gc          ] GC(0) Concurrent cleanup 16M->16M(64M) 0.010ms
    # [0.538s][info][gc          ] GC(0) Concurrent cleanup 18M->2M(64M) 0.015ms
    events = _events("jdk17/shenandoah-gcstar.log")
    cycle = _one(events, gc_id=0, category=model.CONCURRENT)
    assert (cycle[model.KIND], cycle[model.NAME]) == ("cycle", "Concurrent cleanup")
    assert cycle[model.HEAP_BEFORE_BYTES] == 16 * M  # as marking found it
    assert cycle[model.HEAP_AFTER_BYTES] == 2 * M  # after the last cleanup
    assert cycle[model.HEAP_COMMITTED_BYTES] == 64 * M
    assert cycle[model.UPTIME_S] == pytest.approx(0.533)
    assert cycle[model.DURATION_MS] == pytest.approx(5.0)
    assert cycle[model.SOURCE_LINE] == 85
    # [0.533s][info][gc          ] Trigger: Learning 1 of 5. Free (45824K) is below initial threshold (45875K)
    # has no GC id: it announces the next one, GC(0), and its leading words are the cause
    assert cycle[model.CAUSE] == "Learning"
    # its four pauses share the GC id: Init Mark, Final Mark, Init/Final Update Refs
    pauses = events.filter((pl.col(model.GC_ID) == 0) & (pl.col(model.CATEGORY) == model.PAUSE))
    assert sorted(pauses.get_column(model.KIND).to_list()) == ["final_mark", "initial_mark", "update_refs", "update_refs"]


def test_generational_shenandoah_cycles_carry_their_generation():
    # [4.086s] GC(24) Concurrent cleanup (Young) 28M->19M(64M) 0.031ms
    # [4.093s] GC(24) Concurrent cleanup (Old) 20M->20M(64M) 0.016ms   (old marking, same GC id)
    # [4.109s] GC(26) Coalescing and filling (Old) 1.365ms             (the old cycle's end)
    events = _events("jdk25/shenandoah-generational-gcstar-leak.log")
    young = _one(events, gc_id=24, category=model.CONCURRENT, kind="young")
    assert (young[model.HEAP_BEFORE_BYTES], young[model.HEAP_AFTER_BYTES]) == (24 * M, 19 * M)
    old = _one(events, gc_id=24, category=model.CONCURRENT, kind="old")
    assert (old[model.HEAP_BEFORE_BYTES], old[model.HEAP_AFTER_BYTES]) == (20 * M, 20 * M)
    filling = _one(events, gc_id=26, category=model.CONCURRENT)
    assert (filling[model.KIND], filling[model.DURATION_MS]) == ("old", pytest.approx(1.365))


def test_a_trigger_announces_the_next_collection_to_begin_not_one_still_logging():
    # [5.202s] Trigger (Old): Old has overgrown, live at end of previous OLD marking: …
    # [5.203s] GC(34) Concurrent reset (Young)                      (GC(34) begins)
    # [5.275s] Trigger (Young): Average GC time (…) is above the time …   (GC(34) still logs)
    # [5.276s] Trigger (Young): GC start is already pending         (an info rule's line, first
    #                                                                 in grammar order: no cause)
    # [5.719s] GC(34) … (Old)                                       (GC(34)'s old cycle)
    events = _events("jdk25/shenandoah-generational-gcstar-leak.log")
    causes = events.filter(pl.col(model.GC_ID).is_in([34, 35])).group_by(model.GC_ID).agg(
        pl.col(model.CAUSE).unique()
    )
    assert dict(causes.iter_rows()) == {34: ["Old has overgrown"], 35: ["Average GC time"]}
    assert "GC start is already pending" not in events.get_column(model.CAUSE).to_list()


def test_an_epsilon_heap_line_is_a_heap_sample():
    # [0.248s][info   ][gc          ] Heap: 256M reserved, 256M (100.00%) committed, 13231K (5.05%) used
    events = _events("jdk17/epsilon-gcstar-oom.log")
    samples = events.filter(pl.col(model.CATEGORY) == model.HEAP_SAMPLE)
    assert samples.height == 17 and events.height == 17  # nothing else: Epsilon never collects
    first = samples.row(0, named=True)
    assert first[model.UPTIME_S] == pytest.approx(0.248)
    assert (first[model.HEAP_AFTER_BYTES], first[model.HEAP_COMMITTED_BYTES]) == (13231 * K, 256 * M)
    # the line printed at exit, after the workload's OutOfMemoryError:
    # [4.869s][info   ][gc          ] Heap: 256M reserved, 256M (100.00%) committed, 252M (98.68%) used
    last = samples.row(-1, named=True)
    assert (last[model.UPTIME_S], last[model.HEAP_AFTER_BYTES]) == (pytest.approx(4.869), 252 * M)


def test_an_epsilon_heap_that_grows_shows_its_committed_size():
    # [0.973s] Heap: 128M reserved, 16384K (12.50%) committed, 13180K (10.06%) used
    # [1.109s] Heap: 128M reserved, 128M (100.00%) committed, 19774K (15.09%) used
    samples = _events("jdk25/epsilon-gcstar-oom.log")
    committed = samples.get_column(model.HEAP_COMMITTED_BYTES).to_list()
    assert committed[:3] == [16384 * K, 16384 * K, 128 * M]


def test_a_cms_cycle_is_one_concurrent_event_with_the_old_generation():
    # [2.572s][info][gc           ] GC(28) Concurrent Mark
    # [3.127s][info][gc           ] GC(28) Concurrent Reset 0.306ms
    # [3.127s][info][gc,heap      ] GC(28) Old: 21952K->11363K(43712K)
    events = _events("jdk11/cms-gcstar.log")
    cycle = _one(events, gc_id=28, category=model.CONCURRENT)
    assert (cycle[model.KIND], cycle[model.NAME]) == ("cycle", "Concurrent Cycle")
    assert cycle[model.UPTIME_S] == pytest.approx(2.572)
    assert cycle[model.DURATION_MS] == pytest.approx(555.0)
    assert (cycle[model.OLD_BEFORE_BYTES], cycle[model.OLD_AFTER_BYTES]) == (21952 * K, 11363 * K)
    assert cycle[model.OLD_CAPACITY_BYTES] == 43712 * K
    # [2.572s] GC(28) Pause Initial Mark 25M->25M(61M) 0.392ms, [3.123s] GC(28) Pause Remark 27M->27M(61M) 1.203ms
    pauses = events.filter((pl.col(model.GC_ID) == 28) & (pl.col(model.CATEGORY) == model.PAUSE))
    assert sorted(pauses.get_column(model.KIND).to_list()) == ["initial_mark", "remark"]
    # [0.188s] GC(0) ParNew: 17472K->1435K(19648K), GC(0) CMS: 0K->0K(43712K), then
    # GC(0) Pause Young (Allocation Failure) 17M->1M(61M) 2.821ms
    young = _one(events, gc_id=0)
    assert (young[model.KIND], young[model.CAUSE]) == ("young", "Allocation Failure")
    assert (young[model.YOUNG_BEFORE_BYTES], young[model.YOUNG_AFTER_BYTES]) == (17472 * K, 1435 * K)
    assert (young[model.OLD_AFTER_BYTES], young[model.OLD_CAPACITY_BYTES]) == (0, 43712 * K)


@pytest.mark.parametrize("path,collector", [
    ("jdk11/shenandoah-gcstar.log", "Shenandoah"),
    ("jdk25/shenandoah-generational-gcstar.log", "Shenandoah"),
    ("jdk21/epsilon-gc.log", "Epsilon"),
    ("jdk11/cms-gc.log", "CMS"),
])
def test_the_run_names_its_collector(path: str, collector: str):
    result = read_events([SAMPLE_LOGS / path])
    assert [run["collector"] for run in result.runs] == [collector]


def test_generational_shenandoah_old_gen_saturation_is_old_used_of_the_max_heap():
    import re

    from gcscope.analysis import analyze_logs

    # [8.544s] GC(80) At end of Concurrent Young GC: Old generation used: 21664K, used regions:
    #   21760K, humongous waste: 97432B, soft capacity: 0B, max capacity: 22016K, available: 256K
    # (the last such line; "max capacity" is the regions old owns now, not a limit)
    # [0.021s][info][gc,init] Heap Max Capacity: 64M
    log = SAMPLE_LOGS / "jdk25/shenandoah-generational-gcstar-leak.log"
    used = [int(k) * K for k in re.findall(r"Old generation used: (\d+)K", log.read_text())]
    event = _one(_events("jdk25/shenandoah-generational-gcstar-leak.log"), gc_id=80,
                 category=model.CONCURRENT)
    assert event[model.OLD_AFTER_BYTES] == 21664 * K
    old = analyze_logs([log]).runs[0].old_gen
    assert old.basis == "old/heap_max"
    assert old.saturation_last_pct == pytest.approx(100 * 21664 * K / (64 * M))
    assert old.saturation_max_pct == pytest.approx(100 * max(used) / (64 * M))


def test_an_epsilon_run_reports_its_heap_growth_and_where_the_heap_ran_out():
    from gcscope.analysis import analyze_logs

    # [0.248s] Heap: 256M reserved, 256M (100.00%) committed, 13231K (5.05%) used   (first)
    # [4.207s] Heap: 256M reserved, 256M (100.00%) committed, 232M (90.87%) used
    # [4.500s] Heap: 256M reserved, 256M (100.00%) committed, 248M (97.12%) used    (under 5 % left)
    # [4.869s] Heap: 256M reserved, 256M (100.00%) committed, 252M (98.68%) used    (at exit)
    run = analyze_logs([SAMPLE_LOGS / "jdk17/epsilon-gcstar-oom.log"]).runs[0]
    assert run.allocated_bytes == 252 * M - 13231 * K
    assert run.rate_span_s == pytest.approx(4.869 - 0.248)
    assert run.allocation_rate_mb_s == pytest.approx((252 * M - 13231 * K) / M / (4.869 - 0.248))
    assert run.promotion_rate_mb_s is None
    data = run.to_dict()
    assert data["heap_exhausted_at_s"] == pytest.approx(4.500)
    # JDK 11, System.gc() every second, the heap never near full:
    # [0.984s] Heap: 256M reserved, 32768K (12.50%) committed, 13346K (5.09%) used   (first)
    # [3.396s] Heap: 256M reserved, 160M (62.50%) committed, 101505K (38.72%) used   (last)
    sysgc = analyze_logs([SAMPLE_LOGS / "jdk11/epsilon-gcstar-sysgc.log"]).runs[0]
    assert sysgc.to_dict()["heap_exhausted_at_s"] is None
    assert sysgc.allocation_rate_mb_s == pytest.approx((101505 - 13346) * K / M / (3.396 - 0.984))


def test_generational_shenandoah_promotion_is_the_old_generation_growth_between_cycles():
    import re

    from gcscope.analysis import analyze_logs

    # One "At end of … GC: Old generation used: …" line per cycle, e.g.
    # [0.450s] GC(2) At end of Concurrent Young GC: Old generation used: 458K, …
    # [0.507s] GC(3) At end of Concurrent Young GC: Old generation used: 1024K, …
    # promotion: the growth from each to the next (never negative), from the first to the last
    log = SAMPLE_LOGS / "jdk25/shenandoah-generational-gcstar.log"
    used = [int(k) * (K if unit == "K" else 1)
            for k, unit in re.findall(r"Old generation used: (\d+)(K|B),", log.read_text())]
    assert len(used) == 43
    grown = sum(max(0, b - a) for a, b in itertools.pairwise(used))
    run = analyze_logs([log]).runs[0]
    assert run.promoted_bytes == grown
    assert run.promotion_rate_mb_s > 0
