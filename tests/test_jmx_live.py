"""Live JMX in this pytest process: real target JVMs on 127.0.0.1, one in-process JVM (JPype
allows one per process, started by the first connect and kept for the session)."""

from __future__ import annotations

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gcscope import model
from gcscope.errors import TargetError

pytestmark = pytest.mark.jvm

from tests import jmx_support

if jmx_support.JAVA is None or jmx_support.JAVAC is None:
    pytest.skip("needs java and javac", allow_module_level=True)

from gcscope.jmx import diagnostics, notifications
from gcscope.jmx.connect import Credentials, connect, parse_target
from gcscope.jmx.poll import SLOW_EVERY, discover, poll, warm_up

HEAP = ("eden", "survivor", "old", "heap", "young")
# collector → (JVM flags, java, expected heap pool categories, family)
COLLECTORS = {
    "G1": (["-XX:+UseG1GC"], None, {"eden", "survivor", "old"}, "G1"),
    "Parallel": (["-XX:+UseParallelGC"], None, {"eden", "survivor", "old"}, "Parallel"),
    "Serial": (["-XX:+UseSerialGC"], None, {"eden", "survivor", "old"}, "Serial"),
    "ZGC": (["-XX:+UseZGC"], None, {"heap"}, "ZGC"),
    "Shenandoah": (["-XX:+UseShenandoahGC"], None, {"heap"}, "Shenandoah"),
}
if jmx_support.JAVA25:
    COLLECTORS["ZGC generational (25)"] = (
        ["-XX:+UseZGC"],
        jmx_support.JAVA25,
        {"young", "old"},
        "ZGC generational",
    )


@pytest.fixture(scope="module")
def targets():
    """One running target per collector, started in parallel (bounded by start_target)."""
    with ThreadPoolExecutor(len(COLLECTORS)) as pool:
        futures = {
            name: pool.submit(jmx_support.start_target, *flags, java=java)
            for name, (flags, java, _, _) in COLLECTORS.items()
        }
        started = {name: f.result() for name, f in futures.items()}
    yield started
    for target in started.values():
        target.stop()


@pytest.mark.parametrize("name", list(COLLECTORS))
def test_pools_are_categorised_and_notifications_match_count_deltas(targets, name):
    _, _, expected_heap, family = COLLECTORS[name]
    conn = connect(parse_target(targets[name].address), connect_timeout_s=20)
    try:
        beans = discover(conn)
        categories = {
            p: cat
            for p, cat in (
                (n, row[model.POOL_CATEGORY])
                for n, row in zip(beans.pool_names, poll(conn, beans).pools, strict=True)
            )
        }
        assert {c for c in categories.values() if c in HEAP} == expected_heap, categories
        assert "other" not in categories.values(), categories
        assert {"metaspace", "code_cache"} <= set(categories.values())
        assert beans.collector == family

        sub = notifications.subscribe(conn, beans.gc_objects)
        before = _counts(poll(conn, beans))
        deadline = time.monotonic() + 15
        while True:  # until every pause-timing collector has collected at least twice
            time.sleep(0.5)
            after = _counts(poll(conn, beans))
            moved = [n for n in after if after[n] - before[n] >= 2]
            if moved or time.monotonic() > deadline:
                break
        assert moved, f"no collections in 15 s: {before} → {after}"
        time.sleep(1.0)  # notifications trail their counts by a few ms
        rows, gaps = notifications.drain(sub)
        assert not [g for g in gaps if g.collector is None]  # nothing lost at this rate
        for bean, count in after.items():
            ids = {r[model.GC_ID] for r in rows if r[model.NAME] == bean}
            in_window = {i for i in ids if before[bean] < i <= count}
            assert len(in_window) == count - before[bean], (bean, before[bean], count, ids)
        for row in rows:
            assert row[model.CATEGORY] in (model.PAUSE, model.CONCURRENT)
            if "Cycles" in row[model.NAME]:
                assert row[model.CATEGORY] == model.CONCURRENT  # never counted as pause time
            if row[model.NAME].endswith("Pauses"):
                # ZGC/Shenandoah pause beans report all pools as zero: unknown, not zero
                assert row.get(model.HEAP_AFTER_BYTES) is None
            else:
                assert row[model.HEAP_AFTER_BYTES] > 0 and row[model.HEAP_COMMITTED_BYTES] > 0
    finally:
        conn.close()


def test_estimated_uptime_lies_between_real_reads_and_slow_pools_are_read_again(targets):
    """Between two reads of the uptime (every SLOW_EVERY-th poll) the poll estimates it from our
    clock: never before a real read taken just before the poll, never later than one taken just
    after plus the delay of the poll that read it."""
    conn = connect(parse_target(targets["G1"].address), connect_timeout_s=20)
    try:
        beans = discover(conn)
        server, runtime = conn.server, beans.runtime_object

        def real_uptime() -> float:
            return int(conn.call(lambda: server.getAttribute(runtime, "Uptime"))) / 1000.0

        first = poll(conn, beans)
        assert first.stale_pools == frozenset()
        slow = {p for p in beans.pool_names if p.startswith(("CodeHeap", "Compressed"))}
        assert len(slow) >= 2
        for _ in range(1, SLOW_EVERY):
            time.sleep(0.05)
            before = real_uptime()
            polled = poll(conn, beans)
            after = real_uptime()
            assert polled.stale_pools == slow
            assert before - 0.002 <= polled.uptime_s <= after + first.latency_ms / 1000 + 0.002
        again = poll(conn, beans)
        assert again.stale_pools == frozenset()
        for row in again.pools:  # read afresh: real figures for every pool
            assert row[model.USED_BYTES] is not None and row[model.COMMITTED_BYTES] > 0
    finally:
        conn.close()


