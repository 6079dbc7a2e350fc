"""`gcscope analyze --follow LOG`: analyse a log while a JVM writes it.

Polls the file (`gcscope.ingest.follow.LogTail`: complete lines only, across the JVM's own
rotation), runs the engine on the new lines at once (`IncrementalIngest`), and every
`--interval` seconds assembles everything read so far, analyses it, prints a one-line status
per run and the rules' alerts as they start and clear (the live watch's `AlertTracker`:
trend rules over the whole run, the others over a trailing window). Ctrl-C (or SIGTERM) ends
it: a last poll reads whatever the JVM wrote meanwhile, then the usual summary (or `--json`).
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from gcscope.errors import ExitStatus, InputError, UsageError

POLL_S = 0.25  # how often the file is looked at (the summary has its own --interval)
DEFAULT_INTERVAL_S = 5.0
READ_POLL_S = 0.1  # how often the reader thread looks at the file
SLICE_S = 0.05  # sleep granularity: a stop request is seen this fast


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, got {text}")
    return value


def add_follow_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("following a log being written")
    group.add_argument(
        "--follow",
        action="store_true",
        help="keep reading LOG as the JVM writes it (across its rotation); print a status "
        "every --interval seconds and alerts as they start and clear; Ctrl-C prints the summary",
    )
    group.add_argument(
        "--interval",
        type=_positive_seconds,
        default=None,
        metavar="S",
        help=f"with --follow: seconds between status lines (default {DEFAULT_INTERVAL_S:g})",
    )
    group.add_argument(
        "--duration",
        type=_duration,
        default=None,
        metavar="D",
        help="with --follow: stop after D (e.g. 90s, 10m, 2h), print the summary and exit "
        "as analyze does (default: until Ctrl-C, which exits with 130 after the summary)",
    )


def _duration(text: str) -> float:
    from gcscope.commands.watch import parse_duration

    return parse_duration(text)


def reject_follow_options(args: argparse.Namespace) -> None:
    """--interval and --duration without --follow are a mistake, not something to ignore."""
    for option in ("interval", "duration"):
        if getattr(args, option, None) is not None:
            raise UsageError(f"--{option} applies to --follow only")


def check_follow_args(args: argparse.Namespace) -> Path:
    """One plain log file (it may not exist yet: the JVM creates it)."""
    logs = list(getattr(args, "logs", None) or [])
    if len(logs) != 1:
        raise UsageError(f"--follow reads exactly one LOG, got {len(logs)}")
    if getattr(args, "recording", None):
        raise UsageError("--follow cannot be combined with --recording")
    path = Path(logs[0])
    if logs[0] == "-":
        raise UsageError("--follow needs a file name, not '-' (standard input)")
    if path.suffix.lower() in (".gz", ".zip"):
        raise UsageError(f"--follow {path}: a compressed file is not being written; give the log")
    if path.is_dir():
        raise UsageError(f"--follow {path}: a directory; give the log file the JVM writes")
    if not path.parent.is_dir():
        raise InputError("no such directory", file=str(path.parent))
    return path


class _Stop:
    """SIGINT/SIGTERM set a flag instead of raising: the loop never stops halfway through
    handing a read to the engine, and the last poll still runs."""

    def __init__(self) -> None:
        self.requested = False
        self.signal: int | None = None  # the signal that asked us to stop, if one did
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Self:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: Ctrl-C raises as usual
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        self.signal = signum

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _Reader(threading.Thread):
    """Reads the log in a thread of its own, so that the JVM's rotation never outruns us while
    the main thread is busy in the engine or an analysis (a status of a long run takes time;
    a JVM with small files can rotate through all of them meanwhile, and a file whose name is
    reused before we opened it would be lost). It only reads bytes and holds the descriptors;
    the pieces wait in a queue for the main thread."""

    def __init__(self, tail: Any):
        super().__init__(name="gcscope-follow", daemon=True)
        self.tail = tail
        self.pieces: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                for piece in self.tail.poll():
                    self.pieces.put(piece)
                self.halt.wait(READ_POLL_S)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.error = exc


def _stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")


def status_line(result: Any, lines: int, files: int) -> str:
    """One line: what was read, then per run its pauses, throughput, full GCs, Old Gen, leak."""
    from gcscope.report.text import _ms, _pct

    parts = [f"{lines:,} lines in {files} file{'s' if files != 1 else ''}"]
    coverage = result.parse.coverage_pct
    if coverage is not None and coverage < 100:
        parts.append(f"coverage {coverage:.2f} %")
    if not result.runs:
        parts.append("no GC events yet")
    for run in result.runs:
        label = f"run {run.run_id + 1}: " if len(result.runs) > 1 else ""
        uptime = f"up {run.end_uptime_s:,.1f} s" if run.end_uptime_s is not None else "up –"
        saturation = run.old_gen.saturation_last_pct
        leak = (run.leak or {}).get("verdict")
        parts.append(
            f"{label}{run.collector or '?'} {uptime}, {run.pauses.count:,} pauses "
            f"(p99 {_ms(run.pauses.p99_ms)} ms, max {_ms(run.pauses.max_ms)} ms), "
            f"throughput {_pct(run.throughput_pct)}, full GCs {run.full_gc.count}, "
            f"Old Gen {_pct(saturation)}"
            + (f", leak {leak.replace('_', ' ')}" if leak else "")
        )
    return " · ".join(parts)


class Follower:
    """The loop of `analyze --follow`; `out` gets status and alert lines."""

    def __init__(self, path: Path, args: argparse.Namespace, out: Any):
        from gcscope.analysis import ANALYSIS_COLUMNS
        from gcscope.ingest.follow import IncrementalIngest, LogTail
        from gcscope.live.alerts import AlertTracker

        self.path = path
        self.args = args
        self.out = out
        self.tail = LogTail(path)
        wanted = None if getattr(args, "events", None) else ANALYSIS_COLUMNS
        self.ingest = IncrementalIngest(str(path), max_unknown=args.max_unknown, wanted=wanted)
        self.alerts = AlertTracker()
        self.config = getattr(args, "rules_config", None)
        self.reader: _Reader | None = None

    def say(self, text: str) -> None:
        print(f"{_stamp()} {text}", file=self.out, flush=True)

    def poll(self, final: bool = False) -> None:
        """Hand what the reader thread read to the engine. `final`: stop the reader, then read
        what is left (the unterminated last line too) in this thread."""
        if final and self.reader is not None:
            self.reader.halt.set()
            self.reader.join()
        if self.reader is not None:
            while True:
                try:
                    piece = self.reader.pieces.get_nowait()
                except queue.Empty:
                    break
                self._apply(piece)
            if self.reader.error is not None:
                raise self.reader.error
        if final or self.reader is None:
            for piece in self.tail.poll(final=final):
                self._apply(piece)

    def _apply(self, piece: Any) -> None:
        if piece.kind == "open":
            self.say(f"reading {piece.name}")
        elif piece.kind == "end" and piece.name != self.ingest.files[-1].report.file:
            self.say(f"rotated: {self.ingest.files[-1].report.file} is now {piece.name}")
        self.ingest.apply(piece)

    def analyse(self, explain: bool = False) -> tuple[Any, Any]:
        from gcscope.analysis import analyze_ingested

        ingest = self.ingest.result(explain=explain)
        return analyze_ingested(ingest, config=self.config), ingest

    def update_alerts(self, result: Any, ingest: Any) -> None:
        """The rules on the live (last) run; earlier runs are JVMs that are gone."""
        from gcscope import model
        from gcscope.live.alerts import evaluate_live

        if not ingest.runs:
            return
        by_run = {
            key[0]: frame
            for key, frame in ingest.events.partition_by(model.RUN_ID, as_dict=True).items()
        }
        for meta in ingest.runs[:-1]:
            self._report(self.alerts.clear_run(meta[model.RUN_ID], meta.get("end_uptime_s")))
        live = ingest.runs[-1]
        run_id = live[model.RUN_ID]
        events = by_run.get(run_id, model.empty_events())
        findings = evaluate_live(
            events, live, run_id=run_id, now_uptime_s=live.get("end_uptime_s"), config=self.config
        )
        self._report(self.alerts.update(findings, run_id=run_id, uptime_s=live.get("end_uptime_s")))

    def _report(self, changes: list[Any]) -> None:
        for alert in changes:
            if alert.state == "started":
                self.say(f"ALERT {alert.id} [{alert.severity}] {alert.title}: {alert.message}")
            else:
                self.say(f"CLEARED {alert.id} {alert.title}")

    def status(self) -> None:
        if not self.ingest.files:
            self.say(f"waiting for {self.path}")
            return
        result, ingest = self.analyse()
        self.say(status_line(result, self.ingest.lines, len(self.ingest.files)))
        self.update_alerts(result, ingest)

    def run(self, stop: _Stop) -> tuple[Any, Any]:
        interval = self.args.interval or DEFAULT_INTERVAL_S
        started = time.monotonic()
        next_status = started + interval
        duration = getattr(self.args, "duration", None)
        deadline = started + duration if duration is not None else None
        if not self.path.exists():
            self.say(f"waiting for {self.path}")
        self.reader = _Reader(self.tail)
        self.reader.start()
        try:
            while not stop.requested:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self.poll()
                now = time.monotonic()
                if now >= next_status:
                    self.status()
                    next_status = max(next_status + interval, now + interval / 2)
                wake = time.monotonic() + min(POLL_S, interval)
                if deadline is not None:
                    wake = min(wake, deadline)
                while not stop.requested and time.monotonic() < wake:
                    time.sleep(SLICE_S)
            self.poll(final=True)
        finally:
            self.reader.halt.set()
            self.reader.join()
            self.tail.close()
        result, ingest = self.analyse(explain=True)
        self.update_alerts(result, ingest)
        result.extra["follow"] = {
            "files": [f.report.file for f in self.ingest.files],
            "rotations": self.tail.rotations,
            "truncations": self.tail.truncations,
            "alerts": [a.as_dict() for a in self.alerts.history],
        }
        return result, ingest


def run_follow(args: argparse.Namespace, finish: Any) -> int:
    """`finish(args, result, ingest) -> int`: analyze's own output and exit-status steps."""
    path = check_follow_args(args)
    out = sys.stderr if args.json else sys.stdout
    follower = Follower(path, args, out)
    with _Stop() as stop:
        result, ingest = follower.run(stop)
    if not follower.ingest.files:
        raise InputError("no such file: it never appeared while following", file=str(path))
    if out is sys.stdout:
        print(file=out)
    status = finish(args, result, ingest)
    if stop.signal is not None:  # Ctrl-C (or SIGTERM): the summary is out, say why we stopped
        print("gcscope: interrupted", file=sys.stderr)
        return int(ExitStatus.INTERRUPTED)
    return status
