"""Append-only recordings of a live watch, and their replay into the analysis model.

Format: JSON lines, one record per line, each with `rec` naming its type:

    {"rec": "header", "format": "gcscope-recording", "version": 1, "created": ISO}
    {"rec": "run", "run_id": 0, "target": "...", "source": "jmx"|"hsperfdata", <RUN_META…>}
    {"rec": "poll", "run_id": 0, "uptime_s": 1.2, "time": ISO,
        "pools": [[pool, pool_category, used_bytes, committed_bytes, max_bytes], …]  (the pools
            read by this poll: the code cache and compressed class space every 10th poll),
        "collectors": [[collector, category, collection_count, collection_time_ms], …]}
    {"rec": "gc", "run_id": 0, <EVENT_SCHEMA columns…>, "action": "...", "origin": "..."}
        (a collection filled in from the counts has an `origin`; should its notification come
        later after all, its own `gc` record follows and replaces it on replay)
    {"rec": "gap", "run_id": 0, "collector": null|"...", "lost": N, "first_id", "last_id", "reason"}
    {"rec": "note", "run_id": 0, "time": ISO, "what": "disconnected|reconnected|alert|dump|…", …}

Records are written as they arrive and flushed once per interval, so a `kill -9` loses at most one
interval; the watch closes the file on Ctrl-C, losing nothing. A last line cut short by a kill is
ignored on replay (and reported); appending to such a file starts on a fresh line. Appending to an
existing recording continues its run numbering: every (re)connected JVM lifetime is a new run.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gcscope import model
from gcscope.errors import InputError
from gcscope.live.samples import FROM_COUNTS

FORMAT = "gcscope-recording"
VERSION = 1


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Recorder:
    """Appends records; `flush()` once per interval; `close()` on the way out (also Ctrl-C)."""

    def __init__(self, path: str | os.PathLike[str] | None):
        """path None: a recorder that only numbers runs (a watch without --record)."""
        self.path = Path(path) if path is not None else None
        self.next_run_id = 0
        self.run_id: int | None = None
        self._file = None
        if self.path is None:
            return
        existed = self.path.exists() and self.path.stat().st_size > 0
        if existed:
            if not is_recording(self.path):
                raise InputError(
                    "exists and is not a gcscope recording (not appending to it)", file=str(path)
                )
            last_run = _last_run_id(self.path)
            self.next_run_id = 0 if last_run is None else last_run + 1
        try:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - long-lived
        except OSError as exc:
            raise InputError(
                f"cannot write the recording: {exc.strerror}", file=str(path)
            ) from None
        if existed and not _ends_with_newline(self.path):
            self._file.write("\n")  # a kill cut the last line: start clean
        if not existed:
            self.write(
                {
                    "rec": "header",
                    "format": FORMAT,
                    "version": VERSION,
                    "created": datetime.now(UTC),
                }
            )

    def write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(record, default=_default, separators=(",", ":")) + "\n")

    def start_run(self, meta: dict[str, Any]) -> int:
        self.run_id = self.next_run_id
        self.next_run_id += 1
        self.write({"rec": "run", "run_id": self.run_id, **meta})
        self.flush()
        return self.run_id

    def poll(self, poll) -> None:
        self.write(
            {
                "rec": "poll",
                "run_id": self.run_id,
                "uptime_s": _clean(poll.uptime_s),
                "time": poll.time,
                "pools": [
                    [
                        r[model.POOL],
                        r[model.POOL_CATEGORY],
                        r[model.USED_BYTES],
                        r[model.COMMITTED_BYTES],
                        r[model.MAX_BYTES],
                    ]
                    for r in poll.pools
                    if r[model.POOL] not in poll.stale_pools  # each figure once, when read
                ],
                "collectors": [
                    [
                        r[model.COLLECTOR],
                        r[model.CATEGORY],
                        r[model.COLLECTION_COUNT],
                        r[model.COLLECTION_TIME_MS],
                    ]
                    for r in poll.collectors
                ],
            }
        )

    def event(self, row: dict[str, Any]) -> None:
        self.write(
            {
                "rec": "gc",
                "run_id": self.run_id,
                **{k: _clean(v) for k, v in row.items() if v is not None},
            }
        )

    def gap(self, gap) -> None:
        self.write(
            {
                "rec": "gap",
                "run_id": self.run_id,
                "collector": gap.collector,
                "lost": gap.lost,
                "first_id": gap.first_id,
                "last_id": gap.last_id,
                "reason": gap.reason,
            }
        )

    def note(self, what: str, **fields: Any) -> None:
        self.write(
            {
                "rec": "note",
                "run_id": self.run_id,
                "time": datetime.now(UTC),
                "what": what,
                **fields,
            }
        )

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.flush()
            self._file.close()


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def _last_run_id(path: Path) -> int | None:
    last = None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith('{"rec":"run"'):
                try:
                    last = int(json.loads(line)["run_id"])
                except (ValueError, KeyError, TypeError):
                    continue
    return last


# --- replay ---------------------------------------------------------------------------------
@dataclass
class Replay:
    """A recording as frames of the shared model."""

    path: str
    events: Any  # pl.DataFrame, EVENT_SCHEMA
    samples: Any  # pl.DataFrame, SAMPLE_SCHEMA
    collectors: Any  # pl.DataFrame, COLLECTOR_SAMPLE_SCHEMA
    runs: list[dict[str, Any]]
    gaps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0
    bad_lines: list[int] = field(default_factory=list)


def is_recording(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return f'"format":"{FORMAT}"' in fh.readline(4096)
    except OSError:
        return False


def read_recording(path: str | os.PathLike[str]) -> Replay:
    """Replay a recording into events, samples and collector counters (+ run metadata)."""
    import polars as pl

    path_str = str(path)
    try:
        fh = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    except FileNotFoundError:
        raise InputError("no such recording", file=path_str) from None
    except OSError as exc:
        raise InputError(f"cannot read the recording: {exc.strerror}", file=path_str) from None
    events: list[dict[str, Any]] = []
    samples: dict[str, list[Any]] = {k: [] for k in model.SAMPLE_SCHEMA}
    collectors: dict[str, list[Any]] = {k: [] for k in model.COLLECTOR_SAMPLE_SCHEMA}
    runs: dict[int, dict[str, Any]] = {}
    gaps, notes, bad = [], [], []
    run_lines: set[int] = set()
    # (run, collector, GC id) → index in `events` of a collection filled in from the counts
    filled: dict[tuple[Any, Any, Any], int] = {}
    number = 0
    with fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                kind = record["rec"]
            except (ValueError, KeyError, TypeError):
                bad.append(number)
                continue
            if number == 1 and (kind != "header" or record.get("format") != FORMAT):
                raise InputError(
                    f"not a gcscope recording (first line should be a {FORMAT} header)",
                    file=path_str,
                    line=1,
                )
            if kind == "poll":
                run_id, uptime = record["run_id"], record["uptime_s"]
                when = _parse_time(record.get("time"))
                for name, cat, used, committed, maximum in record["pools"]:
                    for key, value in (
                        (model.RUN_ID, run_id),
                        (model.UPTIME_S, uptime),
                        (model.TIME, when),
                        (model.POOL, name),
                        (model.POOL_CATEGORY, cat),
                        (model.USED_BYTES, used),
                        (model.COMMITTED_BYTES, committed),
                        (model.MAX_BYTES, maximum),
                    ):
                        samples[key].append(value)
                for name, cat, count, time_ms in record["collectors"]:
                    for key, value in (
                        (model.RUN_ID, run_id),
                        (model.UPTIME_S, uptime),
                        (model.TIME, when),
                        (model.COLLECTOR, name),
                        (model.CATEGORY, cat),
                        (model.COLLECTION_COUNT, count),
                        (model.COLLECTION_TIME_MS, time_ms),
                    ):
                        collectors[key].append(value)
                run = runs.get(run_id)
                if run is not None and uptime is not None:
                    run["start_uptime_s"] = min(run.get("start_uptime_s") or uptime, uptime)
                    run["end_uptime_s"] = max(run.get("end_uptime_s") or uptime, uptime)
            elif kind == "gc":
                row = {k: record.get(k) for k in model.EVENT_SCHEMA if k in record}
                row[model.RUN_ID] = record.get("run_id")
                row[model.SOURCE_FILE] = path_str
                row[model.SOURCE_LINE] = number
                if record.get(model.TIME):
                    row[model.TIME] = _parse_time(record[model.TIME])
                key = (row[model.RUN_ID], row.get(model.NAME), row.get(model.GC_ID))
                if record.get("origin") == FROM_COUNTS:
                    filled[key] = len(events)
                    events.append(row)
                elif key in filled:  # its late notification: the detail replaces the filled-in
                    events[filled.pop(key)] = row
                else:
                    events.append(row)
            elif kind == "run":
                run_lines.add(number)
                meta = {k: record.get(k) for k in model.RUN_META_KEYS}
                meta.update({k: v for k, v in record.items() if k not in ("rec",)})
                meta["files"] = [path_str]
                runs[int(record["run_id"])] = meta
            elif kind == "gap":
                gaps.append(record)
            elif kind == "note":
                notes.append(record)
    # A line cut short by a kill mid-write is the last line, or the line just before the run
    # record of the next watch that appended to the file; anything else is corruption.
    corrupt = [n for n in bad if n != number and n + 1 not in run_lines]
    if corrupt:
        raise InputError(
            f"not valid JSON (a damaged recording?); also lines {corrupt[1:6]}"
            if len(corrupt) > 1
            else "not valid JSON (a damaged recording?)",
            file=path_str,
            line=corrupt[0],
        )
    events_frame = (
        model.conform_events(pl.DataFrame(events, infer_schema_length=None))
        if events
        else model.empty_events()
    )
    if not events_frame.is_empty():
        events_frame = events_frame.sort([model.RUN_ID, model.UPTIME_S], maintain_order=True)
    return Replay(
        path=path_str,
        events=events_frame,
        samples=pl.DataFrame(samples, schema=model.SAMPLE_SCHEMA, strict=False),
        collectors=pl.DataFrame(collectors, schema=model.COLLECTOR_SAMPLE_SCHEMA, strict=False),
        runs=[runs[k] for k in sorted(runs)],
        gaps=gaps,
        notes=notes,
        lines=number,
        bad_lines=bad,
    )


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# --- `gcscope analyze --recording PATH` -------------------------------------------------------
def add_recording_argument(parser: Any) -> None:
    """`--recording PATH` (repeatable); LOG becomes optional when a recording is given."""
    parser.add_argument(
        "--recording",
        metavar="PATH",
        action="append",
        default=[],
        help="also analyse a `gcscope watch --record` recording (repeatable); each JVM "
        "lifetime in it is a run, like a run of a log",
    )
    for action in parser._actions:
        if action.dest == "logs":
            action.nargs = "*"


def ingest_with_recordings(args: Any, read_logs: Any) -> Any:
    """The logs (via read_logs(args)) and the recordings as one ingest result: log runs first,
    then each recording's runs, renumbered so that run ids stay unique."""
    from types import SimpleNamespace

    import polars as pl

    recordings = list(getattr(args, "recording", None) or [])
    logs = list(getattr(args, "logs", None) or [])
    if not recordings:
        if not logs:
            from gcscope.errors import UsageError

            raise UsageError("give at least one LOG (or --recording PATH)")
        return read_logs(args)
    frames, runs, per_file, sample_frames = [], [], [], []
    parse: dict[str, Any] = {"files": 0, "lines": 0, "unknown_lines": 0, "coverage_pct": 100.0}
    n_log_runs = 0
    if logs:
        ingest = read_logs(args)
        frames.append(ingest.events)
        runs.extend(dict(r) for r in ingest.runs)
        n_log_runs = len(runs)
        parse = ingest.parse.to_dict() if hasattr(ingest.parse, "to_dict") else dict(ingest.parse)
        per_file = list(parse.get("per_file") or [])
    for path in recordings:
        replay = read_recording(path)
        offset = len(runs)
        mapping = {int(r[model.RUN_ID]): offset + i for i, r in enumerate(replay.runs)}
        for i, meta in enumerate(replay.runs):
            runs.append({**meta, model.RUN_ID: offset + i})
        if not replay.events.is_empty():
            frames.append(
                replay.events.with_columns(
                    pl.col(model.RUN_ID).replace_strict(
                        mapping, default=None, return_dtype=pl.UInt32
                    )
                )
            )
        if replay.samples.height:  # the pools chart of the reports draws them
            sample_frames.append(
                replay.samples.with_columns(
                    pl.col(model.RUN_ID).replace_strict(
                        mapping, default=None, return_dtype=model.SAMPLE_SCHEMA[model.RUN_ID]
                    )
                )
            )
        per_file.append(
            {"file": path, "lines": replay.lines, "unknown_lines": 0, "coverage_pct": 100.0}
        )
    files = parse.get("files")
    count = len(files) if isinstance(files, list | tuple) else int(files or 0)
    parse["files"] = count + len(recordings)
    parse["lines"] = int(parse.get("lines") or 0) + sum(
        f["lines"] for f in per_file[-len(recordings) :]
    )
    parse["per_file"] = per_file
    events = (
        pl.concat([model.conform_events(f) for f in frames]) if frames else model.empty_events()
    )
    samples = pl.concat(sample_frames) if sample_frames else None
    if n_log_runs and len(runs) > n_log_runs:
        events, samples = align_to_logs(events, runs, n_log_runs, samples)
    return SimpleNamespace(events=events, runs=runs, parse=parse, samples=samples)


