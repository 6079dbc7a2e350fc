"""Live alerts: the log analysis' rules (`gcscope.analysis.rules`) evaluated on live events.

The same rule functions, thresholds and IDs as `gcscope check`, on the events of the watched run.
Trend rules (the leak verdict GCS001, metaspace growth GCS007) look at the whole run; the others
at a trailing window (default 10 minutes), so that an alert can clear once the condition is
over. Each alert is reported once when it starts and once when it clears; `--on-alert CMD` runs
CMD with the alert as JSON on its standard input (in order, one at a time, on a thread of its
own, each bounded to 30 s, so a slow command never stalls the watch).
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gcscope import model

TREND_RULES = ("GCS001", "GCS007")
DEFAULT_WINDOW_S = 600.0


@dataclass
class Alert:
    id: str
    severity: str
    title: str
    message: str
    run_id: int | None
    state: str = "started"  # "started" or "cleared"
    uptime_s: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            model.RUN_ID: self.run_id,
            model.UPTIME_S: self.uptime_s,
            "evidence": self.evidence,
        }


def evaluate_live(
    events: Any,
    meta: dict[str, Any],
    *,
    run_id: int,
    now_uptime_s: float | None,
    window_s: float = DEFAULT_WINDOW_S,
    config: Any = None,
) -> list[dict[str, Any]]:
    """Findings (the JSON contract's shape) of the rules on one live run's events."""
    import polars as pl

    from gcscope.analysis import rules

    if events.is_empty():
        return []
    whole_meta = dict(meta)
    if now_uptime_s is not None:
        whole_meta["end_uptime_s"] = now_uptime_s  # the run goes on until now, not its last GC
    whole = rules.run_context(run_id, events, whole_meta, config)
    recent = events.filter(pl.col(model.UPTIME_S) >= (now_uptime_s or 0.0) - window_s)
    window_meta = dict(meta)
    window_meta["start_uptime_s"] = max(
        meta.get("start_uptime_s") or 0.0, (now_uptime_s or 0.0) - window_s
    )
    window_meta["end_uptime_s"] = now_uptime_s
    windowed = rules.run_context(run_id, recent, window_meta, config)
    trend = [f for f in rules.evaluate([whole], config) if f["id"] in TREND_RULES]
    current = [f for f in rules.evaluate([windowed], config) if f["id"] not in TREND_RULES]
    return trend + current


class AlertTracker:
    """Turns successive evaluations into start/clear transitions, one per change."""

    def __init__(self, on_alert: str | None = None):
        self.active: dict[tuple[str, int | None], Alert] = {}
        self.history: list[Alert] = []
        self.on_alert = on_alert
        self._pending: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None

    def update(
        self, findings: list[dict[str, Any]], *, run_id: int | None, uptime_s: float | None
    ) -> list[Alert]:
        """Transitions since the last update (started and cleared alerts), in that order."""
        seen: dict[tuple[str, int | None], dict[str, Any]] = {}
        for finding in findings:
            seen.setdefault((finding["id"], run_id), finding)  # the most severe comes first
        changes = []
        for key, finding in seen.items():
            if key not in self.active:
                alert = Alert(
                    finding["id"],
                    finding["severity"],
                    finding["title"],
                    finding["message"],
                    run_id,
                    "started",
                    uptime_s,
                    finding.get("evidence") or {},
                )
                self.active[key] = alert
                changes.append(alert)
        for key in [k for k in self.active if k[1] == run_id and k not in seen]:
            old = self.active.pop(key)
            changes.append(
                Alert(
                    old.id,
                    old.severity,
                    old.title,
                    f"cleared: {old.message}",
                    run_id,
                    "cleared",
                    uptime_s,
                    {},
                )
            )
        for alert in changes:
            self.history.append(alert)
            if self.on_alert:
                self._run_command(alert)
        return changes

    def clear_run(self, run_id: int | None, uptime_s: float | None) -> list[Alert]:
        """The JVM of this run is gone: its alerts clear (a new run starts its own)."""
        return self.update([], run_id=run_id, uptime_s=uptime_s)

    def _run_command(self, alert: Alert) -> None:
        """Queue CMD for this alert: one thread runs them in order (a "cleared" never overtakes
        its "started"), each bounded to 30 s, so a slow command never stalls the watch."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._command_loop, name="gcscope-on-alert", daemon=True
            )
            self._thread.start()
        self._pending.put(json.dumps(alert.as_dict(), default=str))

    def _command_loop(self) -> None:
        while True:
            payload = self._pending.get()
            try:
                subprocess.run(
                    self.on_alert, shell=True, input=payload, text=True, timeout=30, check=False
                )
            except (OSError, subprocess.SubprocessError) as exc:
                print(f"gcscope: --on-alert command failed: {exc}", file=sys.stderr)
            finally:
                self._pending.task_done()

    def wait_for_commands(self, timeout_s: float = 5.0) -> None:
        """Let queued commands finish, waiting at most timeout_s in all."""
        deadline = time.monotonic() + timeout_s
        while self._pending.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
