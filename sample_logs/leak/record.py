#!/usr/bin/env python3
"""Record the leak / steady / OOM GC logs of sample_logs/leak/ with a real JVM.

Every log is made by one command line in RUNS below (tests/java/GcWorkload.java under one
collector and a 48 MB heap); README.md's table is printed from the same list, and the live
JVM tests (tests/test_leak_jvm.py) run the same command lines, shorter. All runs of a
recording start together, as the live tests do (about 1.5 minutes for everything).

    python sample_logs/leak/record.py                 # record everything
    python sample_logs/leak/record.py --only 'g1-*'   # a subset (fnmatch on the log name)
    python sample_logs/leak/record.py --list          # print the command lines only
    python sample_logs/leak/record.py --update-readme # rewrite the table in README.md

Logs larger than 1 MB are stored gzipped (gcscope reads .gz directly). Needs `java` and
`javac` (JDK 17 or newer: ZGC and Shenandoah are not experimental there) on PATH, or --java.
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import shlex
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SOURCE = REPO / "tests" / "java" / "GcWorkload.java"
MAX_PLAIN_BYTES = 1_000_000

COLLECTORS = {
    "g1": ["-XX:+UseG1GC"],
    "parallel": ["-XX:+UseParallelGC"],
    "serial": ["-XX:+UseSerialGC"],
    "zgc": ["-XX:+UseZGC"],
    "shenandoah": ["-XX:+UseShenandoahGC"],
}
HEAP = ["-Xmx48m"]
RATE_MB_S = 100  # allocation rate of every run: a young GC every few hundred ms
LEAK_BYTES = 48  # leak: kept forever per request (a request allocates ~17 KB)
OOM_BYTES = 256  # oom: four times faster, so the 48 MB heap runs out in about half a minute


@dataclass(frozen=True)
class Run:
    log: str  # file name in sample_logs/leak/
    collector: str  # key of COLLECTORS
    mode: str  # GcWorkload --mode: steady or leak
    seconds: int
    retain_bytes: int = LEAK_BYTES
    expect: str = ""  # what the leak verdict must say (the tests assert it)
    shape: str | None = None  # the shape it must have, when the tests assert one
    expect_exit: tuple[int, ...] = (0,)
    note: str = ""
    extra_jvm: list[str] = field(default_factory=list)

    def workload_args(self, seconds: float | None = None) -> list[str]:
        args = ["--seconds", f"{seconds or self.seconds:g}", "--mode", self.mode]
        args += ["--alloc-mb-per-s", str(RATE_MB_S)]
        if self.mode == "leak":
            args += ["--retain-bytes-per-request", str(self.retain_bytes)]
        return args

    def command(
        self, java: str, classes: str, log_path: str, seconds: float | None = None
    ) -> list[str]:
        return [
            java,
            *HEAP,
            *COLLECTORS[self.collector],
            *self.extra_jvm,
            f"-Xlog:gc*:file={log_path}",
            "-cp",
            classes,
            "GcWorkload",
            *self.workload_args(seconds),
        ]


RUNS: list[Run] = [
    *(Run(f"{gc}-leak.log", gc, "leak", 60, expect="leak") for gc in COLLECTORS),
    *(Run(f"{gc}-steady.log", gc, "steady", 60, expect="healthy") for gc in COLLECTORS),
    *(
        Run(
            f"{gc}-oom.log",
            gc,
            "leak",
            120,
            retain_bytes=OOM_BYTES,
            expect="leak",
            shape="hockey_stick",
            expect_exit=(3,),
            note="dies with OutOfMemoryError, caught by the workload: exit code 3",
        )
        for gc in ("g1", "parallel", "serial")
    ),
    Run(
        "g1-leak-short.log",
        "g1",
        "leak",
        8,
        expect="insufficient_evidence",
        note="too short to tell",
    ),
]


def stored_name(run: Run) -> Path:
    """Where a run's log is kept: .log, or .log.gz when it is larger than 1 MB."""
    plain = HERE / run.log
    return plain if plain.exists() else HERE / f"{run.log}.gz"


def compile_workload(javac: str, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [javac, "--release", "11", "-d", str(out_dir), str(SOURCE)], check=True, timeout=120
    )


def execute(run: Run, java: str, classes: Path, out_dir: Path) -> str:
    log = out_dir / run.log
    for old in (log, out_dir / f"{run.log}.gz"):
        old.unlink(missing_ok=True)
    cmd = run.command(java, str(classes), str(log))
    done = subprocess.run(
        cmd, check=False, capture_output=True, text=True, timeout=run.seconds + 120
    )
    if done.returncode not in run.expect_exit:
        raise RuntimeError(f"{run.log}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    if log.stat().st_size > MAX_PLAIN_BYTES:
        with log.open("rb") as src, gzip.open(f"{log}.gz", "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
        log.unlink()
    return f"{run.log}: exit {done.returncode}"


def readme_table() -> str:
    rows = [
        "| log | verdict the tests expect | command line (from the repository root) |",
        "| --- | --- | --- |",
    ]
    for run in RUNS:
        name = stored_name(run).name
        cmd = shlex.join(run.command("java", "build/gcworkload", f"sample_logs/leak/{run.log}"))
        expect = run.expect + (f", {run.shape}" if run.shape else "")
        if run.note:
            expect += f" ({run.note})"
        rows.append(f"| `{name}` | {expect} | `{cmd}` |")
    return "\n".join(rows)


BEGIN, END = "<!-- runs: begin -->", "<!-- runs: end -->"


def update_readme() -> None:
    path = HERE / "README.md"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{readme_table()}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--java", default="java")
    parser.add_argument("--javac", default="javac")
    parser.add_argument("--only", default="*", help="fnmatch pattern on the log name")
    parser.add_argument("--list", action="store_true", help="print the command lines only")
    parser.add_argument("--update-readme", action="store_true", help="rewrite README.md's table")
    args = parser.parse_args(argv)
    runs = [r for r in RUNS if fnmatch.fnmatch(r.log, args.only)]
    if args.list:
        for run in runs:
            print(shlex.join(run.command("java", "build/gcworkload", run.log)))
        return 0
    if not args.update_readme:
        with tempfile.TemporaryDirectory() as tmp:
            classes = Path(tmp) / "classes"
            compile_workload(args.javac, classes)
            with ThreadPoolExecutor(max_workers=len(runs)) as pool:
                for line in pool.map(lambda r: execute(r, args.java, classes, HERE), runs):
                    print(line)
    update_readme()
    return 0


if __name__ == "__main__":
    sys.exit(main())
