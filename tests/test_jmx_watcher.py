"""The watch loop's own logic, no JVM needed: lost notifications filled in from collection
counts, alerts started and cleared once each (with --on-alert), the heap dump guards and their
reports, credentials that never come from the command line, and the rich live panel."""

from __future__ import annotations

import argparse
import io
import json
import queue
import re
import sys
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from gcscope import model
from gcscope.commands import watch as watch_command
from gcscope.errors import UsageError
from gcscope.jmx import notifications
from gcscope.jmx.connect import Credentials
from gcscope.live import dumps as dumps_module
from gcscope.live.alerts import AlertTracker
from gcscope.live.dumps import DumpGuard, DumpPolicy
from gcscope.live.recording import read_recording
from gcscope.live.samples import FROM_COUNTS, Poll
from gcscope.live.view import PlainView, RichView, render
from gcscope.live.watcher import Watcher, WatchOptions

MB = 2**20
YOUNG = "G1 Young Generation"


# --- notifications: what the target says it lost --------------------------------------------
class FakeNotification:
    def __init__(self, kind, user_data=None, message=""):
        self.kind, self.user_data, self.message = kind, user_data, message

    def getType(self):  # the Java API
        return self.kind

    def getUserData(self):
        return self.user_data

    def getMessage(self):
        return self.message


def test_notifs_lost_becomes_a_gap_with_the_targets_count_and_words():
    sub = notifications.Subscription(conn=None)
    sub.inbox.put(
        FakeNotification(notifications.NOTIFS_LOST, 37, "May have lost up to 37 notifications")
    )
    sub.inbox.put(FakeNotification(notifications.CONNECTION_FAILED))
    rows, gaps = notifications.drain(sub)
    assert rows == []
    assert [(g.collector, g.lost, g.reason) for g in gaps] == [
        (None, 37, "May have lost up to 37 notifications")
    ]
    assert sub.connection_lost


# --- the watcher, on a scripted source -------------------------------------------------------
def poll_at(uptime_s: float, count: int, time_ms: float, old_used: int = 10 * MB) -> Poll:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pools = [
        {
            model.UPTIME_S: uptime_s,
            model.TIME: now,
            model.POOL: "G1 Old Gen",
            model.POOL_CATEGORY: "old",
            model.USED_BYTES: old_used,
            model.COMMITTED_BYTES: 64 * MB,
            model.MAX_BYTES: 256 * MB,
        }
    ]
    collectors = [
        {
            model.UPTIME_S: uptime_s,
            model.TIME: now,
            model.COLLECTOR: YOUNG,
            model.CATEGORY: model.PAUSE,
            model.COLLECTION_COUNT: count,
            model.COLLECTION_TIME_MS: time_ms,
        }
    ]
    return Poll(uptime_s, now, pools, collectors, latency_ms=1.0)


def gc_row(gc_id: int, uptime_s: float, duration_ms: float = 5.0) -> dict:
    return {
        model.GC_ID: gc_id,
        model.UPTIME_S: uptime_s,
        model.CATEGORY: model.PAUSE,
        model.KIND: "young",
        model.NAME: YOUNG,
        model.CAUSE: "G1 Evacuation Pause",
        model.DURATION_MS: duration_ms,
        model.HEAP_BEFORE_BYTES: 30 * MB,
        model.HEAP_AFTER_BYTES: 10 * MB,
        model.HEAP_COMMITTED_BYTES: 64 * MB,
        "action": "end of minor GC",
    }


class ScriptedSource:
    """Each poll returns the next scripted (Poll, notification rows, gaps)."""

    kind = "jmx"
    has_notifications = True
    can_dump = True
    is_local = True

    def __init__(self, script):
        self.script = list(script)
        self.target = SimpleNamespace(text="127.0.0.1:1", pid=None)
        self.pending = ([], [])

    @property
    def identity(self):
        return (4242, 1)

    def open(self):
        return {"target": "127.0.0.1:1", "source": "jmx", "collector": "G1", "pid": 4242}

    def poll(self):
        polled, rows, gaps = self.script.pop(0)
        self.pending = (rows, gaps)
        return polled

    def drain(self):
        out, self.pending = self.pending, ([], [])
        return out

    def close(self):
        pass


