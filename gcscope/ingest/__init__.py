"""Ingestion: sources → decorations → line records (vectorised) → events assembled by GC id.

    result = read_events(["gc.log"])
    result.events     # polars DataFrame, gcscope.model.EVENT_SCHEMA
    result.runs       # one dict of run metadata per JVM run (gcscope.model.RUN_META_KEYS)
    result.parse      # ParseReport: lines, unknown lines with explanations, coverage
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import functools
import re
from collections.abc import Callable, Iterable

import polars as pl

from gcscope import model
from gcscope.errors import InputError, UnsupportedFormatError
from gcscope.grammar.compile import GrammarSet, load_grammars
from gcscope.ingest import sources as sources_mod
from gcscope.ingest.assemble import SetAssembler
from gcscope.ingest.decorations import Decorations, detect, seconds, wall_time
from gcscope.ingest.engine import LINE, LINE_NO, lines_of, make_plan, run_chunk

# What JDK 8 and earlier wrote (-XX:+PrintGCDetails): not unified logging.
_LEGACY = re.compile(
    rb"^(?:\S+: )?\d+[.,]\d+: \[(?:GC|Full GC)|^\{Heap before GC invocations=|^CommandLine flags: "
    rb"|\[(?:GC|Full GC) ?\(|\[GC pause \("
    # -XX:+PrintGCApplicationConcurrentTime/StoppedTime behind a date or uptime stamp
    rb"|^(?:\S+: ){1,2}(?:Application time|Total time for which application threads were stopped): \d"
    # the exit heap printout of JDK 7 and earlier (a permanent generation)
    rb"|^\s*(?:PSPermGen|concurrent-mark-sweep perm gen|compacting perm gen)\s+total ",
    re.MULTILINE,
)
DETECT_BYTES = 256 * 1024  # how much of a file's start is used to detect its format
_BRACKET_LINE = re.compile(rb"^\[", re.MULTILINE)


def is_legacy(head: bytes, decorations: Decorations) -> bool:
    """JDK 8 and earlier output, even when some of its lines start with `[` (e.g. `[PSYoungGen:
    …]` continuations, read as a lone hostname decoration): legacy lines outnumber them."""
    hits = len(_LEGACY.findall(head))
    if not hits:
        return False
    return not decorations.fields or hits >= len(_BRACKET_LINE.findall(head))


@dataclasses.dataclass
class UnknownLine:
    file: str
    line: int
    text: str
    explanation: str | None = None


@dataclasses.dataclass
class FileReport:
    file: str
    lines: int = 0
    blank: int = 0
    unknown: int = 0
    decorations: tuple[str, ...] = ()
    grammars: tuple[str, ...] = ()
    truncated_last_line: bool = False
    crlf_line_endings: bool = False  # some lines end in CR LF (read as LF)

    @property
    def warnings(self) -> list[dict]:
        """Damage that does not stop the read: one entry each, with its one-line message."""
        found = []
        if self.crlf_line_endings:
            found.append({"file": self.file, "line": None, "kind": "crlf",
                          "message": "CRLF line endings (Windows copy): read as LF"})
        if self.truncated_last_line and self.lines:
            found.append({"file": self.file, "line": self.lines, "kind": "truncated_last_line",
                          "message": "last line is cut short (no newline at the end): "
                                     "read as far as it goes"})
        return found

    @property
    def recognised(self) -> int:
        return self.lines - self.blank - self.unknown

    @property
    def coverage_pct(self) -> float:
        content = self.lines - self.blank
        return 100.0 if content == 0 else 100.0 * self.recognised / content

    def to_dict(self) -> dict:
        return {
            "file": self.file, "lines": self.lines, "blank": self.blank, "unknown": self.unknown,
            "coverage_pct": round(self.coverage_pct, 3), "decorations": list(self.decorations),
            "grammars": list(self.grammars), "truncated_last_line": self.truncated_last_line,
            "crlf_line_endings": self.crlf_line_endings,
        }


@dataclasses.dataclass
class ParseReport:
    files: list[FileReport]
    unknown_examples: list[UnknownLine]
    skipped: list[str] = dataclasses.field(default_factory=list)  # inputs that could not be read

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    @property
    def unknown_lines(self) -> int:
        return sum(f.unknown for f in self.files)

    @property
    def warnings(self) -> list[dict]:
        return [warning for f in self.files for warning in f.warnings]

    @property
    def coverage_pct(self) -> float:
        content = sum(f.lines - f.blank for f in self.files)
        return 100.0 if content == 0 else 100.0 * (content - self.unknown_lines) / content

    def to_dict(self) -> dict:
        return {
            "files": len(self.files),
            "lines": self.lines,
            "unknown_lines": self.unknown_lines,
            "coverage_pct": round(self.coverage_pct, 3),
            "per_file": [f.to_dict() for f in self.files],
            "unknown": [dataclasses.asdict(u) for u in self.unknown_examples],
            "skipped": list(self.skipped),
            "warnings": self.warnings,
        }


@dataclasses.dataclass
class IngestResult:
    events: pl.DataFrame
    runs: list[dict]
    parse: ParseReport


@dataclasses.dataclass
class _FileResult:
    source: sources_mod.Source
    report: FileReport
    last_uptime_s: float | None  # of the file's last line: a run ends there, not at its last GC
    unknown: list[UnknownLine]
    decorations: Decorations


BINARY_SAMPLE_BYTES = 16 * 1024  # how much of a file's start tells text from binary
BINARY_SHARE = 0.30  # a sample with more non-text bytes than this is not a text log
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\v\f\r") + b"\x7f"


def non_text_share(sample: bytes) -> float:
    """Share of `sample` that no text log holds: control bytes (not tab, newline, CR, form
    feed) and bytes that are not valid UTF-8 (one replacement character each)."""
    if not sample:
        return 0.0
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    # a multi-byte character cut by the sample's end is not a sign of binary data
    invalid = sample.decode("utf-8", "replace")[:-4].count("\ufffd")
    return (controls + invalid) / len(sample)


def _check_text(head: bytes, name: str) -> None:
    if not head.strip():
        raise InputError("empty file: no log lines", file=name)
    sample = head[:BINARY_SAMPLE_BYTES]
    controls = sum(1 for b in sample[:4096] if b < 9 or 13 < b < 32)
    if (b"\x00" in sample[:512] and controls > min(len(sample), 4096) // 20
            or non_text_share(sample) > BINARY_SHARE):
        raise InputError("binary file: not a text GC log", file=name)


def _choose_grammars(head: bytes, grammars: GrammarSet) -> tuple[str, ...]:
    text = head.decode("utf-8", "replace")
    chosen = [g.name for g in grammars.grammars if g.detect and any(d in text for d in g.detect)]
    if not chosen:  # nothing tells: try every collector's rules (slower, but nothing is lost)
        chosen = [g.name for g in grammars.grammars if g.name != "common"]
    # Collector grammars first: their specific rules win over common's generic ones.
    return (*chosen, "common")


def _collectors_started(chunk: bytes, grammars: GrammarSet, chosen: tuple[str, ...]) -> tuple[str, ...]:
    """Collector grammars not yet `chosen` whose start line ("Using Shenandoah") is in `chunk`:
    one literal scan for those grammars' start texts, each hit kept only at a message's start
    (after the decorations' "] " or a line's start)."""
    scan = _start_line_scan(grammars, chosen)
    if scan is None:
        return ()
    pattern, grammar_of = scan
    found = []
    for match in pattern.finditer(chunk):
        at = match.start()
        if at == 0 or chunk[at - 1] == 0x0A or chunk[at - 2:at] == b"] ":
            name = grammar_of[match.group()]
            if name not in found:
                found.append(name)
    return tuple(name for name in (g.name for g in grammars.grammars) if name in found)


@functools.lru_cache(maxsize=32)
def _start_line_scan(grammars: GrammarSet, chosen: tuple[str, ...]) -> tuple[re.Pattern, dict[bytes, str]] | None:
    grammar_of = {
        d.encode(): g.name for g in grammars.grammars
        if g.name not in chosen for d in g.detect if d.startswith("Using ")
    }
    if not grammar_of:
        return None
    # literal text first: the regex engine scans for "Using " at memchr speed (a leading
    # alternative such as "(?:^|] )" would make it try every position)
    longest_first = sorted(grammar_of, key=len, reverse=True)
    return re.compile(b"|".join(re.escape(text) for text in longest_first)), grammar_of


# Two chunks in flight: while polars works on one, Python prepares the next; memory stays
# bounded by two chunks whatever the file size. (Three in flight, or flushing the assembly
# every 1-2 chunks instead of 4, measured no faster: the 2 cores are busy either way.)
_IN_FLIGHT = 2
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=_IN_FLIGHT, thread_name_prefix="gcscope-chunk")


def _run(chunk: bytes, plan, first_line: int):
    return run_chunk(lines_of(chunk), plan, first_line)


def _read_file(source: sources_mod.Source, grammars: GrammarSet, wanted: frozenset[str] | None,
               max_unknown: int, progress: Callable[[int], None] | None,
               sink: Callable[[list[pl.DataFrame]], None]) -> _FileResult:
    """Read one file chunk by chunk, handing each chunk's record frames to `sink` in order."""
    report = FileReport(source.name)
    unknown: list[UnknownLine] = []
    plan = None
    decorations = Decorations(())
    next_line = 1
    last_chunk = b""
    pending: collections.deque = collections.deque()

    def collect(future) -> None:
        nonlocal unknown
        result = future.result()
        report.lines += result.lines
        report.blank += result.blank
        report.unknown += result.unknown.height
        for row in result.unknown.head(max(0, max_unknown - len(unknown))).iter_rows(named=True):
            unknown.append(UnknownLine(source.name, row[LINE_NO], row[LINE]))
        sink(result.records)

    for chunk in sources_mod.read_chunks(source, sources_mod.CHUNK_BYTES):
        if plan is None:
            head = chunk[:DETECT_BYTES]
            _check_text(head, source.name)
            head_lines = head.decode("utf-8", "replace").splitlines()[:200]
            decorations = detect(head_lines)
            if is_legacy(head, decorations):
                raise UnsupportedFormatError(
                    "legacy format (JDK 8 and earlier, -XX:+PrintGCDetails): not supported yet; "
                    "gcscope reads unified logging (-Xlog:gc*, JDK 9+)",
                    file=source.name,
                )
            names = _choose_grammars(head, grammars)
            plan = make_plan(decorations, grammars, names, wanted)
            report.decorations = decorations.fields
            report.grammars = names
        # a JVM restarted in this file with another collector: add its grammar
        added = _collectors_started(chunk, grammars, report.grammars)
        if added:
            report.grammars = (*added, *report.grammars)
            plan = make_plan(decorations, grammars, report.grammars, wanted)
        if not report.crlf_line_endings and b"\r\n" in chunk:
            report.crlf_line_endings = True
        pending.append(_POOL.submit(_run, chunk, plan, next_line))
        next_line += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
        last_chunk = chunk
        if progress:
            progress(len(chunk))
        if len(pending) >= _IN_FLIGHT:
            _import_while_the_engine_works()
        while len(pending) >= _IN_FLIGHT:
            collect(pending.popleft())
    while pending:
        collect(pending.popleft())
    if plan is None:
        raise InputError("empty file: no log lines", file=source.name)
    report.truncated_last_line = not last_chunk.endswith(b"\n")
    return _FileResult(source, report, _last_uptime(last_chunk, decorations), unknown, decorations)