# A log and a recording of the same JVM count uptime from different origins: the log from the
# JVM's start, the MXBeans (GC notifications, the Uptime attribute) from when its management
# layer started, measured 0.1-0.3 s later (more on a busy machine). A recording run is put on the
# timeline of a log run when its collections fall on the log's, all shifted by one offset.
ALIGN_MAX_OFFSET_S = 5.0  # the management layer starts this much after the JVM at most
ALIGN_TOLERANCE_S = 0.010  # a collection matches when it falls within 10 ms after the shift
ALIGN_MIN_MATCHES = 3
ALIGN_MIN_SHARE = 0.6  # of the recording's collections inside the log's time span


def _pause_times(events: Any, run_id: int) -> Any:
    import numpy as np
    import polars as pl

    frame = events.filter(
        (pl.col(model.RUN_ID) == run_id)
        & (pl.col(model.CATEGORY) == model.PAUSE)
        & pl.col(model.UPTIME_S).is_not_null()
    )
    return np.sort(frame[model.UPTIME_S].cast(pl.Float64).to_numpy())


def _nearest_diffs(log_times: Any, shifted: Any) -> Any:
    """For each shifted time, (nearest log time - it)."""
    import numpy as np

    at = np.clip(np.searchsorted(log_times, shifted), 1, len(log_times) - 1)
    after, before = log_times[at] - shifted, log_times[at - 1] - shifted
    return np.where(np.abs(after) <= np.abs(before), after, before)