def run_script(script, tmp_path, before_finish=None, **options):
    record = tmp_path / "w.jsonl"
    out = io.StringIO()
    watcher = Watcher(
        ScriptedSource(script), WatchOptions(record=str(record), **options), PlainView(out)
    )
    assert watcher._connect(first=True)
    for _ in script:
        watcher._tick()
    if before_finish is not None:
        before_finish(watcher)
    watcher._finish()
    return watcher, record, out.getvalue()


def test_lost_notifications_are_filled_in_from_the_counts_one_interval_later(tmp_path):
    lost = notifications.Gap(None, 1, reason="May have lost up to 1 notifications")
    script = [
        (poll_at(10.0, 0, 0.0), [], []),
        # four collections, 40 ms in all; notifications for 1, 2 and 4 only (5 ms each)
        (poll_at(11.0, 4, 40.0), [gc_row(1, 10.2), gc_row(2, 10.4), gc_row(4, 10.8)], [lost]),
        (poll_at(12.0, 4, 40.0), [], []),
    ]
    watcher, record, out = run_script(script, tmp_path)
    filled = [e for e in watcher.run.events if e.get("origin") == FROM_COUNTS]
    assert len(filled) == 1
    (event,) = filled
    assert event[model.GC_ID] == 3 and event[model.NAME] == YOUNG
    assert event[model.DURATION_MS] == pytest.approx(25.0)  # 40 ms counted - 3 × 5 notified
    assert event[model.UPTIME_S] == 11.0  # the poll whose count showed it
    assert event.get(model.HEAP_AFTER_BYTES) is None  # no heap figures: unknown, not zero
    assert "the target dropped GC notifications" in out
    assert "1 G1 Young Generation collection(s) without notification: filled in" in out
    info = watcher.watch_summary()
    assert (info["gc_notifications"], info["events_from_counts"], info["notifications_lost"]) == (
        3,
        1,
        1,
    )
    replay = read_recording(record)
    assert [g["lost"] for g in replay.gaps] == [1]
    assert sorted(replay.events[model.GC_ID].to_list()) == [1, 2, 3, 4]  # every collection counts


def test_a_late_notification_replaces_its_filled_in_collection_counted_once(tmp_path):
    script = [
        (poll_at(10.0, 0, 0.0), [], []),
        (poll_at(11.0, 2, 10.0), [gc_row(1, 10.2)], []),
        (poll_at(12.0, 2, 10.0), [], []),  # id 2 filled in from the counts here
        (poll_at(13.0, 2, 10.0), [gc_row(2, 10.6, 6.0)], []),  # and its notification comes late
        (poll_at(14.0, 2, 10.0), [], []),
    ]
    watcher, record, out = run_script(script, tmp_path)
    assert [(e[model.GC_ID], e.get("origin")) for e in watcher.run.events] == [(1, None), (2, None)]
    assert watcher.run.events[1][model.HEAP_AFTER_BYTES] == 10 * MB  # the detail, not a blank
    info = watcher.watch_summary()
    assert (info["gc_notifications"], info["events_from_counts"], info["late_notifications"]) == (
        2,
        0,
        1,
    )
    assert out.count("GC notifications arrive late") == 1
    replay = read_recording(record)  # the filled-in record and the late one: one collection
    assert replay.events[model.GC_ID].to_list() == [1, 2]
    assert replay.events[model.DURATION_MS].to_list() == [5.0, 6.0]


def test_collections_before_the_watch_are_not_filled_in(tmp_path):
    script = [(poll_at(10.0, 57, 300.0), [], []), (poll_at(11.0, 57, 300.0), [], [])]
    watcher, _, _ = run_script(script, tmp_path)
    assert watcher.run.events == []


