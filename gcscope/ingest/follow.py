"""Following a log a JVM is writing: new bytes as they are appended, across its own rotation.

Two parts, usable apart:

- `LogTail(path)` reads what is appended to `path`, complete lines only (a partial last line
  waits for its newline). When the JVM rotates (`gc.log` renamed to `gc.log.N`, a new `gc.log`
  started: the path now names another inode), the renamed file is read to its end from the
  saved offset through the descriptor we hold, then any file rotated between two polls (oldest
  first), then the new `gc.log` from its start: no line lost, none read twice. A file truncated
  in place (same inode, smaller than what was read: `copytruncate`) is read again from 0 as a
  new file. The descriptors of finished files stay open until their name disappears, so the
  file system cannot give their inode number to a new file that we would then take for seen.
- `IncrementalIngest` turns those lines into the same records `read_events` makes (the same
  engine, chunk by chunk) and keeps them (records, not text); `result()` assembles the events
  of everything read so far, as an `IngestResult`, whenever a summary is wanted.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from gcscope.errors import InputError, UnsupportedFormatError
from gcscope.grammar.compile import GrammarSet, load_grammars

# The per-file steps of gcscope.ingest (format checks, grammar choice, run end) are reused as
# they are, so that a followed log is read exactly like the same file given to read_events.
from gcscope.ingest import (
    DETECT_BYTES,
    FileReport,
    IngestResult,
    ParseReport,
    UnknownLine,
    _check_text,
    _choose_grammars,
    _explain,
    _last_uptime,
    is_legacy,
)
from gcscope.ingest.assemble import FILE_IDX, assemble
from gcscope.ingest.decorations import Decorations, detect
from gcscope.ingest.engine import LINE, LINE_NO, RULE, Plan, lines_of, make_plan, run_chunk
from gcscope.ingest.sources import CHUNK_BYTES, rotation_key

TAIL_BYTES = 65536  # the end of a file kept to find its last uptime (the run's end)
_COMPACT_AFTER = 16  # small record frames of one rule merged into one past this many


# --- following a path --------------------------------------------------------------------------


@dataclasses.dataclass
class Piece:
    """What one poll found. `kind`: "open" (a new file starts: `name`), "data" (complete lines
    of the current file), "end" (the file is finished: `data` is its unterminated last line,
    if any; `name` what it is called now, e.g. gc.log.2 after rotation)."""

    kind: str
    name: str
    data: bytes = b""


@dataclasses.dataclass
class _Reading:
    handle: object  # the binary file object we read through (kept open across a rename)
    ident: tuple[int, int]  # (st_dev, st_ino)
    name: str
    offset: int = 0
    carry: bytes = b""  # a partial last line, waiting for its newline


def _ident(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


class LogTail:
    """Complete lines appended to `path`, across rotation by rename and truncation in place."""

    def __init__(self, path: str | os.PathLike[str], read_bytes: int = CHUNK_BYTES):
        self.path = Path(path)
        self.read_bytes = read_bytes
        self.key = rotation_key(self.path.name)
        self.current: _Reading | None = None
        # Files not to read (again): finished ones, and rotated files already on disk when we
        # started (history, not what the JVM writes next). Held open: see the module docstring.
        self.done: dict[tuple[int, int], object] = {}
        self.rotations = 0
        self.truncations = 0
        for sibling in self._siblings():
            self._pin(sibling)

    # The directory's files of the same rotated set, other than the path itself.
    def _siblings(self) -> list[Path]:
        try:
            children = list(self.path.parent.iterdir())
        except OSError:
            return []
        return [
            child for child in children
            if child.name != self.path.name and rotation_key(child.name) == self.key
            and child.is_file()
        ]

    def _pin(self, path: Path) -> None:
        try:
            handle = open(path, "rb", buffering=0)  # noqa: SIM115 - held open on purpose
        except OSError:
            return
        ident = _ident(os.fstat(handle.fileno()))
        if ident in self.done or (self.current is not None and ident == self.current.ident):
            handle.close()
        else:
            self.done[ident] = handle

    def close(self) -> None:
        for handle in self.done.values():
            handle.close()
        self.done.clear()
        if self.current is not None:
            self.current.handle.close()
            self.current = None

    def poll(self, final: bool = False) -> Iterator[Piece]:
        """Everything appended since the last poll. `final`: the last poll (we stop following):
        the current file's unterminated last line is handed over too."""
        while True:
            if self.current is None:
                # Files rotated while none was open (the JVM filled and renamed its new file
                # before we saw it) come before the path's file.
                try:
                    now = os.stat(self.path)
                except OSError:
                    now = None
                yield from self._rotated_meanwhile(now)
                opened = self._open(self.path, str(self.path))
                if opened is None:
                    return
                yield opened
            reading = self.current
            assert reading is not None
            yield from self._read(reading)
            try:
                now = os.stat(self.path)
            except FileNotFoundError:
                now = None
            except OSError as exc:
                raise InputError(f"cannot read ({exc.strerror or exc})", file=str(self.path)) from None
            if now is not None and _ident(now) == reading.ident:
                if now.st_size < reading.offset:
                    # Truncated in place: what is there now is new text, from the start.
                    self.truncations += 1
                    yield from self._finish(reading, keep_open=False, reopen=True)
                    continue
                if final:
                    yield from self._finish(reading, keep_open=True)
                return
            # The path names another file, or none: ours was rotated away. The JVM closed it
            # before renaming it, so what we read now is its true end.
            self.rotations += 1
            yield from self._read(reading)
            yield from self._finish(reading, keep_open=True)
            yield from self._rotated_meanwhile(now)
            if now is None:
                return  # the new file is not there yet: the next poll opens it

    def _open(self, path: Path, name: str) -> Piece | None:
        try:
            handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in _finish/close
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"cannot open ({exc.strerror or exc})", file=name) from None
        ident = _ident(os.fstat(handle.fileno()))
        if ident in self.done:
            handle.close()
            return None
        self.current = _Reading(handle, ident, name)
        return Piece("open", name)

    def _read(self, reading: _Reading) -> Iterator[Piece]:
        # Up to the size the file has now, not "until EOF": a JVM writing faster than the
        # engine takes each piece would otherwise keep one poll going for ever (no status).
        end = os.fstat(reading.handle.fileno()).st_size
        while reading.offset < end:
            block = os.pread(reading.handle.fileno(), min(self.read_bytes, end - reading.offset),
                             reading.offset)
            if not block:
                return
            reading.offset += len(block)
            data = reading.carry + block
            cut = data.rfind(b"\n")
            if cut < 0:
                reading.carry = data
                continue
            reading.carry = data[cut + 1:]
            yield Piece("data", reading.name, data[: cut + 1])

    def _finish(self, reading: _Reading, keep_open: bool, reopen: bool = False) -> Iterator[Piece]:
        name = self._current_name(reading.ident) or reading.name
        yield Piece("end", name, reading.carry)
        self.current = None
        if reopen:  # the same inode, read again from 0 as a new file
            self.current = _Reading(reading.handle, reading.ident, reading.name)
            yield Piece("open", reading.name)
            return
        if keep_open:
            self.done[reading.ident] = reading.handle
        else:
            reading.handle.close()
        self._prune()

    def _current_name(self, ident: tuple[int, int]) -> str | None:
        for candidate in [self.path, *self._siblings()]:
            try:
                if _ident(os.stat(candidate)) == ident:
                    return str(candidate)
            except OSError:
                continue
        return None

    def _rotated_meanwhile(self, path_now: os.stat_result | None) -> Iterator[Piece]:
        """Files of the set rotated between two polls (the JVM filled and renamed more than one
        file since we last looked): each read whole, oldest first, before the new current."""
        unseen = []
        for sibling in self._siblings():
            try:
                stat = os.stat(sibling)
            except OSError:
                continue
            ident = _ident(stat)
            if ident in self.done or (path_now is not None and ident == _ident(path_now)):
                continue
            unseen.append((stat.st_mtime_ns, sibling))
        for _, sibling in sorted(unseen):
            opened = self._open(sibling, str(sibling))
            if opened is None:
                continue
            self.rotations += 1
            yield opened
            reading = self.current
            assert reading is not None
            yield from self._read(reading)
            yield from self._finish(reading, keep_open=True)

    def _prune(self) -> None:
        """Close finished files whose names are gone (overwritten by a later rotation)."""
        present = set()
        for candidate in [self.path, *self._siblings()]:
            try:
                present.add(_ident(os.stat(candidate)))
            except OSError:
                continue
        for ident in [i for i in self.done if i not in present]:
            self.done.pop(ident).close()