def uptime_offset(log_times: Any, rec_times: Any) -> tuple[float, int] | None:
    """(offset to add to the recording's uptimes, collections matched), or None when the two do
    not line up. Candidates: the differences between the first recorded collections and the log's
    within [-0.5 s, ALIGN_MAX_OFFSET_S], the most frequent first; the one that matches the most
    collections wins, the smallest on a tie (a periodic workload also lines up one period later,
    but less well: its collections are never that regular)."""
    import numpy as np

    if len(log_times) < ALIGN_MIN_MATCHES or len(rec_times) < ALIGN_MIN_MATCHES:
        return None
    pairs = []
    for r in rec_times[:20]:
        lo, hi = np.searchsorted(log_times, [r - 0.5, r + ALIGN_MAX_OFFSET_S])
        pairs.append(log_times[lo:hi] - r)
    diffs = np.concatenate(pairs) if pairs else np.empty(0)
    if diffs.size == 0:
        return None
    bins, counts = np.unique(np.round(diffs / ALIGN_TOLERANCE_S), return_counts=True)
    candidates = bins[np.argsort(-counts, kind="stable")[:8]] * ALIGN_TOLERANCE_S
    best: tuple[int, float, float] | None = None  # (-matches, |offset|, offset)
    for candidate in candidates:
        near = _nearest_diffs(log_times, rec_times + candidate)
        matched = np.abs(near) <= ALIGN_TOLERANCE_S
        if not matched.any():
            continue
        offset = float(candidate + np.median(near[matched]))
        key = (-int(matched.sum()), abs(offset), offset)
        if best is None or key < best:
            best = key
    if best is None:
        return None
    matches, offset = -best[0], best[2]
    shifted = rec_times + offset
    inside = (shifted >= log_times[0] - ALIGN_TOLERANCE_S) & (
        shifted <= log_times[-1] + ALIGN_TOLERANCE_S
    )
    if matches < ALIGN_MIN_MATCHES or matches < ALIGN_MIN_SHARE * int(inside.sum()):
        return None
    return round(offset, 4), matches


