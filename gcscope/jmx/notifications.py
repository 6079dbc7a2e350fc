"""GC notifications (`com.sun.management.gc.notification`) → rows of EVENT_SCHEMA.

All callbacks of a connection arrive serially on one JVM thread: a slow handler stalls all of
them and makes the target drop notifications. So the listeners only put the Java object on a queue;
`drain()` converts them later, outside the callback. Notifications for GCs from just before the
subscription may arrive: rows are de-duplicated by (gcName, gcInfo id). When the client falls
behind the target's buffer, the connection listener gets `jmx.remote.connection.notifs.lost`
("may have lost up to N notifications"): that is recorded as a gap, and per collector the ids
tell exactly which collections have no detail (their count is still in the polled counters).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gcscope import model
from gcscope.jmx.connect import Connection
from gcscope.jmx.jvm import java_class
from gcscope.jmx.names import event_kind, pool_category

GC_NOTIFICATION = "com.sun.management.gc.notification"
NOTIFS_LOST = "jmx.remote.connection.notifs.lost"
CONNECTION_CLOSED = "jmx.remote.connection.closed"
CONNECTION_FAILED = "jmx.remote.connection.failed"

# Test-only: every GC notification callback sleeps this many milliseconds after enqueuing, as a
# stalled client would, so that a test can make the target's notification buffer overflow for
# real (`jmx.remote.connection.notifs.lost`). Unset (the default) it costs nothing.
SLOW_LISTENER_ENV = "GCSCOPE_TEST_SLOW_LISTENER_MS"

_GEN_OF_CATEGORY = {"eden": "eden", "survivor": "survivor", "old": "old", "young": "young"}


@dataclass
class Gap:
    """Notifications the target says were lost, or ids skipped by one collector."""

    collector: str | None
    lost: int
    first_id: int | None = None
    last_id: int | None = None
    reason: str = ""


@dataclass
class Subscription:
    conn: Connection
    inbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    listener: Any = None
    conn_listener: Any = None
    seen: set[tuple[str, int]] = field(default_factory=set)
    last_id: dict[str, int] = field(default_factory=dict)
    connection_lost: bool = False
    gc_objects: list[Any] = field(default_factory=list)
    closed: bool = False  # set by unsubscribe: callbacks return at once
    inflight: int = 0  # callbacks running now (in Python, holding or wanting the GIL)
    lock: Any = field(default_factory=threading.Lock)


def subscribe(conn: Connection, gc_objects: list[Any]) -> Subscription:
    """Register the GC and connection listeners (callbacks only enqueue)."""
    import jpype

    NotificationListener = java_class("javax.management.NotificationListener")

    sub = Subscription(conn, gc_objects=list(gc_objects))
    inbox = sub.inbox
    delay_s = float(os.environ.get(SLOW_LISTENER_ENV) or 0) / 1000.0

    def enqueue(notification, slow: bool) -> None:
        if sub.closed:
            return
        with sub.lock:
            sub.inflight += 1
        try:
            inbox.put(notification)
            if slow:
                until = time.monotonic() + delay_s
                while not sub.closed and time.monotonic() < until:
                    time.sleep(0.005)
        finally:
            with sub.lock:
                sub.inflight -= 1

    @jpype.JImplements(NotificationListener)
    class _Enqueue:
        def __init__(self, slow: bool = False):
            self.slow = slow

        @jpype.JOverride
        def handleNotification(self, notification, handback):
            enqueue(notification, self.slow)

    sub.listener = _Enqueue(slow=delay_s > 0)
    sub.conn_listener = _Enqueue()
    server, connector = conn.server, conn.connector

    def register():
        connector.addConnectionNotificationListener(sub.conn_listener, None, None)
        for on in gc_objects:
            server.addNotificationListener(on, sub.listener, None, None)

    conn.call(register)
    return sub


def drain(sub: Subscription, limit: int = 10_000) -> tuple[list[dict[str, Any]], list[Gap]]:
    """Convert what the listeners queued: (event rows without run_id, gaps)."""
    rows: list[dict[str, Any]] = []
    gaps: list[Gap] = []
    for _ in range(limit):
        try:
            notification = sub.inbox.get_nowait()
        except queue.Empty:
            break
        kind = str(notification.getType())
        if kind == GC_NOTIFICATION:
            row = gc_event(notification.getUserData())
            key = (row[model.NAME], row[model.GC_ID])
            if key in sub.seen:
                continue
            sub.seen.add(key)
            previous = sub.last_id.get(row[model.NAME])
            if previous is not None and row[model.GC_ID] > previous + 1:
                gaps.append(
                    Gap(
                        row[model.NAME],
                        row[model.GC_ID] - previous - 1,
                        previous + 1,
                        row[model.GC_ID] - 1,
                        "ids skipped",
                    )
                )
            if previous is None or row[model.GC_ID] > previous:
                sub.last_id[row[model.NAME]] = row[model.GC_ID]
            rows.append(row)
        elif kind == NOTIFS_LOST:
            user_data = notification.getUserData()
            lost = int(user_data) if user_data is not None else -1
            gaps.append(Gap(None, lost, reason=str(notification.getMessage())))
        elif kind in (CONNECTION_CLOSED, CONNECTION_FAILED):
            sub.connection_lost = True
    return rows, gaps


def _usage_map(tabular: Any) -> dict[str, tuple[int, int, int | None]]:
    """TabularData {pool name → MemoryUsage} → {name: (used, committed, max or None)}."""
    out = {}
    for row in tabular.values():
        name = str(row.get("key"))
        usage = row.get("value")
        maximum = int(usage.get("max"))
        out[name] = (
            int(usage.get("used")),
            int(usage.get("committed")),
            maximum if maximum >= 0 else None,
        )
    return out


def gc_event(user_data: Any) -> dict[str, Any]:
    """One GarbageCollectionNotificationInfo (CompositeData) → an EVENT_SCHEMA row."""
    gc_name = str(user_data.get("gcName"))
    action = str(user_data.get("gcAction"))
    cause = str(user_data.get("gcCause"))
    info = user_data.get("gcInfo")
    before = _usage_map(info.get("memoryUsageBeforeGc"))
    after = _usage_map(info.get("memoryUsageAfterGc"))
    category, kind = event_kind(gc_name, action, cause)
    row: dict[str, Any] = {
        model.GC_ID: int(info.get("id")),
        model.UPTIME_S: int(info.get("startTime")) / 1000.0,
        model.CATEGORY: category,
        model.KIND: kind,
        model.NAME: gc_name,
        model.CAUSE: cause,
        model.DURATION_MS: float(int(info.get("duration"))),
        "action": action,  # kept in recordings; not an EVENT_SCHEMA column
    }
    row.update(usage_columns(before, after))
    # G1 reports mixed collections on its young bean as "end of minor GC": the old generation
    # shrinking in a young collection is what tells them apart (a young-only one only promotes).
    old_before, old_after = row.get(model.OLD_BEFORE_BYTES), row.get(model.OLD_AFTER_BYTES)
    if (
        kind == "young"
        and gc_name.startswith("G1")
        and old_before is not None
        and old_after is not None
        and old_after < old_before
    ):
        row[model.KIND] = "mixed"
    return row


def usage_columns(
    before: dict[str, tuple[int, int, int | None]],
    after: dict[str, tuple[int, int, int | None]],
) -> dict[str, int | None]:
    """Per-pool before/after figures → heap, per-generation and metaspace EVENT columns."""
    cols: dict[str, int | None] = {}
    heap_before = heap_after = heap_committed = 0
    any_heap = False
    # ZGC's and Shenandoah's "Pauses" beans report every pool as 0 used, 0 committed: not a
    # measurement. A heap always has something committed, so all-zero heap pools mean unknown.
    heap_measured = any(
        committed > 0
        for name, (_, committed, _) in after.items()
        if pool_category(name) in ("eden", "survivor", "old", "heap", "young")
    )
    for name, (used_after, committed_after, max_after) in after.items():
        cat = pool_category(name)
        if cat in ("eden", "survivor", "old", "heap", "young") and not heap_measured:
            continue
        if cat == "metaspace" and committed_after == 0:
            continue
        used_before = before.get(name, (None, None, None))[0]
        if cat in ("eden", "survivor", "old", "heap", "young"):
            any_heap = True
            heap_before += used_before or 0
            heap_after += used_after
            heap_committed += committed_after
        gen = _GEN_OF_CATEGORY.get(cat)
        if gen is not None:
            cols[model.gen_col(gen, "before_bytes")] = used_before
            cols[model.gen_col(gen, "after_bytes")] = used_after
            # Old Gen capacity: its maximum where the JVM defines one (G1: the whole heap), else
            # what is committed (the log analysis measures saturation against the same).
            capacity = max_after if gen == "old" and max_after else committed_after
            cols[model.gen_col(gen, "capacity_bytes")] = capacity
        elif cat == "metaspace":
            cols[model.METASPACE_BEFORE_BYTES] = used_before
            cols[model.METASPACE_AFTER_BYTES] = used_after
            cols[model.METASPACE_COMMITTED_BYTES] = committed_after
    if any_heap:
        cols[model.HEAP_BEFORE_BYTES] = heap_before
        cols[model.HEAP_AFTER_BYTES] = heap_after
        cols[model.HEAP_COMMITTED_BYTES] = heap_committed
    return cols


def unsubscribe(sub: Subscription, timeout_s: float = 2.0) -> None:
    """Stop the callbacks: later ones return at once, the listeners are removed (unless the
    connection is gone), and a callback still running is given up to `timeout_s` to leave
    Python. A Java thread left waiting for the GIL in a callback would keep JPype's shutdown of
    the in-process JVM at exit waiting forever (seen with a backlog of notifications)."""
    sub.closed = True
    server, connector = sub.conn.server, sub.conn.connector

    def remove():
        for on in sub.gc_objects:
            with contextlib.suppress(Exception):  # a dead connection may fail here
                server.removeNotificationListener(on, sub.listener)
        with contextlib.suppress(Exception):
            connector.removeConnectionNotificationListener(sub.conn_listener)

    if not sub.connection_lost:
        with contextlib.suppress(Exception):  # a dead connection may fail here
            sub.conn.call(remove, timeout_s)
    deadline = time.monotonic() + timeout_s
    while sub.inflight and time.monotonic() < deadline:
        time.sleep(0.01)
