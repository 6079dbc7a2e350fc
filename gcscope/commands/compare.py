"""`gcscope compare BASE CANDIDATE`: side-by-side metrics with deltas and a regression verdict.

Each side is a GC log (anything `analyze` reads) or a saved result (`gcscope analyze --json >
base.json`). When a side holds several JVM runs, its longest run is compared (said on stderr).
Tolerances: [compare] in gcscope.toml, or --set compare.KEY=VALUE (see `gcscope rules`).
Exit status: 0 no regression; 1 regression; 2 bad arguments or configuration; 3 input
unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gcscope.config import add_config_arguments, config_from_args
from gcscope.errors import ExitStatus, InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare two GC logs or saved results; exit 1 on a regression",
        description=(
            "Compare a candidate against a base, each a GC log or a saved `analyze --json` "
            "result: pause percentiles, throughput, full GCs per hour, Old Gen saturation, leak "
            "verdict, with deltas and a regression verdict under the [compare] tolerances. "
            "Exit status: 0 no regression; 1 regression; 2 bad arguments or configuration; "
            "3 input unreadable."
        ),
    )
    parser.add_argument("base", metavar="BASE", help="GC log or saved JSON result")
    parser.add_argument("candidate", metavar="CANDIDATE", help="GC log or saved JSON result")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    add_config_arguments(parser)
    parser.set_defaults(run=run)


def _is_saved_result(path: str) -> bool:
    if path == "-":
        return False
    if path.lower().endswith(".json"):
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(64).lstrip().startswith(b"{")
    except OSError:
        return False  # the log reader reports missing or unreadable files properly


def load_side(path: str, config: Any) -> tuple[dict[str, Any], str]:
    """The run to compare from one side (a log or a saved result), and a note on which one."""
    from gcscope.analysis.result import AnalysisResult

    if _is_saved_result(path):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read result: {exc}", file=path) from None
        try:
            result = AnalysisResult.from_json(text)
        except InputError as exc:
            raise InputError(exc.message, file=path, line=exc.line) from None
    else:
        from gcscope.analysis import analyze_logs

        result = analyze_logs([path], config=config)
    if not result.runs:
        raise InputError("no JVM run with GC events to compare", file=path)
    runs = [run.to_dict() for run in result.runs]
    chosen = max(
        range(len(runs)),
        key=lambda i: (runs[i].get("end_uptime_s") or 0) - (runs[i].get("start_uptime_s") or 0),
    )
    note = (
        f"{path}: {len(runs)} runs, comparing the longest (run {chosen})" if len(runs) > 1 else ""
    )
    return runs[chosen], note


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def print_comparison(comparison: dict[str, Any], base: str, candidate: str) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    style = {"regression": "bold red", "improved": "green", "ok": "", "n/a": "dim", "info": "dim"}
    table = Table(title=None, box=None, pad_edge=False)
    for name, justify in (
        ("metric", "left"),
        ("base", "right"),
        ("candidate", "right"),
        ("delta", "right"),
        ("tolerance", "left"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in comparison["rows"]:
        delta = ""
        if row["delta"] is not None:
            delta = f"{row['delta']:+,.2f}"
            if row["delta_pct"] is not None:
                delta += f" ({row['delta_pct']:+.0f} %)"
        unit = f" {row['unit']}" if row["unit"] else ""
        table.add_row(
            f"{row['metric']}{unit}",
            _fmt(row["base"]),
            _fmt(row["candidate"]),
            delta,
            row["tolerance"] or "",
            Text(row["status"], style=style.get(row["status"], "")),
        )
    console = Console(highlight=False)
    console.print(Text(f"base {base}\ncandidate {candidate}", style="dim"))
    console.print(table)
    if comparison["regression"]:
        console.print(Text(f"Regression: {', '.join(comparison['regressions'])}", style="bold red"))
    else:
        console.print(Text("No regression", style="green"))


def run(args: argparse.Namespace) -> int:
    from gcscope.analysis.compare import compare_runs

    config = config_from_args(args)
    base, base_note = load_side(args.base, config)
    candidate, cand_note = load_side(args.candidate, config)
    for note in (base_note, cand_note):
        if note:
            print(f"gcscope: {note}", file=sys.stderr)
    comparison = compare_runs(base, candidate, config.compare)
    if args.json:
        out = {
            "base": args.base,
            "candidate": args.candidate,
            **comparison,
            "tolerances": dict(config.compare),
        }
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        print_comparison(comparison, args.base, args.candidate)
    return ExitStatus.FINDINGS if comparison["regression"] else ExitStatus.OK