# --- records of what was read ----------------------------------------------------------------


@dataclasses.dataclass
class _File:
    report: FileReport
    plan: Plan | None = None
    decorations: Decorations = dataclasses.field(default_factory=lambda: Decorations(()))
    next_line: int = 1
    pending: bytes = b""  # leading whitespace-only lines, until a real line tells the format
    records: dict[str, list[pl.DataFrame]] = dataclasses.field(default_factory=dict)
    tail: bytes = b""
    ended: bool = False


class IncrementalIngest:
    """The engine run on lines as they arrive; `result()` assembles everything read so far."""

    def __init__(self, set_name: str, *, max_unknown: int = 20,
                 wanted: Iterable[str] | None = None, grammars: GrammarSet | None = None):
        self.set_name = set_name
        self.max_unknown = max_unknown
        self.wanted = frozenset(wanted) if wanted is not None else None
        self.grammars = grammars or load_grammars()
        self.files: list[_File] = []
        self.unknown: list[UnknownLine] = []
        self._explained = 0
        self._grammar_names: tuple[str, ...] | None = None  # of the set's first file

    @property
    def lines(self) -> int:
        return sum(f.report.lines for f in self.files)

    def apply(self, piece: Piece) -> None:
        if piece.kind == "open":
            self.files.append(_File(FileReport(piece.name)))
        elif piece.kind == "data":
            self.feed(piece.data)
        elif piece.kind == "end":
            self.end_file(piece.data, piece.name)
        else:  # pragma: no cover - a programming error
            raise ValueError(piece.kind)

    def feed(self, data: bytes) -> None:
        """Complete lines (ending in a newline) of the current file."""
        current = self.files[-1]
        if current.plan is None:
            data = current.pending + data
            if not data.strip():
                current.pending = data  # blank so far: nothing tells the format yet
                return
            current.pending = b""
            self._start(current, data)
        start = 0
        while start < len(data):  # engine batches of at most CHUNK_BYTES, cut at a line end
            end = len(data) if len(data) - start <= CHUNK_BYTES else data.rfind(
                b"\n", start, start + CHUNK_BYTES) + 1
            if end <= start:
                end = len(data)
            self._run(current, data[start:end])
            start = end
        current.tail = (current.tail + data)[-TAIL_BYTES:]

    def end_file(self, last_line: bytes, name: str) -> None:
        """The current file is finished; `last_line`: its unterminated last line, if any."""
        current = self.files[-1]
        if last_line:
            self.feed(last_line + b"\n")
            current.report.truncated_last_line = True
        if current.pending:  # a file of blank lines only
            lines = current.pending.split(b"\n")[:-1]
            current.report.lines += len(lines)
            current.report.blank += sum(1 for line in lines if line in (b"", b"\r"))
            current.report.unknown += sum(1 for line in lines if line not in (b"", b"\r"))
            current.next_line += len(lines)
            current.pending = b""
        if name != current.report.file:
            for item in self.unknown:
                if item.file == current.report.file:
                    item.file = name
            current.report.file = name
        current.ended = True

    def _start(self, current: _File, data: bytes) -> None:
        name = current.report.file
        head = data[:DETECT_BYTES]
        _check_text(head, name)
        decorations = detect(head.decode("utf-8", "replace").splitlines()[:200])
        if is_legacy(head, decorations):
            raise UnsupportedFormatError(
                "legacy format (JDK 8 and earlier, -XX:+PrintGCDetails): not supported yet; "
                "gcscope reads unified logging (-Xlog:gc*, JDK 9+)",
                file=name,
            )
        # A rotated file lacks the start-up lines that name the collector: the set's first
        # file chose for all of them (the same JVM wrote them).
        names = _choose_grammars(head, self.grammars)
        if self._grammar_names is None or self._names_detected(head):
            self._grammar_names = names
        current.decorations = decorations
        current.plan = make_plan(decorations, self.grammars, self._grammar_names, self.wanted)
        current.report.decorations = decorations.fields
        current.report.grammars = self._grammar_names

    def _names_detected(self, head: bytes) -> bool:
        text = head.decode("utf-8", "replace")
        return any(d in text for g in self.grammars.grammars for d in g.detect)

    def _run(self, current: _File, chunk: bytes) -> None:
        assert current.plan is not None
        result = run_chunk(lines_of(chunk), current.plan, current.next_line)
        current.next_line += result.lines
        report = current.report
        report.lines += result.lines
        report.blank += result.blank
        report.unknown += result.unknown.height
        room = max(0, self.max_unknown - len(self.unknown))
        for row in result.unknown.head(room).iter_rows(named=True):
            self.unknown.append(UnknownLine(report.file, row[LINE_NO], row[LINE]))
        for frame in result.records:
            parts = current.records.setdefault(frame.get_column(RULE).item(0), [])
            parts.append(frame)
            if len(parts) > _COMPACT_AFTER:
                parts[:] = [pl.concat(parts, how="diagonal_relaxed")]

    def result(self, explain: bool = False) -> IngestResult:
        """The events, runs and parse report of everything read so far (as read_events would
        give for the same lines). `explain`: ask the reference parser about unknown lines."""
        frames = []
        names = [f.report.file for f in self.files]
        for index, current in enumerate(self.files):
            for parts in current.records.values():
                frames.extend(
                    part.with_columns(pl.lit(index, dtype=pl.UInt32).alias(FILE_IDX))
                    for part in parts
                )
        from gcscope import model

        events, runs = model.empty_events(), []
        if frames:
            events, runs = assemble(frames, self.grammars, self.set_name, 0, names, self.wanted)
        last = next((f for f in reversed(self.files) if f.plan is not None), None)
        if runs and last is not None:
            end = _last_uptime(last.tail, last.decorations)
            run = runs[-1]
            if end is not None and run["start_uptime_s"] is not None and end >= run["start_uptime_s"]:
                run["end_uptime_s"] = max(run["end_uptime_s"] or 0.0, end)
        if explain and len(self.unknown) > self._explained:
            _explain(self.unknown[self._explained:], self.grammars)
            self._explained = len(self.unknown)
        return IngestResult(events, runs, ParseReport([f.report for f in self.files],
                                                      list(self.unknown)))