# --- alerts: once when they start, once when they clear ---------------------------------------
def finding(rule="GCS002"):
    return {
        "id": rule,
        "severity": "warning",
        "title": "Old generation nearly full after GC",
        "message": "92 % of the old generation after GC",
        "evidence": {"old_after_pct": 92},
    }


def test_an_alert_is_reported_once_when_it_starts_and_once_when_it_clears(tmp_path):
    got = tmp_path / "alerts.jsonl"
    tracker = AlertTracker(f"cat >> {got}; echo >> {got}")
    changes = [
        tracker.update([finding()], run_id=0, uptime_s=10.0),
        tracker.update([finding()], run_id=0, uptime_s=15.0),  # still on: nothing new
        tracker.update([], run_id=0, uptime_s=20.0),
        tracker.update([], run_id=0, uptime_s=25.0),
    ]
    assert [[(a.id, a.state) for a in c] for c in changes] == [
        [("GCS002", "started")],
        [],
        [("GCS002", "cleared")],
        [],
    ]
    tracker.wait_for_commands()
    payloads = [json.loads(line) for line in got.read_text().splitlines() if line]
    assert [(p["id"], p["state"], p["uptime_s"]) for p in payloads] == [
        ("GCS002", "started", 10.0),
        ("GCS002", "cleared", 20.0),
    ]
    assert set(payloads[0]) == {
        "id",
        "state",
        "severity",
        "title",
        "message",
        "run_id",
        "uptime_s",
        "evidence",
    }


def test_a_lost_target_clears_its_alerts():
    tracker = AlertTracker()
    tracker.update([finding("GCS001"), finding()], run_id=3, uptime_s=10.0)
    cleared = tracker.clear_run(3, 12.0)
    assert {(a.id, a.state) for a in cleared} == {("GCS001", "cleared"), ("GCS002", "cleared")}
    assert tracker.active == {}


# --- heap dump guards ---------------------------------------------------------------------------
def guard(tmp_path, **kw) -> DumpGuard:
    return DumpGuard(DumpPolicy(str(tmp_path), **kw))


def plan(g: DumpGuard, *, local=True, committed=64 * MB, now=1000.0, rule="GCS002"):
    return g.plan(
        rule_id=rule, pid=77, committed_heap_bytes=committed, local=local, now_monotonic=now
    )


def test_a_dump_goes_to_a_new_file_named_after_pid_and_time(tmp_path):
    path, why = plan(guard(tmp_path))
    assert (
        why == "ok" and path.startswith(str(tmp_path / "gcscope-77-")) and path.endswith(".hprof")
    )


def test_dump_refused_without_free_space_for_the_committed_heap_times_1_2(tmp_path):
    path, why = plan(guard(tmp_path), committed=10**18)
    assert path is None and why.startswith("only ") and "× 1.2" in why
    path, why = plan(guard(tmp_path), committed=None)
    assert path is None and "committed heap size is unknown" in why


def test_dump_never_overwrites(tmp_path, monkeypatch):
    fixed = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    monkeypatch.setattr(dumps_module, "datetime", SimpleNamespace(now=lambda tz: fixed))
    existing = tmp_path / "gcscope-77-20260102T030405000006Z.hprof"
    path, _ = plan(guard(tmp_path, max_dumps=5))
    assert path == str(existing)
    existing.write_bytes(b"earlier evidence")
    path, why = plan(guard(tmp_path, max_dumps=5))
    assert path is None and why == f"{existing} exists (never overwritten)"
    assert existing.read_bytes() == b"earlier evidence"


def test_at_most_n_dumps_in_the_directory_and_none_deleted(tmp_path):
    for i in range(3):
        (tmp_path / f"gcscope-1-{i}.hprof").write_bytes(b"x")
    path, why = plan(guard(tmp_path, max_dumps=3))
    assert path is None and "3 gcscope dumps already" in why and "--heap-dump-max 3" in why
    assert len(list(tmp_path.glob("gcscope-*.hprof"))) == 3


