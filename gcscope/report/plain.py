"""What `analyze --json` writes beside the JSON, without importing rich.

Under --json only stderr gets text: the ingest's warnings, the coverage line and, on a
terminal, a progress bar. Importing rich costs ~0.06-0.1 s of a run's start-up, so it is
imported here only where it draws: a progress bar or a coloured line on a terminal.
"""

from __future__ import annotations

import sys
from typing import IO, Any, Self

MIB = 1024 * 1024
PROGRESS_MIN_BYTES = 32 * MIB  # smaller inputs read in about a second: no bar


def is_terminal(stream: IO[str]) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def coverage_pct_text(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 100 and value >= 99.99:
        return f"{value:.4f} %"  # never round a partial coverage up to 100
    return f"{value:.2f} %"


def coverage_text(parse: Any) -> str:
    """The coverage line's words after "Parsed " (a ParseSummary)."""
    return (
        f"{parse.files:,} file{'s' if parse.files != 1 else ''}, {parse.lines:,} lines,"
        f" {parse.unknown_lines:,} unknown, coverage {coverage_pct_text(parse.coverage_pct)}"
    )


def print_parse_line(result: Any, file: IO[str] | None = None) -> None:
    """The coverage line alone (stderr under --json, so stdout stays pure JSON); styled as
    in the summary when the stream is a terminal."""
    stream = file or sys.stderr
    if is_terminal(stream):
        from rich.console import Console

        from gcscope.report.text import coverage_line

        Console(file=stream, highlight=False, soft_wrap=True).print(coverage_line(result.parse))
    else:
        stream.write(f"Parsed {coverage_text(result.parse)}\n")


def warning_lines(warnings: list[dict]) -> list[str]:
    """One line per ingest warning: `gcscope: warning: FILE[:LINE]: message`."""
    lines = []
    for warning in warnings:
        where = str(warning.get("file"))
        if warning.get("line") is not None:
            where += f":{warning['line']}"
        lines.append(f"gcscope: warning: {where}: {warning.get('message')}")
    return lines


def print_warnings(warnings: list[dict], file: IO[str] | None = None) -> None:
    """The ingest's warnings (a cut-short last line, CRLF endings), plain, on stderr."""
    stream = file or sys.stderr
    for line in warning_lines(warnings):
        stream.write(line + "\n")


class ProgressBar:
    """A `progress(bytes_done, bytes_total)` callback for the ingest that draws a bar on
    stderr, only when stderr is a terminal and the input is large enough to wait for.

    Use as a context manager so the bar is removed however the read ends.
    """

    def __init__(self, stream: IO[str] | None = None, min_bytes: int = PROGRESS_MIN_BYTES):
        self.stream = stream or sys.stderr
        self.min_bytes = min_bytes
        self.enabled = is_terminal(self.stream)
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, bytes_done: int, bytes_total: int) -> None:
        if not self.enabled or not bytes_total or bytes_total < self.min_bytes:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("reading"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("read", total=bytes_total)
        self._progress.update(self._task, completed=bytes_done, total=bytes_total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
