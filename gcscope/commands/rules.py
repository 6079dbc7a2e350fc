"""`gcscope rules [RULE…]`: the rules catalogue with the thresholds in force.

Without RULE: one line per rule (ID, severity, title) and its thresholds, then the tolerances
of `gcscope compare` ([compare]). With RULE IDs: their explanation and advice too; `compare`
as a RULE names the tolerances alone. `--config`/`--set` show the values a run with those
options would use. `--json` prints the same as data. Exit status: 0 ok; 2 unknown rule or bad
configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gcscope.config import add_config_arguments, catalogue, config_from_args
from gcscope.errors import ExitStatus, UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list the rules gcscope checks, with their thresholds",
        description=(
            "List the rules catalogue: stable IDs, severity, title and thresholds (defaults, or "
            "the values in force with --config/--set), then the tolerances of gcscope compare. "
            "Name rules to read their explanation and advice (compare: the tolerances alone). "
            "Exit status: 0 ok; 2 unknown rule or bad configuration."
        ),
    )
    parser.add_argument(
        "rule_ids",
        nargs="*",
        metavar="RULE",
        help="e.g. GCS001, or compare for the compare tolerances (default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    add_config_arguments(parser)
    parser.set_defaults(run=run)


COMPARE = "COMPARE"  # `gcscope rules compare`: the [compare] tolerances


def _wanted(args: argparse.Namespace) -> tuple[list[str], bool]:
    """The rule IDs asked for, and whether the compare tolerances are."""
    cat = catalogue()
    named = [r.upper() for r in args.rule_ids]
    if not named:
        return list(cat.rules), True
    unknown = [r for r in named if r not in cat.rules and r != COMPARE]
    if unknown:
        raise UsageError(
            f"unknown rule {', '.join(unknown)} (known: {', '.join(cat.rules)}; or compare)"
        )
    return [r for r in named if r != COMPARE], COMPARE in named


def compare_data(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The tolerances of `gcscope compare` in force: {name: {value, default, expected, help}}."""
    config = config_from_args(args)
    return {
        name: {
            "value": config.compare[name],
            "default": t.default,
            "expected": t.type_name,
            "help": t.help,
        }
        for name, t in catalogue().compare.items()
    }


def rules_data(args: argparse.Namespace) -> list[dict[str, Any]]:
    cat = catalogue()
    config = config_from_args(args)
    wanted, _ = _wanted(args)
    out = []
    for rule_id in wanted:
        spec = cat.rules[rule_id]
        settings = config.rules[rule_id]
        out.append(
            {
                "id": rule_id,
                "title": spec.title,
                "severity": settings.severity,
                "enabled": settings.enabled,
                "thresholds": {
                    name: {
                        "value": settings.params[name],
                        "default": t.default,
                        "expected": t.type_name,
                        "help": t.help,
                    }
                    for name, t in spec.thresholds.items()
                },
                "match": {k: list(v) for k, v in spec.match.items()},
                "explanation": spec.explanation,
                "advice": spec.advice,
            }
        )
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _threshold_grid(thresholds: dict[str, dict[str, Any]]) -> Any:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column()
    for name, t in thresholds.items():
        changed = "" if t["value"] == t["default"] else f" (default {_value(t['default'])})"
        grid.add_row(f"    {name}", _value(t["value"]), f"{t['help']}{changed}")
    return grid


def run(args: argparse.Namespace) -> int:
    _, with_compare = _wanted(args)
    data = rules_data(args)
    tolerances = compare_data(args) if with_compare else None
    if args.json:
        out: dict[str, Any] = {"rules": data}
        if tolerances is not None:
            out["compare"] = tolerances
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return ExitStatus.OK
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    detailed = bool(args.rule_ids)
    for rule in data:
        head = Text()
        head.append(f"{rule['id']} ", style="bold")
        head.append(
            f"{rule['severity']:7s} ",
            style={"error": "red", "warning": "yellow"}.get(rule["severity"], ""),
        )
        head.append(rule["title"], style="bold")
        if not rule["enabled"]:
            head.append("  (disabled)", style="dim")
        console.print(head)
        if rule["thresholds"]:
            console.print(_threshold_grid(rule["thresholds"]))
        for column, values in rule["match"].items():
            console.print(Text(f"    looks for {column}: {', '.join(values)}", style="dim"))
        if detailed:
            console.print(Text(f"  {rule['explanation']}"))
            console.print(Text(f"  Advice: {rule['advice']}", style="italic"))
            console.print()
    if tolerances is not None:
        head = Text()
        head.append("compare ", style="bold")
        head.append("tolerances of gcscope compare BASE CANDIDATE", style="bold")
        console.print(head)
        console.print(_threshold_grid(tolerances))
        if detailed:
            console.print(
                Text(
                    "  A change of the candidate beyond a tolerance is a regression (exit 1)."
                    " Override in gcscope.toml ([compare] p99_pause_pct = 10) or with"
                    " --set compare.p99_pause_pct=10.",
                )
            )
            console.print()
    if not detailed:
        console.print(
            Text(
                "Every rule also takes enabled = true|false and severity = info|warning|error. "
                "Override in gcscope.toml ([rules.GCS004] pause_ms = 200) or with "
                "--set GCS004.pause_ms=200 (compare tolerances: [compare], --set "
                "compare.p99_pause_pct=10); gcscope rules GCS004 explains a rule.",
                style="dim",
            )
        )
    return ExitStatus.OK
