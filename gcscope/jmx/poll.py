"""Poll every memory pool and collector of a connected JVM → rows of the live sample tables.

One `getAttributes` per bean (the bulk call: ~2× faster than one `getAttribute` per attribute),
the calls of a poll made at once on up to PARALLEL_CALLS workers (see there); the slowly changing
non-heap pools and the uptime only every 10th poll (see SLOW_EVERY). `getAttributes` silently
omits what it could not read, so every reply is checked and a missing figure becomes null (and is
reported once), never a stale or zero value. `warm_up` right after `discover` makes the polls
that follow several times faster (see there).
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
# attribute and key names: JPype passes each list as a String[]
USAGE_KEYS = ["used", "committed", "max"]
GC_ATTRS = ["CollectionCount", "CollectionTime"]

# A poll's remote calls are made at once, each on a worker (and an RMI connection) of its own,
# up to this many; more calls are shared out among them. Measured (bench/bench_poll.py, G1, 6
# calls, 1 s interval, after warm_up): one call after an idle second takes ~1.5 ms on loopback
# against ~0.5 ms back to back — threads on both sides wake up, and RMI pings the target before
# reusing a connection (its round-trip estimate is 0 ms on loopback, so it always does) — and
# six in a row took a median of 7.6 ms against 4.2 ms with six at once. The cost: up to this
# many JMX connections (and RMI threads) on the target instead of one.
PARALLEL_CALLS = 6

# The first polls of a connection run cold code on both sides (our JVM's and the target's RMI and
# serialisation paths, interpreted until the JIT compiles them). Measured at a 1 s interval: 5
# polls of warm-up left a median poll of 10.7 ms, 200 polls (~1 s, ~0.8 s of CPU, once) 4.0 ms.
# So right after connecting, warm_up polls back to back until WARM_UP_POLLS or WARM_UP_S. The
# JIT counts invocations, not time: the polls are the goal and the time only a cap, wide enough
# for a slow machine (on the development VM, in a slow spell, 1 s gave only 85 polls and a median
# poll of 8.5 ms afterwards; a fast spell makes 200 polls in ~1 s).
WARM_UP_S = 3.0
WARM_UP_POLLS = 200


def _calls(conn: Connection, beans: PoolSet, wanted: list[int], full: bool) -> list:
    """The remote reads of one poll, as callables: uptime (on full polls), pools, collectors."""
    server = conn.server

    def read_uptime():
        return server.getAttributes(beans.runtime_object, ["Uptime"])

    def read_pool(on):
        got = server.getAttributes(on, ["Usage"])
        # CompositeData.getAll: the three figures in one JPype crossing
        return None if got.isEmpty() else got.get(0).getValue().getAll(USAGE_KEYS)

    def read_gc(on):
        return server.getAttributes(on, GC_ATTRS)

    calls = [read_uptime] if full else []
    calls += [lambda on=beans.pool_objects[i]: read_pool(on) for i in wanted]
    calls += [lambda on=on: read_gc(on) for on in beans.gc_objects]
    return calls


def _fetch(conn: Connection, calls: list) -> list:
    """Run the calls at once on up to PARALLEL_CALLS workers; results in the calls' order."""
    width = min(PARALLEL_CALLS, len(calls))
    shares = [calls[k::width] for k in range(width)]  # share k: calls k, k+width, …
    results = conn.call_all([lambda share=share: [call() for call in share] for share in shares])
    ordered = [None] * len(calls)
    for k, share_results in enumerate(results):
        ordered[k::width] = share_results
    return ordered


def _wanted(beans: PoolSet, full: bool) -> list[int]:
    return [
        i
        for i, name in enumerate(beans.pool_names)
        if full or pool_category(name) not in SLOW_CATEGORIES
    ]


def warm_up(
    conn: Connection, beans: PoolSet, budget_s: float = WARM_UP_S, polls: int = WARM_UP_POLLS
) -> int:
    """Poll back to back, results discarded, until budget_s or polls; returns the polls made."""
    calls = _calls(conn, beans, _wanted(beans, full=False), full=False)
    deadline = time.monotonic() + budget_s
    made = 0
    while made < polls and time.monotonic() < deadline:
        _fetch(conn, calls)
        made += 1
    return made


def poll(conn: Connection, beans: PoolSet) -> Poll:
    """Read pools and collectors, all calls at once (bounded by the connection's timeout)."""
    full = beans.polls % SLOW_EVERY == 0 or beans.uptime_mark is None
    wanted = _wanted(beans, full)
    calls = _calls(conn, beans, wanted, full)

    started = time.perf_counter()
    clock = time.monotonic()  # the uptime read starts with the poll: this moment
    values = _fetch(conn, calls)
    uptime_list = values.pop(0) if full else None
    pool_values, gc_lists = values[: len(wanted)], values[len(wanted) :]
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
        for attr in GC_ATTRS:
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
