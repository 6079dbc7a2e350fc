#!/usr/bin/env python3
"""How long do the charts and the HTML report take beyond the analysis, and how big is the page?

    python bench/bench_report.py                       # the cached >= 50 MB G1 log (bench_ingest)
    python bench/bench_report.py --log /path/gc.log --repeat 3
    python bench/bench_report.py --million             # plus a 1,000,000-pause synthetic run

End to end, each a child process (best of --repeat wall times):
  A  `gcscope analyze LOG --json`                                    the analysis alone
  B  `gcscope analyze LOG --json --png DIR --html FILE`              analysis + every output
  C  `gcscope report RESULT.json --png DIR --html FILE`              a saved result, no log
The report's cost is B - A (target: under 10 s); C shows the same without any analysis.
In process, it also times each chart and the HTML on the same analysis, so a slow chart is
named. Targets: B - A < 10 s, HTML < 5 MB. The load average is printed: figures are only
comparable on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
MB = 1 << 20
TARGET_EXTRA_S = 10.0
TARGET_HTML_BYTES = 5 * MB


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_log() -> Path:
    """The benchmark log bench_ingest.py caches (generating it with the JDK if absent)."""
    sys.path.insert(0, str(BENCH_DIR))
    import bench_ingest  # the same cache, the same log: figures compare across benchmarks

    return bench_ingest.ensure_generated_log(bench_ingest.DEFAULT_CACHE, "g1", 75)


def gcscope_command() -> list[str]:
    venv = REPO_DIR / ".venv" / "bin" / "gcscope"
    if venv.exists():
        return [str(venv)]
    found = shutil.which("gcscope")
    return [found] if found else [sys.executable, "-m", "gcscope.cli"]


def best_wall(command: list[str], repeat: int) -> float:
    best = float("inf")
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR)}
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
        )
        elapsed = time.perf_counter() - start
        if done.returncode not in (0, 1):  # 1: findings/strict, still a full run
            sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")
        best = min(best, elapsed)
    return best


def in_process(log: Path, dpi: int) -> None:
    """Per-chart and HTML timings on one analysis (what B - A is made of)."""
    from gcscope.analysis import analyze_ingested
    from gcscope.ingest import read_events
    from gcscope.report.charts import CHARTS, render_run
    from gcscope.report.data import ReportData
    from gcscope.report.html import render_html

    start = time.perf_counter()
    ingest = read_events([str(log)])
    result = analyze_ingested(ingest)
    analysed = time.perf_counter() - start
    data = ReportData.from_analysis(result, ingest.events, source=str(log))
    print(f"\nin process: {ingest.events.height:,} events, analysis {analysed:.2f} s")
    charts = []
    total = 0.0
    for run in data.runs():
        for spec in CHARTS:
            start = time.perf_counter()
            drawn = render_run(run, dpi=dpi, names=[spec.name])
            elapsed = time.perf_counter() - start
            total += elapsed
            charts += drawn
            size = sum(len(c.png or b"") for c in drawn)
            state = "drawn" if size else "no data"
            print(f"  {spec.name:20s} {elapsed:6.2f} s  {size / 1024:7.0f} KB  {state}")
    start = time.perf_counter()
    page = render_html(data, charts)
    html_s = time.perf_counter() - start
    print(f"  {'HTML page':20s} {html_s:6.2f} s  {len(page.encode()) / 1024:7.0f} KB")
    print(f"  {'total':20s} {total + html_s:6.2f} s")


def million(dpi: int) -> None:
    """1,000,000 synthetic pauses (what no real log here has): charts must still take seconds."""
    sys.path.insert(0, str(REPO_DIR))
    from gcscope.analysis.metrics import run_metrics
    from gcscope.report.charts import render_charts
    from gcscope.report.data import ReportData
    from tests.report_synthetic import g1_like_events, g1_meta

    events = g1_like_events(1_000_000, interval_s=0.2, long_pause_every=5000)
    meta = g1_meta()
    data = ReportData({"runs": [{**meta, **run_metrics(events, meta)}]}, events)
    start = time.perf_counter()
    charts = render_charts(data, dpi=dpi)
    elapsed = time.perf_counter() - start
    drawn = sum(1 for c in charts if c.png)
    print(
        f"\n1,000,000 synthetic pauses ({events.height:,} events): {drawn} charts in "
        f"{elapsed:.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", type=Path, help="GC log (default: bench_ingest's cached log)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (best is kept)")
    parser.add_argument("--dpi", type=int, default=100)
    parser.add_argument("--million", action="store_true", help="also chart 1M synthetic pauses")
    args = parser.parse_args()
    log = args.log or default_log()
    size_mb = log.stat().st_size / MB
    gcscope = gcscope_command()
    print(
        f"log {log} ({size_mb:.1f} MB); load average {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="gcscope-bench-report-") as tmp:
        out = Path(tmp)
        saved = out / "result.json"
        _log("A: analysis alone")
        a = best_wall([*gcscope, "analyze", str(log), "--json"], args.repeat)
        _log("B: analysis + charts + HTML")
        b = best_wall(
            [
                *gcscope,
                "analyze",
                str(log),
                "--json",
                "--png",
                str(out / "b"),
                "--html",
                str(out / "b.html"),
                "--dpi",
                str(args.dpi),
            ],
            args.repeat,
        )
        _log("C: report from a saved result")
        best_wall([*gcscope, "analyze", str(log), "--json", "--save", str(saved)], 1)
        c = best_wall(
            [
                *gcscope,
                "report",
                str(saved),
                "--png",
                str(out / "c"),
                "--html",
                str(out / "c.html"),
                "--dpi",
                str(args.dpi),
            ],
            args.repeat,
        )
        html_bytes = (out / "b.html").stat().st_size
        pngs = sorted((out / "b").glob("*.png"))
        png_bytes = sum(p.stat().st_size for p in pngs)
        saved_bytes = saved.stat().st_size + (out / "result.events.parquet").stat().st_size
        extra = b - a
        print(f"A  analyze --json                    {a:7.2f} s")
        print(f"B  analyze --json --png --html       {b:7.2f} s")
        print(
            f"   charts + HTML beyond the analysis {extra:7.2f} s   (target < "
            f"{TARGET_EXTRA_S:g} s: {'ok' if extra < TARGET_EXTRA_S else 'MISSED'})"
        )
        print(f"C  report RESULT.json --png --html   {c:7.2f} s")
        print(
            f"HTML {html_bytes / MB:.2f} MB (target < {TARGET_HTML_BYTES / MB:g} MB: "
            f"{'ok' if html_bytes < TARGET_HTML_BYTES else 'MISSED'}); {len(pngs)} PNGs, "
            f"{png_bytes / MB:.2f} MB; saved result + events {saved_bytes / MB:.2f} MB"
        )
    in_process(log, args.dpi)
    if args.million:
        million(args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(main())
