#!/usr/bin/env python3
"""Whole-corpus sweep: gcscope over every file of the public log corpus, one table row per file.

    python bench/sweep_corpus.py                  # ../shared/corpus/ beside the project
    python bench/sweep_corpus.py --corpus DIR --json

Each file (unified or legacy, archives too) is read and analysed in this process, as
`gcscope analyze FILE` would: the row gives the corpus inventory's format, gcscope's outcome,
the collector(s), the parse coverage, lines and events, or the one-line message gcscope prints
when it cannot read the file. Outcomes:

- `ok`: analysed (coverage below 100 % means some lines were not recognised);
- `not supported`: a GC log of a format gcscope does not read (JDK 8 and earlier);
- `unreadable`: not a GC log gcscope can open (empty, binary, corrupt archive…);
- `crash`: an exception that is not gcscope's own: a bug (the traceback is printed).

The counts per outcome close the table. Files are read in place, never copied.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
NOT_LOGS = {"README.md", "INVENTORY.tsv"}  # the corpus's own documentation
OUTCOMES = ("ok", "not supported", "unreadable", "crash")


@dataclasses.dataclass
class Row:
    file: str  # relative to the corpus
    format: str  # the corpus inventory's format column ("?" when the file is not listed)
    outcome: str  # one of OUTCOMES
    collector: str = ""
    coverage_pct: float | None = None
    lines: int | None = None
    events: int | None = None
    runs: int | None = None
    message: str = ""  # gcscope's one-line message, or the traceback of a crash
    seconds: float = 0.0


def inventory(corpus: Path) -> dict[str, str]:
    """path -> format, from the corpus's INVENTORY.tsv (heuristic, for information only)."""
    table = corpus / "INVENTORY.tsv"
    if not table.exists():
        return {}
    rows = [line.split("\t") for line in table.read_text().splitlines()[1:] if line.strip()]
    return {row[0]: row[3] for row in rows if len(row) > 3}


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.name not in NOT_LOGS)


def sweep_file(path: Path, corpus: Path, formats: dict[str, str], analyze: bool = True) -> Row:
    from gcscope.analysis import ANALYSIS_COLUMNS, analyze_ingested
    from gcscope.errors import GcscopeError, UnsupportedFormatError
    from gcscope.ingest import read_events

    name = str(path.relative_to(corpus))
    row = Row(name, formats.get(name, "?"), "ok")
    started = time.perf_counter()
    try:
        ingest = read_events([str(path)], max_unknown=0, explain=False, wanted=ANALYSIS_COLUMNS)
        if analyze:
            analyze_ingested(ingest)
    except GcscopeError as exc:
        message = str(exc)
        legacy = isinstance(exc, UnsupportedFormatError) or "legacy format" in message
        row.outcome = "not supported" if legacy else "unreadable"
        row.message = message
    except Exception:  # noqa: BLE001 - a bug: the sweep reports it and goes on
        row.outcome = "crash"
        row.message = traceback.format_exc()
    else:
        collectors = sorted({run.get("collector") or "?" for run in ingest.runs})
        row.collector = ", ".join(collectors) or "–"
        row.coverage_pct = round(ingest.parse.coverage_pct, 2)
        row.lines = ingest.parse.lines
        row.events = ingest.events.height
        row.runs = len(ingest.runs)
        if ingest.parse.skipped:  # an archive whose members were partly unreadable
            row.message = "; ".join(ingest.parse.skipped)
    row.seconds = time.perf_counter() - started
    return row


def sweep(corpus: Path = DEFAULT_CORPUS, analyze: bool = True, progress: bool = False) -> list[Row]:
    formats = inventory(corpus)
    rows = []
    for path in corpus_files(corpus):
        if progress:
            print(f"  {path.relative_to(corpus)}", file=sys.stderr)
        rows.append(sweep_file(path, corpus, formats, analyze))
    return rows


def counts(rows: list[Row]) -> dict[str, int]:
    found = Counter(row.outcome for row in rows)
    return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}


def print_table(rows: list[Row], out=sys.stdout) -> None:
    width = max((len(row.file) for row in rows), default=4)
    print(f"{'file':<{width}}  {'format':<8} {'outcome':<13} {'collector':<16} "
          f"{'coverage':>9} {'lines':>9} {'events':>8}  message", file=out)
    for row in rows:
        coverage = f"{row.coverage_pct:.2f} %" if row.coverage_pct is not None else ""
        lines = f"{row.lines:,}" if row.lines is not None else ""
        events = f"{row.events:,}" if row.events is not None else ""
        message = row.message.strip().splitlines()[-1] if row.message else ""
        print(f"{row.file:<{width}}  {row.format:<8} {row.outcome:<13} {row.collector:<16} "
              f"{coverage:>9} {lines:>9} {events:>8}  {message}", file=out)
    total = counts(rows)
    analysed = [row for row in rows if row.outcome == "ok"]
    full = sum(1 for row in analysed if row.coverage_pct == 100.0)
    print(f"\n{len(rows)} files: " + ", ".join(f"{n} {outcome}" for outcome, n in total.items())
          + f"; {full} of the {len(analysed)} analysed at 100 % coverage", file=out)
    for row in rows:
        if row.outcome == "crash":
            print(f"\nCRASH {row.file}\n{row.message}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder")
    parser.add_argument("--no-analyze", action="store_true",
                        help="read the files only (skip the metrics and rules)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead")
    parser.add_argument("--progress", action="store_true", help="name each file on stderr")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"sweep_corpus: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    rows = sweep(args.corpus, analyze=not args.no_analyze, progress=args.progress)
    if args.json:
        print(json.dumps({"rows": [dataclasses.asdict(r) for r in rows], "counts": counts(rows)},
                         indent=2))
    else:
        print_table(rows)
    return 1 if any(row.outcome == "crash" for row in rows) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