def test_one_dump_per_cooldown(tmp_path):
    g = guard(tmp_path, cooldown_s=600.0)
    path, _ = plan(g, now=1000.0)
    g.record(path, now_monotonic=1000.0)
    path, why = plan(g, now=1599.0)
    assert path is None and why.startswith("cooldown") and "next allowed in 1 s" in why
    path, why = plan(g, now=1600.0)
    assert why == "ok"


def test_a_remote_dump_needs_the_opt_in_and_is_still_counted(tmp_path):
    path, why = plan(guard(tmp_path), local=False)
    assert path is None and "--heap-dump-remote" in why and "free space cannot be checked" in why
    g = guard(tmp_path / "on-their-host", allow_remote=True, max_dumps=1)
    path, why = plan(g, local=False)
    assert path.startswith(str(tmp_path / "on-their-host" / "gcscope-77-"))
    assert why == "ok (remote target, opted in)"
    g.record(path)
    path, why = plan(g, local=False, now=10**9)
    assert path is None and "1 dumps made already" in why


def test_the_watch_reports_a_refused_dump_and_records_it(tmp_path):
    from gcscope.live.alerts import Alert

    dump_dir = tmp_path / "dumps"
    dump_dir.mkdir()
    (dump_dir / "gcscope-1-old.hprof").write_bytes(b"x")
    alert = Alert("GCS002", "warning", "t", "m", 0)
    script = [(poll_at(10.0, 0, 0.0), [], [])]
    _, record, out = run_script(
        script,
        tmp_path,
        dump=DumpPolicy(str(dump_dir), max_dumps=1),
        before_finish=lambda w: w._maybe_dump(alert, w.run.last_poll),
    )
    assert "heap dump for GCS002 refused: 1 gcscope dumps already" in out
    notes = [n for n in read_recording(record).notes if n["what"] == "dump"]
    assert [(n["state"], n["rule"]) for n in notes] == [("refused", "GCS002")]


# --- credentials ------------------------------------------------------------------------------
def cred_args(**kw) -> argparse.Namespace:
    base = {"user": "monitor", "password_env": None, "password_file": None}
    return argparse.Namespace(**{**base, **kw})


def test_password_from_an_environment_variable_or_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("JMX_PW", "s3cret")
    creds = watch_command.credentials_from_args(cred_args(password_env="JMX_PW"))
    assert (creds.user, creds.password) == ("monitor", "s3cret")
    assert "s3cret" not in repr(creds)  # never printed
    file = tmp_path / "pw"
    file.write_text("fromfile\nsecond line ignored\n")
    assert watch_command.credentials_from_args(cred_args(password_file=str(file))).password == (
        "fromfile"
    )
    with pytest.raises(UsageError, match="variable is not set"):
        watch_command.credentials_from_args(cred_args(password_env="NOT_SET_ANYWHERE_42"))


def test_password_prompt_on_a_terminal_and_a_clear_error_without_one(monkeypatch):
    asked = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(
        watch_command.getpass, "getpass", lambda prompt: asked.append(prompt) or "typed"
    )
    assert watch_command.credentials_from_args(cred_args()).password == "typed"
    assert asked == ["JMX password for monitor: "]
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    with pytest.raises(UsageError, match="--password-env VAR, --password-file FILE"):
        watch_command.credentials_from_args(cred_args())


def test_no_option_takes_a_password_on_the_command_line():
    from gcscope.cli import build_parser

    parser = build_parser()
    for command in ("watch", "histo"):
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([command, "127.0.0.1:1", "--password", "s3cret"])
        assert exit_info.value.code == 2
    assert Credentials("u", "p").__repr__() == "Credentials(user='u')"


