"""The watch loop: poll a live source, record, evaluate the rules, dump on breach, reconnect.

Source-agnostic (JMX or hsperfdata: see `gcscope.jmx.source` and `gcscope.live.hsperfdata`).
Ctrl-C loses nothing: the main thread never blocks in Java (sources call it on worker threads
with timeouts) and sleeps in 0.1 s slices, so KeyboardInterrupt arrives promptly and the
`finally` closes the recording with everything received so far.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from gcscope import model
from gcscope.errors import ExitStatus, TargetError
from gcscope.live.alerts import DEFAULT_WINDOW_S, Alert, AlertTracker, evaluate_live
from gcscope.live.dumps import DumpGuard, DumpPolicy
from gcscope.live.recording import Recorder
from gcscope.live.samples import FROM_COUNTS, Poll

SLICE_S = 0.1
MAX_BACKOFF_S = 30.0


@dataclass
class WatchOptions:
    interval_s: float = 1.0
    duration_s: float | None = None
    record: str | None = None
    on_alert: str | None = None
    dump: DumpPolicy | None = None
    alert_window_s: float = DEFAULT_WINDOW_S
    evaluate_every_s: float = 5.0
    config: Any = None
    reconnect: bool = True
    prometheus: str | None = None  # HOST:PORT to serve OpenMetrics on


@dataclass
class RunState:
    """What the watch knows of the JVM lifetime it is watching now."""

    run_id: int
    meta: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    last_poll: Poll | None = None
    first_poll: Poll | None = None
    peaks: dict[str, int] = field(default_factory=dict)  # pool category → peak used bytes
    polls: int = 0
    notified: int = 0
    from_counts: int = 0
    lost: int = 0
    # per collector: highest GC id accounted for (notified or filled from counts)
    accounted: dict[str, int] = field(default_factory=dict)
    notified_ids: dict[str, set[int]] = field(default_factory=dict)
    # (collector, GC id) → index in `events` of a collection filled in from the counts, which
    # its notification may still replace (a slow client gets them late, seconds after the count)
    filled_at: dict[tuple[str, int], int] = field(default_factory=dict)
    superseded: int = 0  # filled-in collections whose late notification replaced them
    previous_counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    recent_counts: deque = field(default_factory=lambda: deque(maxlen=120))


class Watcher:
    def __init__(self, source: Any, options: WatchOptions, view: Any, out=None):
        self.source = source
        self.options = options
        self.view = view
        self.out = out or sys.stderr
        self.recorder = Recorder(options.record)
        self.alerts = AlertTracker(options.on_alert)
        self.dumps = DumpGuard(options.dump) if options.dump else None
        self.exporter = None
        if options.prometheus:
            from gcscope.live.prometheus import Exporter

            target = getattr(getattr(source, "target", None), "text", None)
            self.exporter = Exporter(options.prometheus, target or str(getattr(source, "pid", "")))
        self.run: RunState | None = None
        self.runs: list[RunState] = []
        self.connected = False
        self.target_lost = False
        self.latencies_ms: deque[float] = deque(maxlen=10_000)
        self.messages: deque[str] = deque(maxlen=8)
        self._identity: Any = None
        self._dump_thread: threading.Thread | None = None
        self._dump_result: dict[str, Any] | None = None
        self._next_eval = 0.0
        self._last_eval = 0.0
        self._events_at_eval = -1

    # --- reporting ------------------------------------------------------------------------
    def say(self, message: str) -> None:
        self.messages.append(message)
        self.view.message(message)

    # --- the loop -------------------------------------------------------------------------
    def watch(self) -> int:
        """Until --duration ends (or Ctrl-C). Returns the exit status. The duration counts
        from the first connection (starting the in-process JVM and connecting take a second
        or two that should not eat into a short watch)."""
        deadline = None
        backoff = 1.0
        next_tick = time.monotonic()
        try:
            while deadline is None or time.monotonic() < deadline:
                if not self.connected:
                    if not self._connect(first=not self.runs):
                        if not self.options.reconnect or not self._may_come_back():
                            return ExitStatus.TARGET_UNREACHABLE
                        self._sleep_until(time.monotonic() + backoff, deadline)
                        backoff = min(backoff * 2, MAX_BACKOFF_S)
                        continue
                    backoff = 1.0
                    next_tick = time.monotonic()
                    if deadline is None and self.options.duration_s is not None:
                        deadline = next_tick + self.options.duration_s
                self._tick()
                self.recorder.flush()  # kill -9 loses at most this interval
                next_tick += self.options.interval_s
                if next_tick < time.monotonic():  # fell behind (slow target): do not burst
                    next_tick = time.monotonic() + self.options.interval_s
                self._sleep_until(next_tick, deadline)
            return ExitStatus.TARGET_UNREACHABLE if self.target_lost else ExitStatus.OK
        finally:
            self._finish()

    def _may_come_back(self) -> bool:
        """A HOST:PORT target may restart on the same port; a dead PID never comes back."""
        target = getattr(self.source, "target", None)
        pid = (
            getattr(target, "pid", None)
            if target is not None
            else getattr(self.source, "pid", None)
        )
        if pid is None:
            return True
        from gcscope.jmx.connect import _pid_exists

        return _pid_exists(pid)

    def _sleep_until(self, when: float, deadline: float | None) -> None:
        if deadline is not None:
            when = min(when, deadline)
        while True:
            left = when - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(SLICE_S, left))  # short slices: Ctrl-C is handled at once
            self._check_dump()

    def _connect(self, *, first: bool) -> bool:
        try:
            meta = self.source.open()
        except TargetError as exc:
            if first:
                raise  # nothing to watch: the caller reports it (exit 4)
            if not self.target_lost:
                self.say(f"target unreachable: {exc}; retrying")
            self.target_lost = True
            return False
        self.connected = True
        identity = self.source.identity
        if self.run is not None and identity == self._identity:
            self.recorder.note("reconnected", target=meta.get("target"))
            self.say("reconnected to the same JVM")
        else:
            run_id = self.recorder.start_run(meta)
            if self.run is not None:
                self.say(f"a new JVM (run {run_id}): pid {meta.get('pid')}")
            self.run = RunState(run_id, meta)
            self.runs.append(self.run)
            self._identity = identity
        self.target_lost = False
        self.view.connected(meta)
        return True

    def _lose(self, exc: Exception) -> None:
        self.say(f"target lost: {exc}")
        self.recorder.note("disconnected", reason=str(exc))
        self.recorder.flush()
        with contextlib.suppress(Exception):  # a dead connection may fail here
            self.source.close()
        self.connected = False
        self.target_lost = True
        if self.exporter is not None:
            self.exporter.update(None, up=False)
        if self.run is not None:
            uptime = self.run.last_poll.uptime_s if self.run.last_poll else None
            self._report(self.alerts.clear_run(self.run.run_id, uptime))

    def _tick(self) -> None:
        run = self.run
        assert run is not None
        try:
            polled = self.source.poll()
        except TargetError as exc:
            self._lose(exc)
            return
        self.latencies_ms.append(polled.latency_ms)
        if self.exporter is not None:
            self.exporter.update(polled)
        rows, gaps = self.source.drain()
        for gap in gaps:
            self.recorder.gap(gap)
            if gap.collector is None:
                # what the target says it dropped; the ids each collector then skips are the
                # same notifications again (recorded, not counted twice)
                run.lost += max(gap.lost, 0)
                self.say(
                    f"the target dropped GC notifications ({gap.reason}); their collections "
                    "are filled in from the collection counts"
                )
        late = 0
        for row in rows:
            origin = row.get("origin")
            run.notified_ids.setdefault(row[model.NAME], set()).add(row[model.GC_ID])
            if origin == FROM_COUNTS:
                run.from_counts += 1
                self._add_event(row)
                continue
            run.notified += 1
            filled = run.filled_at.pop((row[model.NAME], row[model.GC_ID]), None)
            if filled is not None:  # counted already: the notification's detail replaces it
                run.events[filled] = row
                self.recorder.event(row)  # the replay keeps the later, detailed record
                run.from_counts -= 1
                run.superseded += 1
                late += 1
                continue
            self._add_event(row)
        if late and run.superseded == late:  # said once a run; --json counts them all
            self.say(
                "GC notifications arrive late, after their collections were filled in from the "
                "counts (a slow client): their details replace the filled-in figures, each "
                "collection counted once"
            )
        if self.source.has_notifications:
            self._fill_from_counts(polled)
        self.recorder.poll(polled)
        run.polls += 1
        run.last_poll = polled
        if run.first_poll is None:
            run.first_poll = polled
        for category, figures in polled.by_category().items():
            used = figures.get(model.USED_BYTES)
            if used is not None and used > run.peaks.get(category, -1):
                run.peaks[category] = used
        run.recent_counts.append(
            (
                polled.uptime_s,
                {r[model.COLLECTOR]: r[model.COLLECTION_COUNT] for r in polled.collectors},
            )
        )
        now = time.monotonic()
        # Every few seconds, and at once (at most once a second) when a collection that
        # reclaimed the old generation arrived: the figures the rules care most about.
        # Without new events the findings can only change as the window slides: every 30 s
        # is enough then (an evaluation costs tens of ms of CPU).
        old_reclaimed = any(r.get(model.KIND) in model.OLD_RECLAIMING_KINDS for r in rows)
        if old_reclaimed:
            self._next_eval = min(self._next_eval, self._last_eval + 1.0)
        new_events = len(run.events) != self._events_at_eval
        if now >= self._next_eval and (new_events or now - self._last_eval >= 30.0):
            self._last_eval = now
            self._events_at_eval = len(run.events)
            self._next_eval = now + self.options.evaluate_every_s
            self._evaluate(polled)
        self.view.update(self, polled)

    def _add_event(self, row: dict[str, Any]) -> None:
        assert self.run is not None
        self.run.events.append(row)
        self.recorder.event(row)

    def _fill_from_counts(self, polled: Poll) -> None:
        """Collections the counters show but no notification described, one interval late
        (a notification may trail its count by a few milliseconds)."""
        run = self.run
        assert run is not None
        for row in polled.collectors:
            name = row[model.COLLECTOR]
            count = row[model.COLLECTION_COUNT]
            previous = run.previous_counts.get(name)
            run.previous_counts[name] = row
            if count is None:
                continue
            if name not in run.accounted:
                run.accounted[name] = count  # collections before the watch are not ours
                continue
            if previous is None or previous[model.COLLECTION_COUNT] is None:
                continue
            settled = previous[model.COLLECTION_COUNT]  # counts one interval old
            notified = run.notified_ids.get(name, set())
            missing = [i for i in range(run.accounted[name] + 1, settled + 1) if i not in notified]
            if missing:
                span = settled - run.accounted[name]
                before = run.accounted.get(f"{name}#time")
                total = previous.get(model.COLLECTION_TIME_MS)
                mean = None
                if before is not None and total is not None and span:
                    notified_ms = sum(
                        e[model.DURATION_MS] or 0
                        for e in run.events
                        if e[model.NAME] == name
                        and e[model.GC_ID] in notified
                        and run.accounted[name] < e[model.GC_ID] <= settled
                    )
                    mean = max(0.0, (total - before - notified_ms) / len(missing))
                from gcscope.jmx.names import collector_info

                info = collector_info(name)
                for gc_id in missing:
                    run.from_counts += 1
                    run.filled_at[(name, gc_id)] = len(run.events)
                    self._add_event(
                        {
                            model.GC_ID: gc_id,
                            model.UPTIME_S: previous[model.UPTIME_S],
                            model.CATEGORY: info.category,
                            model.KIND: info.kind,
                            model.NAME: name,
                            model.DURATION_MS: mean,
                            "origin": FROM_COUNTS,
                        }
                    )
                self.say(
                    f"{len(missing)} {name} collection(s) without notification: filled in "
                    "from the collection counts (no heap figures)"
                )
            run.accounted[name] = settled
            run.accounted[f"{name}#time"] = previous.get(model.COLLECTION_TIME_MS)
            if len(notified) > 4096:
                run.notified_ids[name] = {i for i in notified if i > settled}
        if len(run.filled_at) > 8192:  # notifications that never came: forget the oldest half
            for key in list(run.filled_at)[:4096]:
                del run.filled_at[key]

    # --- rules, alerts, dumps --------------------------------------------------------------
    def events_frame(self, run: RunState | None = None):
        import polars as pl

        run = run or self.run
        if run is None or not run.events:
            return model.empty_events()
        frame = pl.DataFrame(
            [{k: v for k, v in e.items() if k in model.EVENT_SCHEMA} for e in run.events],
            infer_schema_length=None,
        )
        frame = frame.with_columns(pl.lit(run.run_id).alias(model.RUN_ID))
        return model.conform_events(frame).sort(model.UPTIME_S, maintain_order=True)

    def run_meta(self, run: RunState) -> dict[str, Any]:
        meta = {k: run.meta.get(k) for k in model.RUN_META_KEYS}
        meta[model.RUN_ID] = run.run_id
        if run.first_poll is not None:
            meta["start_uptime_s"] = run.first_poll.uptime_s
        if run.last_poll is not None:
            meta["end_uptime_s"] = run.last_poll.uptime_s
        meta["files"] = [self.options.record] if self.options.record else []
        return meta

    def _evaluate(self, polled: Poll) -> None:
        run = self.run
        assert run is not None
        try:
            findings = evaluate_live(
                self.events_frame(),
                self.run_meta(run),
                run_id=run.run_id,
                now_uptime_s=polled.uptime_s,
                window_s=self.options.alert_window_s,
                config=self.options.config,
            )
        except Exception as exc:  # noqa: BLE001 - a rule bug must not end a watch
            self.say(f"rule evaluation failed: {type(exc).__name__}: {exc}")
            return
        changes = self.alerts.update(findings, run_id=run.run_id, uptime_s=polled.uptime_s)
        self._report(changes)
        for alert in changes:
            if alert.state == "started":
                self._maybe_dump(alert, polled)

    def _report(self, changes: list[Alert]) -> None:
        for alert in changes:
            self.recorder.note("alert", **alert.as_dict())
            word = "ALERT" if alert.state == "started" else "cleared"
            self.view.alert(alert)
            self.messages.append(f"{word} {alert.id} {alert.message}")

    def _maybe_dump(self, alert: Alert, polled: Poll) -> None:
        if self.dumps is None or not getattr(self.source, "can_dump", False):
            return
        if alert.id not in self.dumps.policy.rules:
            return
        if self._dump_thread is not None:
            self._dump_refused(alert, "a heap dump is still being written")
            return
        heap = polled.by_category()
        committed = (
            sum(
                v[model.COMMITTED_BYTES] or 0
                for k, v in heap.items()
                if k in ("eden", "survivor", "old", "heap", "young")
            )
            or None
        )
        pid = self.source.identity[0]
        path, why = self.dumps.plan(
            rule_id=alert.id, pid=pid, committed_heap_bytes=committed, local=self.source.is_local
        )
        if path is None:
            self._dump_refused(alert, why)
            return
        self.dumps.record(path)
        self.say(f"heap dump for {alert.id}: writing {path}")
        self.recorder.note("dump", state="started", rule=alert.id, path=path)
        result: dict[str, Any] = {"path": path, "rule": alert.id}
        self._dump_result = result
        source = self.source
        live = self.dumps.policy.live

        def run() -> None:
            t0 = time.monotonic()
            try:
                source.dump_heap(path, live=live)
                result["ok"] = True
            except Exception as exc:  # noqa: BLE001 - reported by _check_dump
                result["ok"] = False
                result["error"] = str(exc)
            result["seconds"] = round(time.monotonic() - t0, 3)

        self._dump_thread = threading.Thread(target=run, name="gcscope-dump", daemon=True)
        self._dump_thread.start()

    def _dump_refused(self, alert: Alert, why: str) -> None:
        self.say(f"heap dump for {alert.id} refused: {why}")
        self.recorder.note("dump", state="refused", rule=alert.id, reason=why)

    def _check_dump(self) -> None:
        thread = self._dump_thread
        if thread is None or thread.is_alive():
            return
        result = self._dump_result or {}
        self._dump_thread = None
        if result.get("ok"):
            self.say(f"heap dump written: {result['path']} ({result.get('seconds')} s)")
            self.recorder.note("dump", state="written", **result)
        else:
            self.say(f"heap dump failed: {result.get('error')}")
            self.recorder.note("dump", state="failed", **result)

    def _finish(self) -> None:
        if self._dump_thread is not None:
            self._dump_thread.join(30)  # let a dump in progress finish (bounded)
            self._check_dump()
        self.alerts.wait_for_commands()
        self.recorder.close()
        if self.exporter is not None:
            self.exporter.close()
        with contextlib.suppress(Exception):  # a dead connection may fail here
            self.source.close()
        self.view.close()

    # --- the summary (--json, and the final lines) -------------------------------------------
    def summary(self) -> dict[str, Any]:
        """`analyze --json`'s shape for the watched runs, plus pools, alerts and the watch."""
        from types import SimpleNamespace

        import polars as pl

        from gcscope.analysis import analyze_ingested

        frames = [self.events_frame(run) for run in self.runs]
        events = pl.concat(frames) if frames else model.empty_events()
        metas = [self.run_meta(run) for run in self.runs]
        parse = {
            "files": [self.options.record] if self.options.record else [],
            "lines": 0,
            "unknown_lines": 0,
            "coverage_pct": None,
        }
        ingest = SimpleNamespace(events=events, runs=metas, parse=parse)
        # the same metrics, leak verdict and rules as `analyze --json`
        result = analyze_ingested(ingest, config=self.options.config)
        from gcscope.report.chart_options import run_meta_into_result

        run_meta_into_result(result, ingest)  # pid and the like, as `analyze --json` has them
        out = result.to_dict()
        out["pools"] = self.pools_summary()
        out["alerts"] = [a.as_dict() for a in self.alerts.history]
        out["watch"] = self.watch_summary()
        return out

    def pools_summary(self) -> dict[str, Any]:
        run = self.run
        if run is None or run.last_poll is None:
            return {}
        out = {}
        for category, figures in run.last_poll.by_category().items():
            out[category] = {
                **figures,
                "peak_used_bytes": run.peaks.get(category),
                "pools": [
                    p[model.POOL] for p in run.last_poll.pools if p[model.POOL_CATEGORY] == category
                ],
            }
        return out

    def watch_summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(q: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(q * len(lat)))], 3) if lat else None

        return {
            "target": getattr(getattr(self.source, "target", None), "text", None)
            or str(getattr(self.source, "pid", "")),
            "source": self.source.kind,
            "runs": len(self.runs),
            "polls": sum(r.polls for r in self.runs),
            "gc_notifications": sum(r.notified for r in self.runs),
            "events_from_counts": sum(r.from_counts for r in self.runs),
            "late_notifications": sum(r.superseded for r in self.runs),
            "notifications_lost": sum(r.lost for r in self.runs),
            "poll_latency_ms": {"p50": pct(0.5), "p99": pct(0.99)},
            "target_lost": self.target_lost,
            "recording": self.options.record,
            "heap_dumps": list(self.dumps.made) if self.dumps else [],
        }
