"""`gcscope rules [RULE…]`: the rules catalogue with the thresholds in force.

Without RULE: one line per rule (ID, severity, title) and its thresholds. With RULE IDs: their
explanation and advice too. `--config`/`--set` show the values a run with those options would
use. `--json` prints the same as data. Exit status: 0 ok; 2 unknown rule or bad configuration.
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
            "the values in force with --config/--set). Name rules to read their explanation and "
            "advice. Exit status: 0 ok; 2 unknown rule or bad configuration."
        ),
    )
    parser.add_argument("rule_ids", nargs="*", metavar="RULE", help="e.g. GCS001 (default: all)")
    parser.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    add_config_arguments(parser)
    parser.set_defaults(run=run)


def rules_data(args: argparse.Namespace) -> list[dict[str, Any]]:
    cat = catalogue()
    config = config_from_args(args)
    wanted = [r.upper() for r in args.rule_ids] or list(cat.rules)
    unknown = [r for r in wanted if r not in cat.rules]
    if unknown:
        raise UsageError(f"unknown rule {', '.join(unknown)} (known: {', '.join(cat.rules)})")
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


def run(args: argparse.Namespace) -> int:
    data = rules_data(args)
    if args.json:
        sys.stdout.write(json.dumps({"rules": data}, indent=2) + "\n")
        return ExitStatus.OK
    from rich.console import Console
    from rich.table import Table
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
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True)
            grid.add_column(no_wrap=True, justify="right")
            grid.add_column()
            for name, t in rule["thresholds"].items():
                changed = "" if t["value"] == t["default"] else f" (default {_value(t['default'])})"
                grid.add_row(f"    {name}", _value(t["value"]), f"{t['help']}{changed}")
            console.print(grid)
        for column, values in rule["match"].items():
            console.print(Text(f"    looks for {column}: {', '.join(values)}", style="dim"))
        if detailed:
            console.print(Text(f"  {rule['explanation']}"))
            console.print(Text(f"  Advice: {rule['advice']}", style="italic"))
            console.print()
    if not detailed:
        console.print(
            Text(
                "Every rule also takes enabled = true|false and severity = info|warning|error. "
                "Override in gcscope.toml ([rules.GCS004] pause_ms = 200) or with "
                "--set GCS004.pause_ms=200; gcscope rules GCS004 explains a rule.",
                style="dim",
            )
        )
    return ExitStatus.OK
