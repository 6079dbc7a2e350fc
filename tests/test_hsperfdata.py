"""The hsperfdata reader: the perfdata format, then real JVMs' counters against jstat."""

from __future__ import annotations

import struct
import subprocess
import time

import pytest

from gcscope import model
from gcscope.errors import TargetError
from gcscope.live import hsperfdata


def build_perfdata(
    entries: list[tuple[str, str, object, int, int]], *, little: bool = True, accessible: int = 1
) -> bytes:
    """A perfdata buffer laid out as HotSpot's perfMemory.hpp says (independent of the reader):
    entries are (name, type 'J'|'B', value, units, variability)."""
    bo = "<" if little else ">"
    body = b""
    for name, dtype, value, units, variability in entries:
        name_bytes = name.encode() + b"\0"
        name_offset = 20
        data_offset = (name_offset + len(name_bytes) + 7) // 8 * 8
        if dtype == "J":
            data, vlen = struct.pack(bo + "q", value), 0
        else:
            data = value.encode() + b"\0"
            vlen = len(data) + 3  # strings are stored in a longer, NUL-padded vector
            data += b"\0" * 3
        length = (data_offset + len(data) + 7) // 8 * 8
        header = struct.pack(
            bo + "iiicbbbi",
            length,
            name_offset,
            vlen,
            dtype.encode(),
            0,
            units,
            variability,
            data_offset,
        )
        entry = header + name_bytes
        entry += b"\0" * (data_offset - len(entry)) + data
        body += entry + b"\0" * (length - len(entry))
    prologue = struct.pack(">I", 0xCAFEC0C0) + struct.pack(
        "4B", 1 if little else 0, 2, 0, accessible
    )
    used = 32 + len(body)
    prologue += struct.pack(bo + "iiqii", used, 0, 0, 32, len(entries))
    return prologue + body + b"\0" * 64


COUNTERS = [
    ("sun.os.hrt.frequency", "J", 1_000_000_000, 6, 1),
    ("sun.os.hrt.ticks", "J", 12_500_000_000, 3, 3),
    ("sun.gc.collector.0.name", "B", "G1 young collection pauses", 5, 1),
    ("sun.gc.collector.0.invocations", "J", 7, 4, 3),
    ("sun.gc.collector.0.time", "J", 42_000_000, 3, 3),
    ("sun.gc.generation.0.name", "B", "young", 5, 1),
    ("sun.gc.generation.0.space.0.name", "B", "eden", 5, 1),
    ("sun.gc.generation.0.space.0.used", "J", 1_000_000, 2, 3),
    ("sun.gc.generation.0.space.0.capacity", "J", 4_000_000, 2, 3),
    ("sun.gc.generation.1.name", "B", "old", 5, 1),
    ("sun.gc.generation.1.space.0.name", "B", "space", 5, 1),
    ("sun.gc.generation.1.space.0.used", "J", 3_000_000, 2, 3),
    ("sun.gc.generation.1.space.0.capacity", "J", 8_000_000, 2, 3),
    ("sun.gc.generation.1.space.0.maxCapacity", "J", 64_000_000, 2, 1),
    ("sun.gc.lastCause", "B", "G1 Evacuation Pause", 5, 3),
]


@pytest.mark.parametrize("little", [True, False])
def test_parses_every_counter_in_either_byte_order(little):
    counters = hsperfdata.parse(build_perfdata(COUNTERS, little=little))
    assert len(counters) == len(COUNTERS)
    for name, _, value, units, _ in COUNTERS:
        assert counters[name].value == value, name
        assert counters[name].units == hsperfdata.UNITS[units]


def test_counters_become_samples_and_collector_rows():
    polled = hsperfdata.sample(hsperfdata.values(hsperfdata.parse(build_perfdata(COUNTERS))))
    assert polled.uptime_s == pytest.approx(12.5)
    pools = {p[model.POOL]: p for p in polled.pools}
    assert pools["young.eden"][model.POOL_CATEGORY] == "eden"
    assert pools["old.space"][model.POOL_CATEGORY] == "old"
    assert pools["old.space"][model.USED_BYTES] == 3_000_000
    assert pools["old.space"][model.MAX_BYTES] == 64_000_000
    (gc,) = polled.collectors
    assert gc[model.COLLECTION_COUNT] == 7
    assert gc[model.COLLECTION_TIME_MS] == pytest.approx(42.0)  # ticks / frequency
    assert polled.last_cause == "G1 Evacuation Pause"


def test_rejects_what_is_not_perfdata():
    with pytest.raises(TargetError, match="not a perfdata file"):
        hsperfdata.parse(b"\0" * 64, source="x")
    with pytest.raises(TargetError, match="not finished"):
        hsperfdata.parse(build_perfdata(COUNTERS, accessible=0))


def test_missing_pid_is_named():
    with pytest.raises(TargetError, match="no process with PID 999999999"):
        hsperfdata.find_hsperfdata(999999999)


@pytest.mark.jvm
@pytest.mark.parametrize("gc", ["-XX:+UseG1GC", "-XX:+UseParallelGC", "-XX:+UseSerialGC"])
def test_real_jvm_counters_agree_with_jstat(gc):
    from tests.jmx_support import start_target

    target = start_target(gc, jmx=False)
    try:
        time.sleep(1.0)  # some young collections
        path = hsperfdata.hsperfdata_path(target.pid)
        started = time.perf_counter()
        before = hsperfdata.sample(hsperfdata.values(hsperfdata.read(path)))
        read_ms = (time.perf_counter() - started) * 1000
        jstat = subprocess.run(
            ["jstat", "-gc", str(target.pid)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split("\n")
        values = hsperfdata.values(hsperfdata.read(path))
        after = hsperfdata.sample(values)
        header = jstat[0].split()
        row = [None if v == "-" else float(v) for v in jstat[1].split()]
        figures = dict(zip(header, row, strict=True))

        def bracket(polled_pair, pick, jstat_value):
            # jstat read the same counters between our two reads
            low, high = sorted(pick(p) for p in polled_pair)
            assert low - 1 <= jstat_value <= high + 1

        def pool_kb(category, column):
            return lambda p: (
                sum(r[column] for r in p.pools if r[model.POOL_CATEGORY] == category) / 1024
            )

        pair = (before, after)
        bracket(pair, pool_kb("old", model.COMMITTED_BYTES), figures["OC"])
        bracket(pair, pool_kb("metaspace", model.COMMITTED_BYTES), figures["MC"])
        bracket(pair, pool_kb("eden", model.COMMITTED_BYTES), figures["EC"])
        bracket(pair, lambda p: p.collectors[0][model.COLLECTION_COUNT], figures["YGC"])
        assert after.collectors[0][model.COLLECTION_COUNT] > 0  # the workload has collected
        assert read_ms < 50
        assert hsperfdata.run_meta(values, target.pid)["collector"] in ("G1", "Parallel", "Serial")
    finally:
        target.stop()
