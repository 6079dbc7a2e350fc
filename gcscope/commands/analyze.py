"""`gcscope analyze LOG…`: read GC logs, compute the metrics, print a summary or the JSON.

The steps are small public functions so other commands and features reuse them:
- `add_log_arguments(parser)` / `ingest_from_args(args)`: LOG…, --strict, --max-unknown
  (e.g. `gcscope check` reads logs exactly the same way);
- `add_output_arguments(parser)` / `write_outputs(args, result, ingest)`: --json, --events, and
  the ingest's warnings (`parse_warnings(ingest)`) on stderr;
- `exit_status(args, result, warnings)`: the exit code rules.

Features that add options to `analyze` (charts: --png/--html/--dpi; rules: --config/--set) plug
in through ANALYZE_EXTENSIONS below instead of editing this file's logic.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

from gcscope.errors import ExitStatus, UsageError

# Modules that extend `analyze`. Each may define:
#   add_analyze_arguments(parser)                        add its options
#   before_ingest(args)                                  check its options (raise a
#       GcscopeError) before any log is read
#   after_analysis(args, result, ingest) -> int | None   called after the metrics and before
#       any output is printed: may add to `result` (findings, leak verdict, extra keys) and
#       write its own files (messages go to stderr: stdout may be JSON). A returned int is an
#       exit status; the command exits with the highest one.
# A listed module that does not exist yet is skipped.
ANALYZE_EXTENSIONS: tuple[str, ...] = (
    "gcscope.analysis.rule_options",  # --config/--set: the rules' thresholds
    # Charts, HTML and --save: keep LAST, it renders and saves what the others added.
    "gcscope.report.chart_options",
)

EVENTS_FORMATS = (".parquet", ".csv")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "logs",
        nargs="+",
        metavar="LOG",
        help="GC log file, directory, rotated set, .gz or .zip; '-' reads standard input",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 1 when any line is not recognised (the report is still printed)",
    )
    parser.add_argument(
        "--max-unknown",
        type=_non_negative_int,
        default=20,
        metavar="N",
        help="show at most N unknown lines with their explanation (default 20)",
    )


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as JSON (the contract in the README) instead of the summary",
    )
    parser.add_argument(
        "--events",
        metavar="OUT",
        help="also write every GC event to OUT (.parquet or .csv; columns: gcscope.model)",
    )


def _extensions() -> list[Any]:
    found = []
    for name in ANALYZE_EXTENSIONS:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="analyse GC logs: pauses, throughput, full GCs, Old Gen, rates",
        description=(
            "Read unified JVM GC logs and report pause percentiles, throughput, full GCs, "
            "Old Gen saturation, allocation and promotion rates, per JVM run. "
            "Exit status: 0 ok; 1 with --strict when a line was not recognised; "
            "2 bad arguments; 3 input unreadable."
        ),
    )
    add_log_arguments(parser)
    add_output_arguments(parser)
    # --recording PATH: live recordings (issue 7, gcscope/live/recording.py)
    from gcscope.live.recording import add_recording_argument

    add_recording_argument(parser)
    # --follow/--interval (a log being written) and --jobs (many log sets in parallel)
    from gcscope.commands.analyze_follow import add_follow_arguments
    from gcscope.commands.analyze_many import add_jobs_argument

    add_follow_arguments(parser)
    add_jobs_argument(parser)
    for extension in _extensions():
        if hasattr(extension, "add_analyze_arguments"):
            extension.add_analyze_arguments(parser)
    parser.set_defaults(run=run)


def check_events_path(path: str | None) -> None:
    """Refuse a bad --events name before reading gigabytes of logs."""
    if path is not None and not path.lower().endswith(EVENTS_FORMATS):
        raise UsageError(f"--events {path}: the file name must end in .parquet or .csv")


def ingest_from_args(args: argparse.Namespace) -> Any:
    """Read the logs named on the command line (with a progress bar on a terminal)."""
    from gcscope.analysis import ANALYSIS_COLUMNS
    from gcscope.ingest import read_events
    from gcscope.report.plain import ProgressBar

    # --events writes every column; otherwise only what the analysis reads is extracted
    wanted = None if getattr(args, "events", None) else ANALYSIS_COLUMNS
    with ProgressBar() as bar:
        # --strict is applied to the finished report (exit 1), not by stopping the read:
        # the user still gets the summary and the unknown lines.
        return read_events(
            args.logs, max_unknown=args.max_unknown, progress=bar if bar.enabled else None,
            wanted=wanted,
        )


def write_events(events: Any, path: str) -> None:
    """Write the event table as Parquet or CSV (by the file name)."""
    try:
        if path.lower().endswith(".csv"):
            events.write_csv(path)
        else:
            events.write_parquet(path)
    except OSError as exc:
        raise UsageError(f"cannot write events: {exc.strerror or exc}", file=path) from None


def parse_warnings(ingest: Any) -> list[dict]:
    """The ingest's warnings (a cut-short last line, CRLF endings): file, line, kind, message."""
    parse = getattr(ingest, "parse", None)
    if isinstance(parse, dict):
        return list(parse.get("warnings") or [])
    return list(getattr(parse, "warnings", None) or [])


