"""What `gcscope watch` shows: a live rich panel on a terminal, plain lines otherwise.

Plain lines (also on a terminal, above the panel): connection changes, alerts as they start and
clear, heap dumps and refusals, notification gaps. The panel: per-pool used/committed/max bars,
heap after the last GC, GC rate, pause statistics so far, active alerts.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any

from gcscope import model


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.1f}"


def _stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")


class PlainView:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def _print(self, text: str) -> None:
        print(f"{_stamp()} {text}", file=self.stream, flush=True)

    def message(self, text: str) -> None:
        self._print(text)

    def connected(self, meta: dict[str, Any]) -> None:
        self._print(
            f"watching {meta.get('target')} (pid {meta.get('pid')}, "
            f"{meta.get('collector')}, {meta.get('jvm_version') or 'JVM'}) "
            f"via {meta.get('source')}"
        )

    def alert(self, alert: Any) -> None:
        if alert.state == "started":
            self._print(f"ALERT {alert.id} [{alert.severity}] {alert.title}: {alert.message}")
        else:
            self._print(f"CLEARED {alert.id} {alert.title}")

    def update(self, watcher: Any, polled: Any) -> None:
        pass

    def close(self) -> None:
        pass


class RichView(PlainView):
    """A rich Live panel redrawn each poll (at most 4 times a second)."""

    def __init__(self, stream=None):
        from rich.console import Console
        from rich.live import Live

        super().__init__(stream)
        self.console = Console(file=self.stream)
        self.live = Live(console=self.console, auto_refresh=False, transient=False)
        self.live.start()
        self._last = 0.0

    def _print(self, text: str) -> None:
        self.live.console.print(f"{_stamp()} {text}", markup=False, highlight=False)

    def update(self, watcher: Any, polled: Any) -> None:
        now = time.monotonic()
        if now - self._last < 0.25:
            return
        self._last = now
        self.live.update(render(watcher, polled), refresh=True)

    def close(self) -> None:
        self.live.stop()


def _bar(used: int | None, limit: int | None, width: int = 24) -> str:
    if not used or not limit:
        return " " * width
    filled = max(0, min(width, round(width * used / limit)))
    return "█" * filled + "░" * (width - filled)


def gc_rates(recent_counts: Any, collectors: list[dict[str, Any]]) -> dict[str, float] | None:
    """Collections per minute over the recent polls, per collector category: `pause` (beans
    that time stop-the-world pauses) and `concurrent` (ZGC/Shenandoah "Cycles" beans).

    Never the sum of all beans: a ZGC or Shenandoah collection is counted once by its "Cycles"
    bean and again, several times, by its "Pauses" bean (3 or more pauses per cycle). A bean
    absent from the oldest poll of the window is not counted (its whole count is not new)."""
    if len(recent_counts) < 2:
        return None
    (t0, c0), (t1, c1) = recent_counts[0], recent_counts[-1]
    if t1 <= t0:
        return None
    category = {row[model.COLLECTOR]: row[model.CATEGORY] for row in collectors}
    rates: dict[str, float] = {}
    for name, count in c1.items():
        before = c0.get(name)
        cat = category.get(name)
        if count is None or before is None or cat is None:
            continue
        rates[cat] = rates.get(cat, 0.0) + (count - before) / (t1 - t0) * 60
    return rates


def gc_rate_text(recent_counts: Any, collectors: list[dict[str, Any]]) -> str:
    """'12.0 GC/min' for stop-the-world collectors; '4.0 GC cycles/min, 12.0 pauses/min' where
    concurrent cycles are counted apart from their pauses (ZGC, Shenandoah)."""
    rates = gc_rates(recent_counts, collectors)
    if rates is None:
        return ""
    pauses = rates.get(model.PAUSE, 0.0)
    if model.CONCURRENT in rates:
        return f"{rates[model.CONCURRENT]:,.1f} GC cycles/min, {pauses:,.1f} pauses/min"
    return f"{pauses:,.1f} GC/min"


def render(watcher: Any, polled: Any):
    """The panel for the latest poll."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    run = watcher.run
    table = Table(
        title=f"{run.meta.get('target')} · pid {run.meta.get('pid')} · "
        f"{run.meta.get('collector')} · uptime {polled.uptime_s:,.0f} s",
        expand=False,
    )
    for column in ("pool", "category", "used MB", "committed MB", "max MB", "used of max"):
        table.add_column(column, justify="right" if "MB" in column else "left")
    for row in polled.pools:
        limit = row[model.MAX_BYTES] or row[model.COMMITTED_BYTES]
        table.add_row(
            Text(row[model.POOL]),
            row[model.POOL_CATEGORY],
            _mb(row[model.USED_BYTES]),
            _mb(row[model.COMMITTED_BYTES]),
            _mb(row[model.MAX_BYTES]),
            _bar(row[model.USED_BYTES], limit),
        )
    pauses = [
        e[model.DURATION_MS]
        for e in run.events
        if e[model.CATEGORY] == model.PAUSE and e[model.DURATION_MS] is not None
    ]
    last_after = next(
        (
            e.get(model.HEAP_AFTER_BYTES)
            for e in reversed(run.events)
            if e.get(model.HEAP_AFTER_BYTES) is not None
        ),
        None,
    )
    rate = gc_rate_text(run.recent_counts, polled.collectors)
    stats = f"heap after last GC {_mb(last_after)} MB · {rate or 'GC rate -'} · "
    if pauses:
        ordered = sorted(pauses)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        stats += (
            f"pauses {len(pauses)}: total {sum(pauses):,.0f} ms, p99 {p99:,.0f} ms, "
            f"max {ordered[-1]:,.0f} ms"
        )
    else:
        stats += "no pauses yet"
    active = [f"[{a.severity}] {a.id} {a.title}" for a in watcher.alerts.active.values()]
    # plain Text: "[warning]" would otherwise be taken for rich markup and vanish
    alerts = Text("alerts: " + ("; ".join(active) if active else "none"))
    return Group(table, Text(stats), alerts)
