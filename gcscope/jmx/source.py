"""A live source over JMX: connect, poll, GC notifications, heap dumps, histograms.

The watch loop (`gcscope.live.watcher`) sees this and the hsperfdata source through the same
small interface: `open() -> run meta`, `poll() -> Poll`, `drain() -> (event rows, gaps)`,
`close()`, plus `dump_heap(path)` / `class_histogram(live)` where the source can.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gcscope.errors import TargetError
from gcscope.jmx import diagnostics, notifications
from gcscope.jmx.connect import Connection, Credentials, Target, connect
from gcscope.jmx.jvm import JvmSettings
from gcscope.jmx.poll import PoolSet, discover, poll, warm_up
from gcscope.jmx.worker import Worker
from gcscope.live.samples import Poll


class JmxSource:
    kind = "jmx"
    can_dump = True
    has_notifications = True

    def __init__(
        self,
        target: Target,
        *,
        credentials: Credentials | None = None,
        ssl_registry: bool = False,
        connect_timeout_s: float = 10.0,
        call_timeout_s: float = 10.0,
        settings: JvmSettings | None = None,
    ):
        self.target = target
        self.credentials = credentials
        self.ssl_registry = ssl_registry
        self.connect_timeout_s = connect_timeout_s
        self.call_timeout_s = call_timeout_s
        self.settings = settings or JvmSettings(handshake_timeout_s=connect_timeout_s)
        self.conn: Connection | None = None
        self.beans: PoolSet | None = None
        self.sub: notifications.Subscription | None = None

    @property
    def is_local(self) -> bool:
        return self.target.is_local

    @property
    def identity(self) -> tuple[Any, Any]:
        """(pid, JVM start time): a restarted JVM has a different one."""
        conn = self.conn
        return (conn.pid, conn.jvm_start_ms) if conn else (None, None)

    def open(self) -> dict[str, Any]:
        self.conn = connect(
            self.target,
            credentials=self.credentials,
            ssl_registry=self.ssl_registry,
            connect_timeout_s=self.connect_timeout_s,
            call_timeout_s=self.call_timeout_s,
            settings=self.settings,
        )
        try:
            self.beans = discover(self.conn)
            self.sub = notifications.subscribe(self.conn, self.beans.gc_objects)
            warm_up(self.conn, self.beans)  # 200 polls (≤ 3 s), once: later polls are faster
        except BaseException:
            self.close()
            raise
        start = self.conn.jvm_start_ms
        return {
            "target": self.target.text,
            "source": self.kind,
            "collector": self.beans.collector,
            "jvm_version": self.conn.jvm_version,
            "heap_max_bytes": self.beans.heap_max_bytes,
            "pid": self.conn.pid,
            "jvm_start_ms": start,
            "start_time": datetime.fromtimestamp(start / 1000, UTC).isoformat() if start else None,
            "pools": self.beans.pool_names,
            "gcs": self.beans.gc_names,
        }

    def poll(self) -> Poll:
        if self.conn is None or self.beans is None:
            raise TargetError(f"{self.target.text}: not connected")
        if self.sub is not None and self.sub.connection_lost:
            raise TargetError(f"{self.target.text}: the connection was lost")
        return poll(self.conn, self.beans)

    def drain(self) -> tuple[list[dict[str, Any]], list[notifications.Gap]]:
        if self.sub is None:
            return [], []
        rows, gaps = notifications.drain(self.sub)
        start = self.conn.jvm_start_ms if self.conn else None
        if start:
            for row in rows:
                row["time"] = datetime.fromtimestamp(start / 1000 + row["uptime_s"], UTC)
        return rows, gaps

    def dump_heap(self, path: str, *, live: bool = True, timeout_s: float = 600.0) -> None:
        """On a worker of its own, so polling goes on meanwhile (the caller runs it on a
        thread); bounded by timeout_s and the client JVM's RMI responseTimeout."""
        if self.conn is None:
            raise TargetError(f"{self.target.text}: not connected")
        conn = self.conn
        side = Connection(
            conn.target,
            conn.connector,
            conn.server,
            Worker("gcscope-dump"),
            call_timeout_s=timeout_s,
        )
        try:
            diagnostics.dump_heap(side, path, live=live, timeout_s=timeout_s)
        finally:
            side.worker.close()

    def class_histogram(self, *, live: bool = True) -> str:
        if self.conn is None:
            raise TargetError(f"{self.target.text}: not connected")
        return diagnostics.class_histogram(self.conn, live=live)

    def close(self) -> None:
        if self.sub is not None:
            notifications.unsubscribe(self.sub)  # no callback left running at exit
            self.sub = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