def test_warm_up_is_bounded_and_parallel_reads_land_on_their_own_beans(targets):
    """The warm-up stops at its time budget or its poll count and takes no sample; a poll's calls,
    made at once on several workers, come back each to the pool or collector it read."""
    conn = connect(parse_target(targets["G1"].address), connect_timeout_s=20)
    try:
        beans = discover(conn)
        server = conn.server
        started = time.monotonic()
        made = warm_up(conn, beans, budget_s=0.3, polls=10**6)
        assert made >= 1 and time.monotonic() - started < 0.3 + 2.0  # + the poll in flight
        assert warm_up(conn, beans, budget_s=60, polls=7) == 7
        assert beans.polls == 0 and beans.uptime_mark is None  # no sample was taken

        def serial_counts() -> dict[str, int]:
            return {
                name: int(conn.call(lambda on=on: server.getAttribute(on, "CollectionCount")))
                for name, on in zip(beans.gc_names, beans.gc_objects, strict=True)
            }

        before = serial_counts()
        polled = poll(conn, beans)
        after = serial_counts()
        for name, count in _counts(polled).items():
            assert before[name] <= count <= after[name]
        for row in polled.pools:  # the maxima tell the pools apart (Old Gen, code heaps, …)
            on = beans.pool_objects[beans.pool_names.index(row[model.POOL])]
            usage_max = int(conn.call(lambda on=on: server.getAttribute(on, "Usage")).get("max"))
            assert row[model.MAX_BYTES] == (usage_max if usage_max >= 0 else None)
    finally:
        conn.close()


def _counts(polled) -> dict[str, int]:
    return {r[model.COLLECTOR]: r[model.COLLECTION_COUNT] for r in polled.collectors}


def test_a_full_service_url_reaches_the_same_jvm(targets):
    target = targets["Serial"]
    url = f"service:jmx:rmi:///jndi/rmi://{target.address}/jmxrmi"
    conn = connect(parse_target(url), connect_timeout_s=20)
    try:
        assert conn.pid == target.pid
        assert "Tenured Gen" in discover(conn).pool_names
    finally:
        conn.close()


def test_connection_refused_is_fast_and_clear():
    port = jmx_support.free_port()  # nothing listens there
    started = time.monotonic()
    with pytest.raises(TargetError) as err:
        connect(parse_target(f"127.0.0.1:{port}"), connect_timeout_s=5)
    assert time.monotonic() - started < 5
    assert str(err.value) == (
        f"cannot connect to 127.0.0.1:{port}: connection refused (no JMX agent listening there)"
    )


def test_missing_pid_is_named_at_once():
    pid = _dead_pid()
    started = time.monotonic()
    with pytest.raises(TargetError, match=f"^no process with PID {pid}$"):
        connect(parse_target(str(pid)))
    assert time.monotonic() - started < 1


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_attach_by_pid_needs_no_jmx_flags():
    target = jmx_support.start_target("-XX:+UseSerialGC", jmx=False)
    try:
        conn = connect(parse_target(str(target.pid)), connect_timeout_s=20)
        try:
            beans = discover(conn)
            assert "Tenured Gen" in beans.pool_names
            assert conn.pid == target.pid
        finally:
            conn.close()
    finally:
        target.stop()


def test_password_file_authentication(tmp_path):
    password_file = tmp_path / "jmx.password"
    password_file.write_text("monitor s3cret\n")
    password_file.chmod(0o600)  # the JVM refuses a password file others can read
    access_file = tmp_path / "jmx.access"
    access_file.write_text("monitor readonly\n")
    target = jmx_support.start_target(
        "-XX:+UseSerialGC",
        extra_jmx={
            "auth": True,
            "password_file": str(password_file),
            "access_file": str(access_file),
        },
    )
    try:
        address = parse_target(target.address)
        with pytest.raises(TargetError) as err:
            connect(address, credentials=Credentials("monitor", "wrong"), connect_timeout_s=10)
        assert str(err.value) == (
            f"cannot connect to {target.address}: authentication failed: "
            "invalid username or password"
        )
        assert "wrong" not in str(err.value)
        with pytest.raises(TargetError, match="requires a username and password"):
            connect(address, connect_timeout_s=10)
        conn = connect(address, credentials=Credentials("monitor", "s3cret"))
        try:
            assert poll(conn, discover(conn)).pools  # a readonly user can poll
            with pytest.raises(TargetError) as denied:  # but not run diagnostic commands
                diagnostics.class_histogram(conn, live=False)
            assert str(denied.value) == (
                f"{target.address}: access denied: this JMX user may not do that (a readonly role?)"
            )
        finally:
            conn.close()
    finally:
        target.stop()


