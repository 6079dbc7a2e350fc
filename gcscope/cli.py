"""The `gcscope` command: parse arguments, call the library, map outcomes to exit codes.

Each subcommand lives in `gcscope/commands/<name>.py` with two functions:
`register(subparsers)` adds its parser, `run(args) -> int` does the work. Heavy libraries
(polars, matplotlib, jpype) are imported inside `run`, so `gcscope --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from gcscope.errors import ExitStatus, GcscopeError

# polars configures its allocator (jemalloc) to free pages lazily (MADV_FREE, "muzzy" for a
# second, polars 2.1's "muzzy_decay_ms:1000"): such pages still count in the RSS, and a big log's
# transient copies come faster than they decay. Handed back at once, the peak is the working set
# (2 GB log: 2,174 -> 1,099 MB, same speed, same JSON). Read when polars is first imported, so it
# is set before any command runs; a user's own setting is kept (polars appends it to its own).
os.environ.setdefault("_RJEM_MALLOC_CONF", "muzzy_decay_ms:0")

# Order here is the order in `gcscope --help`.
COMMANDS = (
    "analyze",
    "check",
    "compare",
    "report",
    "rules",
    "watch",
    "histo",
    "explain_line",
)


def build_parser() -> argparse.ArgumentParser:
    from gcscope import __version__

    parser = argparse.ArgumentParser(
        prog="gcscope",
        description="Is this JVM's memory healthy? GC log and live JMX analysis.",
    )
    parser.add_argument("--version", action="version", version=f"gcscope {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"gcscope.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"gcscope.commands.{name}":
                continue  # command not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return ExitStatus.USAGE
    try:
        return int(args.run(args))
    except GcscopeError as exc:
        print(f"gcscope: error: {exc}", file=sys.stderr)
        return int(exc.exit_status)
    except KeyboardInterrupt:
        print("gcscope: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        return ExitStatus.OK


if __name__ == "__main__":
    sys.exit(main())
