"""`gcscope check LOG…`: the rules as a CI gate.

Reads the logs like `analyze`, evaluates every rule, prints the summary (or `--json`), and
exits 1 when a finding at or above `--fail-on` (default: error) exists. `--junit FILE` writes
one JUnit test case per rule, failed when that rule has a finding at or above `--fail-on`.
Exit status: 0 no such finding; 1 findings (or unknown lines with --strict); 2 bad arguments
or configuration; 3 input unreadable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from gcscope.commands.analyze import (
    add_log_arguments,
    add_output_arguments,
    check_events_path,
    exit_status,
    ingest_from_args,
    write_outputs,
)
from gcscope.config import (
    SEVERITIES,
    Config,
    add_config_arguments,
    catalogue,
    config_from_args,
    severity_rank,
)
from gcscope.errors import ExitStatus, UsageError

FAIL_ON_CHOICES = SEVERITIES  # info, warning, error


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check GC logs against the rules; exit 1 on findings (a CI gate)",
        description=(
            "Analyse GC logs and evaluate every rule (see gcscope rules). Exit status: 0 no "
            "finding at or above --fail-on; 1 such a finding (or an unknown line with "
            "--strict); 2 bad arguments or configuration; 3 input unreadable."
        ),
    )
    add_log_arguments(parser)
    add_output_arguments(parser)
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default="error",
        help="lowest severity that fails the check (default: error)",
    )
    parser.add_argument(
        "--junit",
        metavar="FILE",
        help="write a JUnit XML report: one test case per rule, failed by its findings",
    )
    add_config_arguments(parser)
    parser.set_defaults(run=run)


def failing(findings: Sequence[Mapping[str, Any]], fail_on: str) -> list[Mapping[str, Any]]:
    """The findings at or above `fail_on`."""
    floor = severity_rank(fail_on)
    return [f for f in findings if severity_rank(str(f.get("severity"))) >= floor]


def _finding_text(finding: Mapping[str, Any]) -> str:
    evidence = finding.get("evidence") or {}
    parts = [f"[{finding.get('severity')}] {finding.get('message')}"]
    start, end = evidence.get("start_uptime_s"), evidence.get("end_uptime_s")
    if start is not None:
        parts.append(f"run {evidence.get('run_id')}, uptime {start} s to {end} s")
    if evidence.get("values"):
        parts.append("measured: " + ", ".join(f"{k}={v}" for k, v in evidence["values"].items()))
    if evidence.get("lines"):
        parts.append("log lines: " + ", ".join(evidence["lines"]))
    return "\n".join(parts)


def junit_xml(
    findings: Sequence[Mapping[str, Any]],
    config: Config,
    fail_on: str,
    *,
    logs: Sequence[str] = (),
    timestamp: datetime | None = None,
) -> bytes:
    """A JUnit XML document: one <testcase> per rule; <failure> when the rule has findings at
    or above `fail_on`, <skipped> when the rule is disabled; lower findings go to
    <system-out>, so they are visible without failing the build."""
    cat = catalogue()
    cases = []
    failures = skipped = 0
    for rule_id, spec in cat.rules.items():
        case = ET.Element(
            "testcase", {"classname": "gcscope.rules", "name": f"{rule_id} {spec.title}"}
        )
        own = [f for f in findings if f.get("id") == rule_id]
        failed = failing(own, fail_on)
        if not config.rules[rule_id].enabled:
            ET.SubElement(case, "skipped", {"message": "rule disabled by configuration"})
            skipped += 1
        elif failed:
            failures += 1
            first = failed[0]
            failure = ET.SubElement(
                case,
                "failure",
                {"type": str(first.get("severity")), "message": str(first.get("message"))},
            )
            failure.text = "\n\n".join(_finding_text(f) for f in failed)
        passed_notes = [f for f in own if f not in failed]
        if passed_notes:
            out = ET.SubElement(case, "system-out")
            out.text = "\n\n".join(_finding_text(f) for f in passed_notes)
        cases.append(case)
    when = (timestamp or datetime.now(UTC)).replace(microsecond=0).isoformat()
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0"}
    root = ET.Element("testsuites", {"name": "gcscope check", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": "gcscope check", **counts, "skipped": str(skipped), "timestamp": when},
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "fail_on", "value": fail_on})
    for log in logs:
        ET.SubElement(props, "property", {"name": "log", "value": str(log)})
    suite.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def run(args: argparse.Namespace) -> int:
    from gcscope.analysis import analyze_ingested

    check_events_path(args.events)
    config = config_from_args(args)  # a bad configuration fails before any log is read
    if args.junit and Path(args.junit).is_dir():
        raise UsageError(f"--junit {args.junit}: is a directory, expected a file name")
    ingest = ingest_from_args(args)
    result = analyze_ingested(ingest, config=config)
    write_outputs(args, result, ingest)
    failed = failing(result.findings, args.fail_on)
    if args.junit:
        try:
            Path(args.junit).write_bytes(
                junit_xml(result.findings, config, args.fail_on, logs=args.logs)
            )
        except OSError as exc:
            raise UsageError(
                f"cannot write JUnit report: {exc.strerror or exc}", file=args.junit
            ) from None
    verdict = (
        f"check failed: {len(failed)} finding(s) at or above {args.fail_on}"
        if failed
        else f"check passed: no finding at or above {args.fail_on}"
    )
    print(f"gcscope: {verdict}", file=sys.stderr)
    status = ExitStatus.FINDINGS if failed else ExitStatus.OK
    return max(int(status), int(exit_status(args, result)))
