"""Live polling cost: poll latency (median, p99) and gcscope's CPU per poll at a 1 s interval.

Starts a small target JVM (tests/java/JmxTarget.java, G1, 16 MB/s of garbage) with remote JMX on
127.0.0.1, then measures in this process (CPU = this process, its in-process JVM included):
  1. raw JMX polls (pools + collectors, bulk getAttributes made at once on parallel workers;
     code cache, compressed class space and uptime every 10th poll) at --interval, after the
     connection's warm-up (gcscope.jmx.poll.warm_up, as `gcscope watch` does);
  2. the whole `gcscope watch` loop (poll, notifications, rules, recording) for --seconds;
  3. hsperfdata reads of the same target (no JVM involved).
Targets: median ≤ 5 ms, CPU < 2 % of one core. The machine's load average is printed before
and after: on a loaded machine every remote call waits for the target's threads to be scheduled,
so latency says as much about the machine as about gcscope.

    python bench/bench_poll.py [--polls 30] [--seconds 30] [--interval 1]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.jmx_support import start_target


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def raw_polls(address: str, polls: int, interval_s: float) -> dict:
    from gcscope.jmx.connect import connect, parse_target
    from gcscope.jmx.poll import discover, poll, warm_up

    started = time.perf_counter()
    conn = connect(parse_target(address))
    connect_s = time.perf_counter() - started
    beans = discover(conn)
    warm_started = time.perf_counter()
    warm_cpu = time.process_time()
    warm_polls = warm_up(conn, beans)  # as `gcscope watch` does right after connecting
    warm = (warm_polls, time.perf_counter() - warm_started, time.process_time() - warm_cpu)
    latencies = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(polls):
        t = time.perf_counter()
        poll(conn, beans)
        latencies.append((time.perf_counter() - t) * 1000)
        time.sleep(max(0.0, wall0 + (i + 1) * interval_s - time.perf_counter()))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    conn.close()
    return {
        "connect_s": connect_s,
        "warm_up": warm,
        "latencies": latencies,
        "cpu_s": cpu,
        "wall_s": wall,
        "pools": len(beans.pool_names),
        "collectors": len(beans.gc_names),
    }


def watch_loop(address: str, seconds: float, interval_s: float) -> dict:
    from gcscope.config import default_config
    from gcscope.jmx.connect import parse_target
    from gcscope.jmx.source import JmxSource
    from gcscope.live.view import PlainView
    from gcscope.live.watcher import Watcher, WatchOptions

    with tempfile.TemporaryDirectory() as tmp:
        options = WatchOptions(
            interval_s=interval_s,
            duration_s=seconds,
            record=str(Path(tmp) / "bench.jsonl"),
            config=default_config(),
        )
        view = PlainView(io.StringIO())
        marks: list[tuple[float, float]] = []  # (cpu, wall) at each poll
        view.update = lambda watcher, polled: marks.append(  # type: ignore[method-assign]
            (time.process_time(), time.perf_counter())
        )
        watcher = Watcher(JmxSource(parse_target(address)), options, view)
        watcher.watch()
        # steady state: from the 5th poll on (connecting and first-use imports excluded)
        (cpu0, wall0), (cpu1, wall1) = marks[min(4, len(marks) - 2)], marks[-1]
        cpu, wall = cpu1 - cpu0, wall1 - wall0
        info = watcher.watch_summary()
        size = (Path(tmp) / "bench.jsonl").stat().st_size
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "polls": info["polls"],
        "steady_polls": len(marks) - 5,
        "notifications": info["gc_notifications"],
        "recording_bytes": size,
        "latencies": list(watcher.latencies_ms),
    }


def hsperf_reads(pid: int, reads: int) -> list[float]:
    from gcscope.live import hsperfdata

    path = hsperfdata.find_hsperfdata(pid)
    out = []
    for _ in range(reads):
        t = time.perf_counter()
        hsperfdata.sample(hsperfdata.values(hsperfdata.read(path)))
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()

    print(load_line("before"))
    target = start_target("-XX:+UseG1GC", heap="-Xmx256m", seconds=600)
    try:
        raw = raw_polls(target.address, args.polls, args.interval)
        lat = raw["latencies"]
        warm_polls, warm_wall_s, warm_cpu_s = raw["warm_up"]
        print(
            f"target: G1, pid {target.pid}, {raw['pools']} pools, {raw['collectors']} "
            f"collectors; first connect (in-process JVM start included) {raw['connect_s']:.2f} s; "
            f"warm-up {warm_polls} polls in {warm_wall_s:.2f} s ({warm_cpu_s:.2f} s CPU)"
        )
        print(
            f"raw JMX poll ({len(lat)} at {args.interval:g} s): median {statistics.median(lat):.2f}"
            f" ms, p99 {pct(lat, 0.99):.2f} ms, max {max(lat):.2f} ms; CPU "
            f"{raw['cpu_s'] / len(lat) * 1000:.2f} ms per poll = "
            f"{raw['cpu_s'] / raw['wall_s'] * 100:.2f} % of one core"
        )
        loop = watch_loop(target.address, args.seconds, args.interval)
        wl = loop["latencies"][5:]
        print(
            f"gcscope watch loop ({loop['polls']} polls, {loop['notifications']} GC "
            f"notifications, rules, recording {loop['recording_bytes'] / 1024:.0f} KB): poll "
            f"median {statistics.median(wl):.2f} ms, p99 {pct(wl, 0.99):.2f} ms; CPU "
            f"{loop['cpu_s'] / max(loop['steady_polls'], 1) * 1000:.2f} ms per poll = "
            f"{loop['cpu_s'] / loop['wall_s'] * 100:.2f} % of one core"
        )
        hs = hsperf_reads(target.pid, 1000)
        print(
            f"hsperfdata read + sample (1000): median {statistics.median(hs):.3f} ms, "
            f"p99 {pct(hs, 0.99):.3f} ms"
        )
    finally:
        target.stop()
    print(load_line("after"))


def load_line(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return (
        f"machine load {when}: {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on "
        f"{os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