def align_to_logs(
    events: Any, runs: list[dict[str, Any]], n_log_runs: int, samples: Any = None
) -> tuple[Any, Any]:
    """Shift each recording run that is the same JVM as a log run onto that log's uptimes (its
    events and samples); its meta says so (`aligned_with_run`, `uptime_offset_s`,
    `aligned_collections`)."""
    import polars as pl

    for meta in runs[n_log_runs:]:
        rec_id = int(meta[model.RUN_ID])
        rec_times = _pause_times(events, rec_id)
        found = None
        for log_meta in runs[:n_log_runs]:
            log_id = int(log_meta[model.RUN_ID])
            got = uptime_offset(_pause_times(events, log_id), rec_times)
            if got is not None and (found is None or got[1] > found[2]):
                found = (log_id, got[0], got[1])
        if found is None:
            continue
        log_id, offset, matches = found
        shift = (
            pl.when(pl.col(model.RUN_ID) == rec_id)
            .then(pl.col(model.UPTIME_S) + offset)
            .otherwise(pl.col(model.UPTIME_S))
            .alias(model.UPTIME_S)
        )
        events = events.with_columns(shift)
        if samples is not None:
            samples = samples.with_columns(shift)
        for key in ("start_uptime_s", "end_uptime_s"):
            if meta.get(key) is not None:
                meta[key] = round(meta[key] + offset, 4)
        meta.update(aligned_with_run=log_id, uptime_offset_s=offset, aligned_collections=matches)
        print(
            f"gcscope: note: run {rec_id} ({(meta.get('files') or ['the recording'])[0]}) is the "
            f"JVM of run {log_id}: {matches} collections line up; its uptimes are shifted by "
            f"{offset:+.3f} s onto the log's timeline",
            file=sys.stderr,
        )
    return events, samples
