#!/usr/bin/env python3
"""Many-files benchmark for gcscope: `gcscope analyze DIR --jobs 1` against `--jobs 2`.

Builds (once, cached) a folder of N logs of about S MB each, cut or repeated from the
same source log bench_ingest.py uses, then times gcscope over the whole folder with one
and with two worker jobs. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

# Run as a script, this file's folder is on sys.path: the shared code lives next to it.
from bench_ingest import (
    MB,
    Result,
    add_source_options,
    compile_bytecode,
    find_gcscope,
    measure_tool,
    rss_probe,
    source_log,
    synthesize_log,
    table_rows,
    warm_page_cache,
)


def ensure_many_logs(source: Path, cache: Path, count: int, each_mb: float) -> Path:
    """A cached folder of `count` logs of ~each_mb, built from `source`.

    One log is synthesised (one JVM run, cut at a collection boundary or repeated with
    shifted uptimes/ids), then copied under different names. A marker file beside the
    folder (not in it: gcscope reads the folder) says the build finished.
    """
    folder = cache / f"many-{source.stem}-{count}x{each_mb:g}mb"
    done = folder.with_name(folder.name + ".complete")
    if done.exists() and done.stat().st_mtime >= source.stat().st_mtime:
        return folder
    print(f"building {folder} ({count} x {each_mb:g} MB) from {source} ...", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    first = folder / "gc-000.log"
    synthesize_log(source, first, int(each_mb * MB))
    for i in range(1, count):
        shutil.copyfile(first, folder / f"gc-{i:03d}.log")
    done.touch()
    return folder


def rejects_jobs(result: Result) -> bool:
    """argparse-style rejection of the option (as opposed to any other failure)."""
    status = result.status.lower()
    return (
        result.status != "ok"
        and "--jobs" in status
        and ("unrecognized" in status or "no such option" in status or "unknown" in status)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_source_options(parser)
    parser.add_argument("--count", type=int, default=50, help="number of logs (50)")
    parser.add_argument("--each-mb", type=float, default=20, help="size of each log (20)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (3)")
    parser.add_argument("--gcscope", help="gcscope executable (default: the venv's, then PATH)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    folder = ensure_many_logs(source_log(args), args.cache, args.count, args.each_mb)
    files = sorted(folder.glob("*.log"))
    total = sum(f.stat().st_size for f in files)
    lines = sum(warm_page_cache(f) for f in files)
    size_mb = total / MB
    probe = rss_probe()

    results = [
        measure_tool(
            "wc -l (all files)", ["wc", "-l", *map(str, files)], size_mb, args.repeat, probe
        )
    ]
    gcscope = find_gcscope(args.gcscope)
    if gcscope is not None:
        compile_bytecode(gcscope)
    skipped = ""
    for jobs in (1, 2):
        cmd = None if gcscope is None else [gcscope, "analyze", str(folder), "--jobs", str(jobs)]
        result = measure_tool(f"gcscope analyze --jobs {jobs}", cmd, size_mb, args.repeat, probe)
        if rejects_jobs(result):
            skipped = f"skipped: gcscope analyze does not accept --jobs ({result.status})"
            break
        results.append(result)
    # Ratio here: throughput relative to --jobs 1, i.e. the parallel speed-up.
    one = next((r for r in results if r.tool.endswith("--jobs 1") and r.mb_per_s), None)
    for r in results:
        if one is not None and one.mb_per_s and r.mb_per_s:
            r.ratio = r.mb_per_s / one.mb_per_s

    print(
        f"folder: {folder} ({len(files)} files, {size_mb:.1f} MB, {lines:,} lines), "
        f"best of {args.repeat}, MB = MiB, ratio = throughput / --jobs 1"
    )
    print("\n".join(table_rows(results)))
    if skipped:
        print(f"gcscope --jobs: {skipped}")
    elif gcscope is None:
        print("gcscope: not available (no gcscope console script in the venv or on PATH)")
    elif len(results) == 3 and results[2].ratio:
        print(f"gcscope --jobs 2: {results[2].ratio:.2f}× the throughput of --jobs 1")
    if args.json:
        report = {
            "folder": str(folder),
            "files": len(files),
            "bytes": total,
            "lines": lines,
            "repeat": args.repeat,
            "mb": "MiB (2**20 bytes)",
            "skipped": skipped or None,
            "results": [asdict(r) for r in results],
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