# --- the rich live panel ------------------------------------------------------------------------
def test_rich_panel_shows_pools_heap_after_gc_rate_pauses_and_alerts(tmp_path):
    from rich.console import Console

    script = [
        (poll_at(10.0, 0, 0.0), [], []),
        (poll_at(12.0, 2, 10.0, old_used=48 * MB), [gc_row(1, 10.5), gc_row(2, 11.5, 7.0)], []),
    ]
    watcher, _, _ = run_script(script, tmp_path)
    watcher.alerts.update([finding()], run_id=watcher.run.run_id, uptime_s=12.0)
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(render(watcher, watcher.run.last_poll))
    text = console.file.getvalue()
    assert "G1 Old Gen" in text and "48.0" in text and "64.0" in text and "256.0" in text
    assert "heap after last GC 10.0 MB" in text
    assert "60.0 GC/min" in text  # 2 collections in 2 s
    assert "pauses 2: total 12 ms" in text and "max 7 ms" in text
    assert "alerts: [warning] GCS002 Old generation nearly full after GC" in text


def zgc_poll(uptime_s: float, cycles: int, pauses: int) -> Poll:
    """A non-generational ZGC poll: every cycle is counted by `ZGC Cycles` and its three
    pauses (mark start, mark end, relocate start) by `ZGC Pauses`."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pools = [
        {
            model.UPTIME_S: uptime_s,
            model.TIME: now,
            model.POOL: "ZHeap",
            model.POOL_CATEGORY: "heap",
            model.USED_BYTES: 20 * MB,
            model.COMMITTED_BYTES: 64 * MB,
            model.MAX_BYTES: 64 * MB,
        }
    ]
    collectors = [
        {
            model.UPTIME_S: uptime_s,
            model.TIME: now,
            model.COLLECTOR: name,
            model.CATEGORY: category,
            model.COLLECTION_COUNT: count,
            model.COLLECTION_TIME_MS: float(count),
        }
        for name, category, count in (
            ("ZGC Cycles", model.CONCURRENT, cycles),
            ("ZGC Pauses", model.PAUSE, pauses),
        )
    ]
    return Poll(uptime_s, now, pools, collectors, latency_ms=1.0)


def test_gc_rate_counts_a_zgc_cycle_once_and_its_pauses_apart(tmp_path):
    from rich.console import Console

    # 2 cycles (6 pauses) in 6 s: 20 cycles/min and 60 pauses/min, never 80 "GC/min"
    script = [(zgc_poll(10.0, 5, 15), [], []), (zgc_poll(16.0, 7, 21), [], [])]
    watcher, _, _ = run_script(script, tmp_path)
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(render(watcher, watcher.run.last_poll))
    text = console.file.getvalue()
    assert "20.0 GC cycles/min, 60.0 pauses/min" in text
    assert "80.0" not in text


def test_gc_rate_ignores_a_bean_missing_from_the_start_of_the_window():
    from gcscope.live.view import gc_rates

    rows = [
        {model.COLLECTOR: YOUNG, model.CATEGORY: model.PAUSE},
        {model.COLLECTOR: "G1 Old Generation", model.CATEGORY: model.PAUSE},
    ]
    counts = [(10.0, {YOUNG: 100}), (70.0, {YOUNG: 130, "G1 Old Generation": 4})]
    assert gc_rates(counts, rows) == {model.PAUSE: 30.0}  # not 34: the 4 are not new
    assert gc_rates(counts[:1], rows) is None


def test_rich_view_prints_event_lines_above_the_panel():
    stream = io.StringIO()
    view = RichView(stream)
    view.message("target lost: gone")
    view.close()
    assert "target lost: gone" in stream.getvalue()


def test_inbox_is_a_plain_queue():
    """Listener callbacks only enqueue (a slow handler would stall the target's sender)."""
    assert isinstance(notifications.Subscription(conn=None).inbox, queue.SimpleQueue)


def test_every_watch_and_histo_option_is_documented_in_the_readme():
    from pathlib import Path

    from gcscope.cli import build_parser

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Live JVMs") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    missing = [
        f"{command} {option}"
        for command in ("watch", "histo")
        for action in subparsers.choices[command]._actions
        for option in action.option_strings
        if option.startswith("--")
        and option != "--help"
        and not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section)
    ]
    assert missing == []