def _import_while_the_engine_works() -> None:
    """numpy (the assembly's timeline order, the analysis) takes ~0.1 s to import: done while
    polars reads the first two chunks, when the main thread would only wait for them."""
    import numpy  # noqa: F401


def _last_uptime(chunk: bytes, decorations: Decorations) -> float | None:
    field = decorations.uptime_field
    if field is None:
        return None
    for raw in reversed(chunk[-65536:].split(b"\n")):
        values, _, _ = decorations.split(raw.decode("utf-8", "replace").rstrip("\r"))
        if field in values:
            return seconds(values[field], field)
    return None


def _first_stamps(source: sources_mod.Source) -> tuple[float | None, object | None]:
    """Uptime and wall time of the first line of `source` that has them (for ordering a rotated
    set before reading it), from its first lines only."""
    try:
        chunks = sources_mod.read_chunks(source, DETECT_BYTES)
        head = next(chunks, b"")
        chunks.close()
    except InputError:
        return None, None  # reading it will say why
    lines = head.decode("utf-8", "replace").splitlines()
    decorations = detect(lines[:200])
    uptime, wall = None, None
    for line in lines:
        values, _, _ = decorations.split(line.rstrip("\r"))
        if uptime is None and decorations.uptime_field in values:
            uptime = seconds(values[decorations.uptime_field], decorations.uptime_field)
        if wall is None and decorations.time_field in values:
            wall = wall_time(values[decorations.time_field], decorations.time_field)
        if uptime is not None and wall is not None:
            break
    return uptime, wall


