"""`gcscope histo TARGET` takes class histograms; `gcscope histo diff A B…` ranks their growth.

A live histogram (the default) forces a full GC in the target first, so it counts only
reachable objects: tens of milliseconds on a small heap, far more on a big one. `--all` takes it
without a GC, counting garbage too. Which one is used is always said on stderr.
Exit status: 0 ok; 2 bad arguments; 3 a histogram file unreadable; 4 target unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gcscope.commands.watch import (
    _positive_int,
    add_connection_arguments,
    jmx_source_from_args,
    parse_duration,
)
from gcscope.errors import ExitStatus, UsageError

LIVE_NOTE = (
    "live histogram: the target runs a full GC first, so only reachable objects count "
    "(a pause of tens of ms on a small heap, longer on a big one; --all avoids it)"
)
ALL_NOTE = "--all histogram: no GC in the target, so unreachable garbage is counted too"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "histo",
        help="class histograms of a live JVM, and `histo diff` to rank growing classes",
        description=(
            "gcscope histo TARGET [--every D --count N] [--out DIR] [--all]: take class "
            "histograms through the DiagnosticCommand MBean (TARGET: HOST:PORT, service:jmx: "
            "URL, or a local PID). gcscope histo diff A B [C…]: rank classes by growth in bytes "
            "and instances across saved histograms, marking those that grew in every snapshot. "
            "Exit status: 0 ok; 2 bad arguments; 3 unreadable histogram; 4 target unreachable."
        ),
    )
    parser.add_argument("args", nargs="+", metavar="TARGET | diff FILE…")
    parser.add_argument(
        "--every",
        type=parse_duration,
        default=60.0,
        metavar="D",
        help="time between snapshots (default 60s)",
    )
    parser.add_argument(
        "--count",
        type=_positive_int,
        default=1,
        metavar="N",
        help="number of snapshots (default 1)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="save each snapshot as DIR/histo-<pid>-<UTC time>.txt (default: "
        "print a single snapshot; several need --out)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="count all objects without forcing a full GC (includes garbage)",
    )
    parser.add_argument(
        "--top", type=_positive_int, default=20, metavar="N", help="rows to show (default 20)"
    )
    parser.add_argument("--json", action="store_true", help="diff: print the ranking as JSON")
    add_connection_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.args[0] == "diff":
        return run_diff(args.args[1:], top=args.top, as_json=args.json)
    if len(args.args) != 1:
        raise UsageError("histo takes one TARGET (or: histo diff FILE FILE…)")
    return run_take(args)


def run_take(args: argparse.Namespace) -> int:
    from gcscope.jmx.connect import parse_target

    if args.count > 1 and not args.out:
        raise UsageError("--count above 1 needs --out DIR to keep the snapshots")
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    source = jmx_source_from_args(args, parse_target(args.args[0]))
    source.open()
    print(f"gcscope: {ALL_NOTE if args.all else LIVE_NOTE}", file=sys.stderr)
    saved: list[Path] = []
    try:
        for index in range(args.count):
            if index:
                deadline = time.monotonic() + args.every
                while time.monotonic() < deadline:  # slices: Ctrl-C stays responsive
                    time.sleep(min(0.1, deadline - time.monotonic()))
            started = time.monotonic()
            text = source.class_histogram(live=not args.all)
            took_ms = (time.monotonic() - started) * 1000
            if out_dir is None:
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
                continue
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            path = out_dir / f"histo-{source.identity[0]}-{stamp}.txt"
            path.write_text(text, encoding="utf-8")
            saved.append(path)
            print(f"{path} ({took_ms:.0f} ms)", file=sys.stderr)
    finally:
        source.close()
    if len(saved) >= 2:
        print(file=sys.stderr)
        return run_diff([str(p) for p in saved], top=args.top, as_json=False)
    return ExitStatus.OK


def run_diff(paths: list[str], *, top: int, as_json: bool) -> int:
    from gcscope.live.histogram import diff, read_histogram

    if len(paths) < 2:
        raise UsageError("histo diff needs at least two histogram files")
    snapshots = [read_histogram(p) for p in paths]
    ranking = diff(snapshots)
    if as_json:
        doc = {"snapshots": paths, "classes": [g.as_dict() for g in ranking[:top]]}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return ExitStatus.OK
    print(
        f"growth from {paths[0]} to {paths[-1]} ({len(paths)} snapshots); "
        "* = grew in every snapshot"
    )
    print(f"{'':1} {'bytes growth':>14} {'instances growth':>17} {'bytes now':>13}  class")
    for g in ranking[:top]:
        mark = "*" if g.grew_every_snapshot else " "
        print(
            f"{mark} {g.bytes_growth:>14,} {g.instances_growth:>17,} {g.bytes_last:>13,}  {g.name}"
        )
    return ExitStatus.OK
