"""Poll every memory pool and collector of a connected JVM → rows of the live sample tables.

One `getAttributes` per bean (the bulk call: ~2× faster than one `getAttribute` per attribute),
all in one worker call; the slowly changing non-heap pools and the uptime only every 10th poll
(see SLOW_EVERY). `getAttributes` silently omits what it could not read, so every reply is
checked and a missing figure becomes null (and is reported once), never a stale or zero value.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gcscope import model
from gcscope.jmx.connect import Connection
from gcscope.jmx.jvm import java_class
from gcscope.jmx.names import collector_family, collector_info, is_gc_bean, pool_category
from gcscope.live.samples import Poll


@dataclass
class PoolSet:
    """The beans of one JVM, found once per connection."""

    pool_names: list[str]
    gc_names: list[str]
    pool_objects: list[Any] = field(repr=False, default_factory=list)
    gc_objects: list[Any] = field(repr=False, default_factory=list)
    runtime_object: Any = field(repr=False, default=None)
    heap_max_bytes: int | None = None
    polls: int = 0
    uptime_mark: tuple[float, float] | None = None  # (JVM uptime s, our monotonic clock)
    last_usage: dict[int, tuple[int | None, int | None, int | None]] = field(default_factory=dict)

    @property
    def collector(self) -> str:
        return collector_family(self.gc_names)


def discover(conn: Connection) -> PoolSet:
    ObjectName = java_class("javax.management.ObjectName")

    server = conn.server

    def fetch():
        pools = sorted(
            server.queryNames(ObjectName("java.lang:type=MemoryPool,*"), None),
            key=lambda on: str(on.getKeyProperty("name")),
        )
        gcs = sorted(
            server.queryNames(ObjectName("java.lang:type=GarbageCollector,*"), None),
            key=lambda on: str(on.getKeyProperty("name")),
        )
        heap = server.getAttribute(ObjectName("java.lang:type=Memory"), "HeapMemoryUsage")
        return pools, gcs, int(heap.get("max"))

    pools, gcs, heap_max = conn.call(fetch)
    gcs = [on for on in gcs if is_gc_bean(str(on.getKeyProperty("name")))]
    return PoolSet(
        pool_names=[str(on.getKeyProperty("name")) for on in pools],
        gc_names=[str(on.getKeyProperty("name")) for on in gcs],
        pool_objects=list(pools),
        gc_objects=list(gcs),
        runtime_object=ObjectName("java.lang:type=Runtime"),
        heap_max_bytes=heap_max if heap_max >= 0 else None,
    )


_missing_reported: set[str] = set()


def _note_missing(what: str) -> None:
    if what not in _missing_reported:
        _missing_reported.add(what)
        print(f"gcscope: note: the target did not return {what}; shown as unknown", file=sys.stderr)


# The code cache and compressed class space change slowly and no rule reads them: they are read
# on every SLOW_EVERY-th poll only (the first of a connection included), and so is the JVM's
# uptime, estimated in between from our monotonic clock. For a G1 JVM that is 6 remote calls per
# poll (3 heap pools, Metaspace, 2 collectors) and 11 on every 10th, instead of 11 each time
# (~30 % less latency and CPU, bench/bench_poll.py). A carried-over pool keeps
# its last read figures in the live view and the OpenMetrics, and is named in `Poll.stale_pools`
# so that a recording writes each pool only when it was read. Unknown ("other") pools may be
# heap pools of a future collector: they are read every time.
SLOW_EVERY = 10
SLOW_CATEGORIES = ("code_cache", "compressed_class")
USAGE_KEYS = ["used", "committed", "max"]  # JPype passes it as a String[]


def poll(conn: Connection, beans: PoolSet) -> Poll:
    """Read pools and collectors in one worker call (bounded by the connection's timeout)."""
    server = conn.server
    gc_attrs = ["CollectionCount", "CollectionTime"]
    full = beans.polls % SLOW_EVERY == 0 or beans.uptime_mark is None
    wanted = [
        i
        for i, name in enumerate(beans.pool_names)
        if full or pool_category(name) not in SLOW_CATEGORIES
    ]
    pool_objects = [beans.pool_objects[i] for i in wanted]

    def fetch():
        uptime = server.getAttributes(beans.runtime_object, ["Uptime"]) if full else None
        pools = []
        for on in pool_objects:
            got = server.getAttributes(on, ["Usage"])
            # CompositeData.getAll: the three figures in one JPype crossing
            pools.append(None if got.isEmpty() else got.get(0).getValue().getAll(USAGE_KEYS))
        gcs = [server.getAttributes(on, gc_attrs) for on in beans.gc_objects]
        return uptime, pools, gcs

    started = time.perf_counter()
    clock = time.monotonic()  # the uptime is read first thing in the call: this moment
    uptime_list, pool_values, gc_lists = conn.call(fetch)
    now = datetime.now(UTC)
    beans.polls += 1
    if uptime_list is not None:
        uptime_values = _as_dict(uptime_list)
        if "Uptime" in uptime_values:
            beans.uptime_mark = (int(uptime_values["Uptime"]) / 1000.0, clock)
        else:
            _note_missing("Runtime.Uptime")
    if beans.uptime_mark is not None:
        mark_uptime, mark_clock = beans.uptime_mark
        uptime_s = round(mark_uptime + (clock - mark_clock), 3)
    else:
        uptime_s = float("nan")
    for i, values in zip(wanted, pool_values, strict=True):
        if values is None:
            _note_missing(f"the usage of pool {beans.pool_names[i]!r}")
            beans.last_usage[i] = (None, None, None)
        else:
            used, committed, maximum = (int(v) for v in values)
            beans.last_usage[i] = (used, committed, maximum if maximum >= 0 else None)
    read = set(wanted)
    stale = frozenset(name for i, name in enumerate(beans.pool_names) if i not in read)
    pools = []
    for i, name in enumerate(beans.pool_names):
        used, committed, maximum = beans.last_usage.get(i, (None, None, None))
        pools.append(
            {
                model.UPTIME_S: uptime_s,
                model.TIME: now,
                model.POOL: name,
                model.POOL_CATEGORY: pool_category(name),
                model.USED_BYTES: used,
                model.COMMITTED_BYTES: committed,
                model.MAX_BYTES: maximum,
            }
        )
    collectors = []
    for name, values in zip(beans.gc_names, gc_lists, strict=True):
        got = _as_dict(values)
        for attr in gc_attrs:
            if attr not in got:
                _note_missing(f"{attr} of collector {name!r}")
        count = got.get("CollectionCount")
        time_ms = got.get("CollectionTime")
        collectors.append(
            {
                model.UPTIME_S: uptime_s,
                model.TIME: now,
                model.COLLECTOR: name,
                model.CATEGORY: collector_info(name).category,
                model.COLLECTION_COUNT: None if count is None or int(count) < 0 else int(count),
                model.COLLECTION_TIME_MS: None
                if time_ms is None or int(time_ms) < 0
                else float(int(time_ms)),
            }
        )
    latency_ms = (time.perf_counter() - started) * 1000.0
    return Poll(uptime_s, now, pools, collectors, latency_ms, stale_pools=stale)


def _as_dict(attribute_list: Any) -> dict[str, Any]:
    return {str(a.getName()): a.getValue() for a in attribute_list.asList()}