def test_a_port_that_accepts_and_never_answers_is_bounded_by_our_timeout():
    """Our own bound (a worker thread) holds even before the RMI handshake timeout does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(TargetError, match="no answer within 2 s"):
            connect(parse_target(f"127.0.0.1:{port}"), connect_timeout_s=2)
        assert time.monotonic() - started < 4
    finally:
        server.close()


@pytest.mark.parametrize("flag", ["-XX:+UseZGC", "-XX:+UseShenandoahGC"])
def test_live_gc_rate_counts_each_concurrent_cycle_once_and_its_pauses_apart(flag, tmp_path):
    """A real ZGC / Shenandoah JVM: its "Cycles" bean counts each collection once, its "Pauses"
    bean counts the same collections again, several pauses each. The panel's rate shows cycles
    (as many as the cycle notifications received) and pauses apart, never their sum."""
    import io

    from rich.console import Console

    from gcscope.config import default_config
    from gcscope.jmx.source import JmxSource
    from gcscope.live.view import PlainView, gc_rates, render
    from gcscope.live.watcher import Watcher, WatchOptions

    target = jmx_support.start_target(flag, heap="-Xmx32m")
    try:
        options = WatchOptions(interval_s=0.5, duration_s=6.0, config=default_config())
        source = JmxSource(parse_target(target.address), connect_timeout_s=20)
        watcher = Watcher(source, options, PlainView(io.StringIO()))
        assert watcher.watch() == 0
    finally:
        target.stop()
    run = watcher.run
    (t0, first), (t1, last) = run.recent_counts[0], run.recent_counts[-1]
    cycles_bean = next(n for n in last if n.endswith("Cycles"))
    pauses_bean = next(n for n in last if n.endswith("Pauses"))
    cycles = last[cycles_bean] - first[cycles_bean]
    pauses = last[pauses_bean] - first[pauses_bean]
    assert cycles >= 1, (first, last)
    assert pauses >= 2 * cycles  # at least two pauses a cycle: a sum would over-count them
    # the cycle notifications received in the window: one per counted cycle
    notified = {
        e[model.GC_ID]
        for e in run.events
        if e[model.NAME] == cycles_bean and first[cycles_bean] < e[model.GC_ID] <= last[cycles_bean]
    }
    assert len(notified) == cycles
    minutes = (t1 - t0) / 60
    rates = gc_rates(run.recent_counts, run.last_poll.collectors)
    assert rates[model.CONCURRENT] == pytest.approx(cycles / minutes)
    assert rates[model.PAUSE] == pytest.approx(pauses / minutes)
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(render(watcher, run.last_poll))
    text = console.file.getvalue()
    assert f"{cycles / minutes:,.1f} GC cycles/min, {pauses / minutes:,.1f} pauses/min" in text


def test_a_heap_dump_never_overwrites_an_existing_file(tmp_path, monkeypatch):
    """A real breach whose dump name (PID and UTC time: the clock is frozen here) is taken
    already: refused and reported, the file untouched. And the target JVM itself refuses to
    dump onto an existing file, should anything ever ask it to."""
    import io
    from datetime import UTC, datetime

    from gcscope.config import default_config
    from gcscope.jmx.source import JmxSource
    from gcscope.live import dumps as dumps_module
    from gcscope.live.dumps import DumpPolicy
    from gcscope.live.view import PlainView
    from gcscope.live.watcher import Watcher, WatchOptions

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    monkeypatch.setattr(dumps_module, "datetime", FrozenClock)
    target = jmx_support.start_old_gen_target("-XX:+UseSerialGC", "-Xms64m")
    existing = tmp_path / f"gcscope-{target.pid}-20260102T030405678901Z.hprof"
    existing.write_bytes(b"evidence: keep me")
    out = io.StringIO()
    options = WatchOptions(
        interval_s=0.5,
        alert_window_s=4.0,
        dump=DumpPolicy(str(tmp_path), ("GCS002",)),
        config=default_config(),
    )
    watcher = Watcher(
        JmxSource(parse_target(target.address), connect_timeout_s=20), options, PlainView(out)
    )
    try:
        assert watcher._connect(first=True)
        target.command("fill 36")
        deadline = time.monotonic() + 45
        while "heap dump for GCS002" not in out.getvalue() and time.monotonic() < deadline:
            watcher._tick()
            time.sleep(0.5)
        with pytest.raises(TargetError) as refused_by_target:
            watcher.source.dump_heap(str(existing), live=True, timeout_s=60)
        watcher._finish()
    finally:
        target.stop()
    text = out.getvalue()
    assert f"heap dump for GCS002 refused: {existing} exists (never overwritten)" in text, text
    assert "heap dump written" not in text
    assert "exists" in str(refused_by_target.value), refused_by_target.value
    assert existing.read_bytes() == b"evidence: keep me"
    assert sorted(tmp_path.glob("*.hprof")) == [existing]
    assert watcher.dumps.made == []