def _order_set(members: list[sources_mod.Source]) -> list[sources_mod.Source]:
    """Order a rotated set by the time inside its files, never by their names."""
    if len(members) < 2:
        return members
    uptimes, walls = zip(*(_first_stamps(source) for source in members), strict=True)
    for keys in (walls, uptimes):
        if all(key is not None for key in keys):
            return [member for _, member in sorted(zip(keys, members, strict=True), key=lambda pair: pair[0])]
    return members


def read_events(paths: Iterable[str] | str, *, max_unknown: int = 20,
                wanted: Iterable[str] | None = None, explain: bool = True,
                progress: Callable[[int, int], None] | None = None,
                grammars: GrammarSet | None = None) -> IngestResult:
    """Read GC logs into events. `wanted`: record types to extract (None: every type)."""
    grammars = grammars or load_grammars()
    wanted_set = frozenset(wanted) if wanted is not None else None
    all_sources = sources_mod.resolve(list(paths) if not isinstance(paths, str) else [paths])
    total_bytes = sum(s.size or 0 for s in all_sources)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total_bytes)

    sets: dict[str, list[sources_mod.Source]] = {}
    for source in all_sources:
        sets.setdefault(source.set_key, []).append(source)

    events, runs, reports, unknown = [], [], [], []
    errors: list[InputError] = []
    # per file: the grammars chosen for it and its decorations, to explain its unknown lines
    file_context: dict[str, tuple[tuple[str, ...], Decorations]] = {}
    for set_key, members in sets.items():
        members = _order_set(members)
        assembler = SetAssembler(grammars, set_key, len(runs), [m.name for m in members], wanted_set)
        last: _FileResult | None = None
        for index, source in enumerate(members):
            chunks_before = assembler.chunks
            try:
                last = _read_file(source, grammars, wanted_set, max_unknown - len(unknown), advance,
                                  functools.partial(assembler.add_chunk, index))
            except InputError as exc:
                if len(all_sources) == 1:
                    raise
                if assembler.chunks > chunks_before:  # broke part-way (corrupt compressed data): say what stays
                    exc = InputError(f"{exc.message}; the events of the lines before it are kept",
                                     file=exc.file, line=exc.line)
                errors.append(exc)
                continue
            reports.append(last.report)
            unknown.extend(last.unknown)
            file_context[source.name] = (last.report.grammars, last.decorations)
        set_events, set_runs = assembler.finish()
        if set_runs and last is not None and last.last_uptime_s is not None:
            run = set_runs[-1]
            if run["start_uptime_s"] is not None and last.last_uptime_s >= run["start_uptime_s"]:
                run["end_uptime_s"] = max(run["end_uptime_s"] or 0.0, last.last_uptime_s)
        if set_events.height:
            events.append(set_events)
        runs.extend(set_runs)
    if not reports:
        raise errors[0] if len(errors) == 1 else InputError(
            "no readable log among the inputs: " + "; ".join(str(e) for e in errors)
        )
    if explain and unknown:
        _explain(unknown, grammars, file_context)
    return IngestResult(
        pl.concat(events, how="vertical") if events else model.empty_events(),
        runs,
        ParseReport(reports, unknown, [str(e) for e in errors]),
    )


def _explain(unknown: list[UnknownLine], grammars: GrammarSet,
             file_context: dict[str, tuple[tuple[str, ...], Decorations]] | None = None) -> None:
    """Ask the reference parser why each shown unknown line matched no rule: with the rules of
    the grammars applied to its file, in their order, and the line's tags (as explain-line)."""
    from gcscope.grammar.reference import ReferenceParser

    reference = ReferenceParser(grammars)
    rules_of: dict[tuple[str, ...], tuple] = {}
    for item in unknown:
        names, file_decorations = (file_context or {}).get(item.file, ((), None))
        values, message, offset = ({}, item.text, 0)
        if file_decorations is not None and file_decorations.fields:
            values, message, offset = file_decorations.split(item.text)
        if not values:  # the file's decorations do not fit this line: detect its own
            values, message, offset = detect([item.text]).split(item.text)
        rules = None
        if names:
            if names not in rules_of:
                rules_of[names] = tuple(r for n in names for r in grammars.by_name(n).rules)
            rules = rules_of[names]
        explanation = reference.explain(message, rules, values.get("tags"))
        item.explanation = explanation.render(message, offset, item.text)