def result_json(result: Any, warnings: list[dict]) -> str:
    """The JSON document, with the ingest's warnings, if any, under `parse.warnings`.

    Only when there are some: the result read back from a saved JSON
    (AnalysisResult.from_dict) has no place for them yet, and a clean log's result must read
    back to the same document."""
    if not warnings:
        return result.to_json()
    import json

    document = result.to_dict()
    document.setdefault("parse", {})["warnings"] = warnings
    return json.dumps(document, indent=2, allow_nan=False, default=str)


def write_outputs(args: argparse.Namespace, result: Any, ingest: Any) -> None:
    from gcscope.report import plain

    warnings = parse_warnings(ingest)
    plain.print_warnings(warnings, sys.stderr)
    if args.events:
        write_events(ingest.events, args.events)
    if args.json:
        sys.stdout.write(result_json(result, warnings) + "\n")
        plain.print_parse_line(result, sys.stderr)
    else:
        from gcscope.report import text  # rich: only for the summary

        text.print_summary(result, sys.stdout)


def exit_status(args: argparse.Namespace, result: Any, warnings: list[dict] | None = None) -> int:
    """`warnings`: the ingest's (parse_warnings); under --strict they fail as unknown lines do."""
    if getattr(args, "strict", False) and result.parse.unknown_lines > 0:
        print(
            f"gcscope: --strict: {result.parse.unknown_lines:,} line(s) not recognised",
            file=sys.stderr,
        )
        return ExitStatus.FINDINGS
    if getattr(args, "strict", False) and warnings:
        print(f"gcscope: --strict: {len(warnings):,} input warning(s)", file=sys.stderr)
        return ExitStatus.FINDINGS
    return ExitStatus.OK


def run(args: argparse.Namespace) -> int:
    from gcscope.analysis import analyze_ingested

    check_events_path(args.events)
    for extension in _extensions():  # their option errors, before any log is read
        if hasattr(extension, "before_ingest"):
            extension.before_ingest(args)
    from gcscope.commands.analyze_follow import reject_follow_options, run_follow

    if getattr(args, "follow", False):  # a log being written (commands/analyze_follow.py)
        return run_follow(args, finish)
    reject_follow_options(args)
    from gcscope.commands.analyze_many import run_many, wants_many

    sets = wants_many(args)  # several JVMs' log sets: in parallel (commands/analyze_many.py)
    if sets is not None:
        return run_many(args, sets)
    # --recording PATH: live recordings join the logs' runs (issue 7, gcscope/live/recording.py)
    from gcscope.live.recording import ingest_with_recordings

    ingest = ingest_with_recordings(args, ingest_from_args)
    return finish(args, analyze_ingested(ingest), ingest)


def finish(args: argparse.Namespace, result: Any, ingest: Any) -> int:
    """The extensions' steps, the outputs and the exit status, for an analysed input."""
    statuses = [
        extension.after_analysis(args, result, ingest)
        for extension in _extensions()
        if hasattr(extension, "after_analysis")
    ]
    write_outputs(args, result, ingest)
    return max([exit_status(args, result, parse_warnings(ingest)),
                *(int(s) for s in statuses if s is not None)])
