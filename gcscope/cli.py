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
from gcscope.rotation import may_be_log, set_key

# polars' allocator (jemalloc) keeps freed pages for reuse: "dirty" for 10 s, then "muzzy"
# (MADV_FREE) for a second more (polars 2.1's "muzzy_decay_ms:1000"). Both still count in the
# RSS, and a big log's transient copies come faster than they decay. Set before polars is first
# imported (each command imports it inside `run`); a user's own setting is kept (polars appends
# it to its own). Measured on the 75 MB benchmark log and its 2 GB repetition (bench/README.md):
# - muzzy pages handed back at once: the same speed (2 GB: 2,174 -> 1,099 MB);
# - one arena instead of one per core: freed pages are reused by whichever thread allocates
#   next (75 MB: 319 -> 288 MB; 2 GB: 839 -> 797 MB), no slower with polars' threads;
# - dirty pages handed back at once as well: the peak is the working set (2 GB: 797 -> 635
#   MB), ~25 % slower (madvise and page faults on every large free and reuse): only when
#   a rotated set (one event table) has BOUNDED_MEMORY_INPUT_BYTES or more, where memory is
#   what runs out.
_USER_MALLOC_CONF = os.environ.get("_RJEM_MALLOC_CONF")
_MALLOC_CONF = "narenas:1,muzzy_decay_ms:0"
_MALLOC_CONF_BOUNDED = _MALLOC_CONF + ",dirty_decay_ms:0"
BOUNDED_MEMORY_INPUT_BYTES = 256 * 2**20
if _USER_MALLOC_CONF is None:
    os.environ["_RJEM_MALLOC_CONF"] = _MALLOC_CONF


def _largest_set_bytes(paths: list[str]) -> int:
    """Bytes on disk of the biggest rotated set among the logs named (directories: the files
    in them that the reader takes for logs; '-' and missing paths: 0). One set is read into one event table; several sets
    (`analyze DIR --jobs N`) are each analysed on their own. Compressed files count as stored:
    their logs are bigger still."""
    sets: dict[str, int] = {}
    for path in paths:
        if os.path.isdir(path):
            files = [os.path.join(folder, name) for folder, _, names in os.walk(path)
                     for name in names if may_be_log(name)]
        else:
            files = [] if path == "-" else [path]
        for file in files:
            key = set_key(file)
            sets[key] = sets.get(key, 0) + _size(file)
    return max(sets.values(), default=0)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # reading it will say why


def _choose_allocator(args: argparse.Namespace) -> None:
    """Hand freed memory back at once when the inputs are big (see above). Must run before
    polars is imported: jemalloc reads its setting once, on its first allocation."""
    if _USER_MALLOC_CONF is not None or "polars" in sys.modules:
        return
    paths = [*(getattr(args, "logs", None) or []), *(p for p in (getattr(args, "base", None),
                                                                   getattr(args, "candidate", None)) if p)]
    if paths and _largest_set_bytes(paths) >= BOUNDED_MEMORY_INPUT_BYTES:
        os.environ["_RJEM_MALLOC_CONF"] = _MALLOC_CONF_BOUNDED


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
    _choose_allocator(args)
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
