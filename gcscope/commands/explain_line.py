"""`gcscope explain-line 'LINE'`: which grammar rule reads a log line, and what it yields.

For a line no rule reads, the reference parser shows the rule that came nearest and the
column where it stopped, with a caret: the first thing to look at when a log has unknown lines.
"""

from __future__ import annotations

import argparse
import sys

from gcscope.errors import ExitStatus


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain-line",
        help="show which grammar rule reads a GC log line, or where the nearest one fails",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("line", help="one log line as the JVM wrote it (quote it); '-' reads stdin")
    parser.add_argument(
        "--collector",
        metavar="GRAMMAR",
        help="apply only this grammar and the common one (g1, parallel, serial, …); default: all",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gcscope.errors import UsageError
    from gcscope.grammar.compile import load_grammars
    from gcscope.grammar.reference import ReferenceParser
    from gcscope.ingest.decorations import detect
    from gcscope.ingest.engine import extract_line, make_plan

    text = sys.stdin.readline() if args.line == "-" else args.line
    text = text.rstrip("\r\n")
    grammars = load_grammars()
    names = [g.name for g in grammars.grammars if g.name != "common"]
    if args.collector:
        if args.collector not in names:
            raise UsageError(f"unknown grammar {args.collector!r}; expected one of {', '.join(names)}")
        names = [args.collector]
    decorations = detect([text])
    values, message, offset = decorations.split(text)
    print(f"decorations: {', '.join(f'{k}={v}' for k, v in values.items()) or 'none'}")
    # Each collector grammar with the common one, as ingestion applies them to a file.
    for name in names:
        plan = make_plan(decorations, grammars, (name, "common"))
        rule, fields = extract_line(text, plan)
        if rule is not None:
            compiled = grammars.rule(rule)
            print(f"rule: {rule} ({compiled.grammar}, {compiled.source}) yields {compiled.yields}")
            for key, value in fields.items():
                if value is not None:
                    print(f"  {key} = {value!r}")
            return ExitStatus.OK
    plan_rules = tuple(r for n in names for r in grammars.by_name(n).rules) + grammars.by_name("common").rules
    explanation = ReferenceParser(grammars).explain(message, plan_rules, values.get("tags"))
    print(explanation.render(message, offset, text))
    return ExitStatus.FINDINGS
