"""`gcscope report RESULT.json --html FILE [--png DIR] [--dpi N]`: render a saved result.

The result is read from the JSON that `gcscope analyze --save RESULT.json` wrote, and the
charts from the events saved beside it (`RESULT.events.parquet`, or `--events FILE`, e.g. the
file `analyze --events` wrote). The log is never read again.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gcscope.errors import ExitStatus, InputError, UsageError


def register(subparsers: Any) -> None:
    from gcscope.report.chart_options import add_render_arguments

    parser = subparsers.add_parser(
        "report",
        help="render a saved result as PNG charts and a self-contained HTML page",
        description=(
            "Render a result saved by `gcscope analyze --save RESULT.json` without reading the "
            "log again: charts come from RESULT.events.parquet beside it. "
            "Exit status: 0 ok; 2 bad arguments or unwritable output; 3 result or events "
            "file unreadable."
        ),
    )
    parser.add_argument("result", metavar="RESULT.json", help="a result saved by analyze --save")
    parser.add_argument(
        "--events",
        metavar="FILE",
        help="the events file (.parquet) to draw from (default: RESULT.events.parquet)",
    )
    add_render_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gcscope.report.chart_options import render_outputs
    from gcscope.report.data import ReportData, events_side_file

    if not (args.html or args.png):
        raise UsageError("nothing to do: give --html FILE and/or --png DIR")
    data = ReportData.load(args.result, args.events)
    if not data.events_available:
        side = events_side_file(args.result)
        message = (
            f"{side}: not found, so the report has no charts (save the result with "
            "`gcscope analyze LOG --save RESULT.json`, or give --events FILE)"
        )
        if args.png:
            raise InputError(message)
        print(f"gcscope: warning: {message}", file=sys.stderr)
    for path in render_outputs(args, data):
        print(f"gcscope: wrote {path}", file=sys.stderr)
    return ExitStatus.OK
