"""From line records to events: runs, GC-id assembly, units, kinds and run metadata.

Records arrive per rule (see engine.py). A GC is many lines sharing `GC(n)`: the line that
yields an event (a pause summary, a cycle's end) is its anchor, and every attribute line
(generations, metaspace, CPU…) joins the event of the same run and GC id that follows it, or
the one before it when none follows. Nothing here knows a collector: kinds and units come
from the grammars.

Records stay narrow (one frame per rule) until the end: a wide frame of every record would
cost more memory than the log.
"""

from __future__ import annotations

import dataclasses

import polars as pl

from gcscope import model
from gcscope.grammar.compile import GrammarSet
from gcscope.grammar.dsl import RECORD_TYPES
from gcscope.ingest.engine import LINE_NO, REGION_INFERENCE_FIELDS, RULE

EVENT_RECORDS = {
    "pause": model.PAUSE,
    "concurrent": model.CONCURRENT,
    "stall": model.STALL,
    "safepoint": model.SAFEPOINT,
    "heap_sample": model.HEAP_SAMPLE,
}
ORDER = "_order"  # position of a record in the set: file index × 2^32 + line number
FILE_IDX = "_file_idx"
RESTART_TOLERANCE_S = 1.0  # threads log slightly out of order; a real restart goes back far more
_REGION_SIZES = [2**k for k in range(20, 30)]  # G1: 1 MB … 512 MB
_YIELDS = pl.Enum(RECORD_TYPES)
_BOOKKEEPING = {ORDER, RULE, LINE_NO, FILE_IDX, model.SOURCE_FILE, model.RUN_ID, model.GC_ID,
                "uptime_s", "time", "_priority"}


FLUSH_EVERY_CHUNKS = 4  # chunks of records assembled at once: memory holds about this many
OPEN_CYCLE_FLUSHES = 2  # a cycle begun and not ended for this many windows is taken as ended (a
# CMS cycle a full GC interrupts never ends; carrying it longer would pin the records after it)


def assemble(frames: list[pl.DataFrame], grammars: GrammarSet, set_name: str,
             first_run_id: int, files: list[str],
             wanted: frozenset[str] | None = None) -> tuple[pl.DataFrame, list[dict]]:
    """Turn one rotated set's records (files already in time order) into events and runs, all
    at once. `frames`: one frame per (file, rule) with RULE, LINE_NO, FILE_IDX, uptime_s/time and
    fields, in the order they were read; the list is emptied. `files`: the set's file names in
    order (FILE_IDX indexes it). `wanted`: as SetAssembler's."""
    assembler = SetAssembler(grammars, set_name, first_run_id, files, wanted)
    assembler.add(frames, flush=False)
    frames.clear()
    return assembler.finish()


class SetAssembler:
    """Assembles one rotated set's records into events window by window, as they are read.

    Records arrive chunk by chunk in log order (files in time order). Every few chunks the
    records read so far become events, except those of the GC ids that may still have lines to
    come: the ids of the newest chunk and the concurrent cycles begun and not yet ended. Those,
    and everything after the first of them, are carried into the next window, so that a GC's
    lines always meet in one window. Memory holds a few chunks' records and the events, never
    every record of the log.

    `wanted`: the measurement columns the caller reads (None: all). The others are left out of
    the events (null in the table) even when a rule that was run for a wanted column yields
    them too: G1's survivor line is read to infer the region size, and its three columns
    would be 50 MB of a 2 GB log's events that no analysis reads.
    """

    def __init__(self, grammars: GrammarSet, set_name: str, first_run_id: int, files: list[str],
                 wanted: frozenset[str] | None = None):
        self.grammars = grammars
        self._unwanted = (frozenset() if wanted is None
                          else frozenset(model.EVENT_SCHEMA) - wanted - set(model.EVENT_CORE_COLUMNS))
        self.set_name = set_name
        self.first_run_id = first_run_id
        self.files = files
        self._yields = {rule.name: rule.yields for rule in grammars.rules}
        self._priority = {rule.name: index for index, rule in enumerate(grammars.rules)}
        self._new: list[pl.DataFrame] = []  # raw record frames not yet in a window
        self._carried: list[pl.DataFrame] = []  # prepared records carried to the next window
        self.chunks = 0  # chunks added so far
        self._windows = 0
        self._open_since: dict[tuple[int, int], int] = {}  # open cycle → window it was first open in
        self._run_state = _RunState()
        self._breaks: list[int] = []
        self._events: list[pl.DataFrame] = []
        self._runs: dict[int, dict] = {}

    def add_chunk(self, file_index: int, frames: list[pl.DataFrame]) -> None:
        """The records of the next chunk read from the set's file `file_index`."""
        self.add([frame.with_columns(pl.lit(file_index, dtype=pl.UInt32).alias(FILE_IDX)) for frame in frames])

    def add(self, frames: list[pl.DataFrame], flush: bool = True) -> None:
        """The records of the next chunk read (each frame with FILE_IDX)."""
        frames = [frame for frame in frames if frame.height]
        self._new.extend(frames)
        self.chunks += 1
        if flush and self.chunks % FLUSH_EVERY_CHUNKS == 0:
            self._flush(final=False, recent=len(frames))

    def finish(self) -> tuple[pl.DataFrame, list[dict]]:
        self._flush(final=True, recent=0)
        runs = [self._runs[run_id] for run_id in sorted(self._runs)]
        for run in runs:
            if run["start_time"] is not None:
                run["start_time"] = run["start_time"].isoformat()
            _finish_run(run, self.grammars)
        if not self._events:
            return model.empty_events(), runs
        same_columns = all(frame.columns == self._events[0].columns for frame in self._events)
        events = pl.concat(self._events, how="vertical_relaxed" if same_columns else "diagonal_relaxed",
                           rechunk=False)
        self._events = []
        events = self._without_unwanted(_regions_to_bytes(events, runs))
        # Timeline order: by start time (a cycle that ended late started early), then line order.
        order = [model.RUN_ID, model.UPTIME_S, ORDER] if model.UPTIME_S in events.columns else [ORDER]
        index = _timeline_index(events, order)
        file_names = pl.Series(model.SOURCE_FILE, self.files, dtype=model.EVENT_SCHEMA[model.SOURCE_FILE])
        columns = [*events.get_columns(), file_names.gather(events.get_column(FILE_IDX))]
        # The table is one chunk per window: adding or sorting columns on it would first copy it
        # whole into one chunk (twice the table at once). Column by column instead, each source
        # column let go as soon as it is copied.
        del events
        ordered = []
        while columns:
            column = columns.pop(0)
            ordered.append(column.gather(index) if index is not None else column.rechunk())
            del column
        return model.conform_events(pl.DataFrame(ordered)), runs

    def _prepare(self, frame: pl.DataFrame) -> pl.DataFrame:
        rule = frame.get_column(RULE).item(0)
        frame = frame.with_columns(
            (pl.col(FILE_IDX).cast(pl.Int64) * (1 << 32) + pl.col(LINE_NO).cast(pl.Int64)).alias(ORDER),
            # small types: a big log has tens of millions of records
            pl.lit(self._priority[rule], dtype=pl.UInt16).alias("_priority"),
            pl.lit(self._yields[rule], dtype=_YIELDS).alias("_yields"),
        )
        if _kind_of(self._yields[rule]) == "attribute":  # ORDER says where they stand: enough
            frame = frame.drop(LINE_NO, FILE_IDX)
        return frame

    def _flush(self, final: bool, recent: int) -> None:
        new = [self._prepare(frame) for frame in self._new]
        self._new = []
        new = self._with_runs(new)
        window = self._carried + new
        self._carried = []
        self._windows += 1
        if not final and window:
            cut = self._cut(window, new[len(new) - recent:] if recent else [])
            self._carried = [f for f in (frame.filter(pl.col(ORDER) >= cut) for frame in window) if f.height]
            self._carried += _last_safepoint_start(window, cut)
            window = [f for f in (frame.filter(pl.col(ORDER) < cut) for frame in window) if f.height]
        if window:
            self._assemble(window)

    def _with_runs(self, frames: list[pl.DataFrame]) -> list[pl.DataFrame]:
        """Give new records their run: a start line after collections, or uptime going back,
        begins a new one (the state carries over from the records before)."""
        skeleton = [
            frame.select(ORDER, RULE, "_yields", *(["uptime_s"] if "uptime_s" in frame.columns else []))
            for frame in frames if _kind_of(_yields_of(frame)) in ("event", "init")
        ]
        if skeleton:
            self._breaks += _run_breaks(pl.concat(skeleton, how="diagonal_relaxed").sort(ORDER), self._run_state)
        return [_with_run(frame, self._breaks, self.first_run_id) for frame in frames]

    def _cut(self, window: list[pl.DataFrame], recent: list[pl.DataFrame]) -> int:
        """The position from which records are carried to the next window: the first line of
        the earliest GC id still open, after the lines without an id that come just before it
        (a trigger line announcing it); the window's end when none is open."""
        key = [model.RUN_ID, model.GC_ID]
        keyed = [
            frame.select(model.RUN_ID, model.GC_ID, ORDER, "_yields")
            for frame in window if model.GC_ID in frame.columns
        ] or [pl.DataFrame(schema={model.RUN_ID: pl.UInt32, model.GC_ID: pl.Int64, ORDER: pl.Int64,
                                   "_yields": _YIELDS})]
        ids = pl.concat(keyed).filter(pl.col(model.GC_ID).is_not_null())
        spans = ids.group_by(key).agg(
            pl.col(ORDER).min().alias("_first"),
            pl.col(ORDER).max().alias("_last"),
            pl.col(ORDER).filter(pl.col("_yields") == "cycle_start").max().alias("_started"),
            pl.col(ORDER).filter(pl.col("_yields") == "concurrent").max().alias("_ended"),
        )
        unended = spans.filter(
            pl.col("_started").is_not_null() & (pl.col("_ended").is_null() | (pl.col("_ended") < pl.col("_started")))
        ).select(key).rows()
        for cycle in unended:
            self._open_since.setdefault(cycle, self._windows)
        still_open = {c for c in unended if self._windows - self._open_since[c] < OPEN_CYCLE_FLUSHES}
        self._open_since = {c: w for c, w in self._open_since.items() if c in still_open}
        open_ids = set(still_open)
        for frame in recent:
            if model.GC_ID in frame.columns:
                open_ids.update(frame.select(key).drop_nulls().unique().rows())
        wanted = pl.DataFrame(list(open_ids), schema={model.RUN_ID: pl.UInt32, model.GC_ID: pl.Int64}, orient="row")
        starts = spans.join(wanted, on=key, how="semi")
        first_open = starts.get_column("_first").min() if starts.height else None
        positions = ids.get_column(ORDER).sort()
        window_end = max(frame.get_column(ORDER).max() for frame in window) + 1
        cut = first_open if first_open is not None else window_end
        # as _attach_announcements numbers them: by the first event or cycle line of each id
        firsts = (
            ids.filter(pl.col("_yields").is_in([*EVENT_RECORDS, "cycle_start"]))
            .group_by(key).agg(pl.col(ORDER).min()).get_column(ORDER).sort()
        )
        announcements = pl.concat([
            frame.filter(pl.col(model.GC_ID).is_null() if model.GC_ID in frame.columns else pl.lit(True)).select(ORDER)
            for frame in window if _yields_of(frame) == "cycle_start"
        ] or [pl.DataFrame(schema={ORDER: pl.Int64})]).get_column(ORDER).sort()
        spans = spans.select("_first", "_last")
        while True:
            moved = cut
            # no GC id may have lines on both sides of the cut
            crossing = spans.filter((pl.col("_first") < cut) & (pl.col("_last") >= cut))
            if crossing.height:
                cut = crossing.get_column("_first").min()
            # lines without an id just before the cut go with what follows them
            if positions.len():
                earlier = positions.search_sorted(cut, side="left")
                cut = positions[earlier - 1] + 1 if earlier else positions[0]
            # a trigger line goes with the GC id it announces: the next one to begin (none yet:
            # one still to come)
            pending = announcements.filter(announcements < cut)
            if pending.len():
                index = firsts.search_sorted(pending, side="right")
                target = (pl.select(pl.when(index < firsts.len()).then(firsts.gather(index.clip(0, firsts.len() - 1))))
                          .to_series() if firsts.len() else pl.Series([None] * pending.len(), dtype=pl.Int64))
                carried = pending.filter(target.is_null() | (target >= cut))
                if carried.len():
                    cut = min(cut, carried.min())
            if cut == moved:
                break
        return max(cut, min(frame.get_column(ORDER).min() for frame in window))

    def _assemble(self, window: list[pl.DataFrame]) -> None:
        by_type: dict[str, list[pl.DataFrame]] = {}
        for frame in window:
            by_type.setdefault(_kind_of(_yields_of(frame)), []).append(frame)
        window.clear()
        # Each _concat copies its records: pop them so that the per-chunk frames go as soon as copied.
        events = _concat(by_type.pop("event", []))
        init = _concat(by_type.pop("init", []))
        # Attribute records stay in narrow groups (one per set of columns): one wide frame of every
        # attribute line would be the largest object of a big log (mostly nulls).
        groups = _by_columns(by_type.pop("attribute", []))
        attribute_groups = []
        while groups:
            attribute_groups.append(_with_next_gc_id(_concat(groups.pop(0)), events))
        cycle_starts = _concat(by_type.pop("cycle_start", []))
        safepoint_starts = _concat(by_type.pop("safepoint_start", []))
        if events is None and init is None:
            return
        for run in _run_meta(events, init, self.set_name, self.files):
            _merge_run(self._runs.setdefault(run[model.RUN_ID], run), run)
        if events is None:
            return
        events = _events(events, self.grammars)
        events = _join_repeated_cycles(events)
        if cycle_starts is not None:
            events = _attach_cycle_starts(events, cycle_starts)
            events = _attach_announcements(events, cycle_starts)
        if safepoint_starts is not None:
            events = _name_safepoints(events, safepoint_starts)
        if attribute_groups:
            events = _attach_attributes(events, attribute_groups)
        events = events.drop("_yields", "_priority", RULE, LINE_NO, strict=False)
        # Regions become bytes now when each run's region size is known (its start-up lines
        # came first); else at the end, when it can be inferred from all its collections.
        run_ids = events.get_column(model.RUN_ID).unique().to_list()
        if all(self._runs[run_id].get("region_size_bytes") for run_id in run_ids):
            events = _regions_to_bytes(events, [self._runs[run_id] for run_id in run_ids])
        self._events.append(_categorical_text(self._without_unwanted(events)))

    def _without_unwanted(self, events: pl.DataFrame) -> pl.DataFrame:
        return events.drop(self._unwanted, strict=False)


def _categorical_text(events: pl.DataFrame) -> pl.DataFrame:
    """The window's text columns in the event table's categorical types now, not at the end:
    strings would hold ~6× the memory until then."""
    return events.with_columns(
        pl.col(name).cast(dtype) for name, dtype in model.EVENT_SCHEMA.items()
        if dtype == pl.Categorical and name in events.columns and events.schema[name] == pl.String
    )


def _yields_of(frame: pl.DataFrame) -> str:
    """The record type of a prepared record frame (one rule per frame)."""
    return frame.get_column("_yields").item(0)


def _kind_of(yields: str) -> str:
    """How assembly treats a record type: events, attributes of events, or as itself."""
    if yields in EVENT_RECORDS:
        return "event"
    return "attribute" if yields in ("attribute", "attribute_after") else yields


def _last_safepoint_start(window: list[pl.DataFrame], cut: int) -> list[pl.DataFrame]:
    """A copy of the last safepoint begin line before `cut` (it names the safepoint ending
    after it). Copying is harmless: begin lines only name, they never become events."""
    begins = [frame.filter(pl.col(ORDER) < cut) for frame in window
              if _yields_of(frame) == "safepoint_start"]
    begins = [frame for frame in begins if frame.height]
    if not begins:
        return []
    return [pl.concat(begins, how="diagonal_relaxed").sort(ORDER).tail(1)]


def _timeline_index(events: pl.DataFrame, order: list[str]) -> pl.Series | None:
    """Row positions of `events` sorted by `order` (nulls last), or None when they are in order
    already. numpy's lexsort: a many-key sort in polars encodes every row first, ~100 bytes
    a row (200 MB for a 2 GB log's events); lexsort holds the keys and the index."""
    import numpy as np  # imported while the engine reads the first chunks (ingest._read_file)

    # last key first; a null (NaN) uptime sorts after every number, as nulls_last
    keys = [events.get_column(name).to_numpy() for name in reversed(order)]
    index = np.lexsort(keys)
    del keys
    if index.size < 2 or bool((index[1:] > index[:-1]).all()):
        return None  # a permutation in order is the identity
    return pl.Series("_row", index)


def _by_columns(frames: list[pl.DataFrame]) -> list[list[pl.DataFrame]]:
    """Group frames that share a value column (e.g. two wordings of the metaspace line): within
    a group the first line of an event wins a column, as in one frame sorted by position."""
    groups: list[tuple[set[str], list[pl.DataFrame]]] = []
    for frame in frames:
        columns = set(frame.columns) - _BOOKKEEPING - {"_yields"}
        joined = [group for group in groups if group[0] & columns]
        merged = (columns.union(*(g[0] for g in joined)), [f for g in joined for f in g[1]] + [frame])
        groups = [group for group in groups if not any(group is j for j in joined)] + [merged]
    return [group for _, group in groups]


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame | None:
    if not frames:
        return None
    frame = pl.concat(frames, how="diagonal_relaxed").sort(ORDER, "_priority")
    # When two active grammars read the same line (e.g. Parallel and Serial pause lines in a
    # file that names neither collector), the first rule in priority order keeps it.
    if frame.get_column(ORDER).n_unique() < frame.height:
        frame = frame.unique(subset=[ORDER], keep="first", maintain_order=True)
    return frame


@dataclasses.dataclass
class _RunState:
    """What deciding where runs break needs to know of the records before a window."""
    last_uptime_s: float | None = None
    events_so_far: int = 0
    events_at_run_start: int = 0  # events_so_far at the last start line or uptime step back


def _run_breaks(skeleton: pl.DataFrame, state: _RunState) -> list[int]:
    """ORDER positions in `skeleton` (event and init records, sorted) where a new JVM run
    starts: a start line ("Using G1") after collections, or uptime going back. Start-up lines
    before "Using …" stay in its run. `state` is updated to the end of `skeleton`."""
    is_event = pl.col("_yields").is_in(list(EVENT_RECORDS))
    is_start = pl.col(RULE) == "using_collector"
    events_so_far = is_event.cast(pl.UInt32).cum_sum() + state.events_so_far
    if "uptime_s" in skeleton.columns:
        previous = pl.col("uptime_s").forward_fill().shift(1)
        if state.last_uptime_s is not None:
            previous = previous.fill_null(state.last_uptime_s)
        went_back = (pl.col("uptime_s") < previous - RESTART_TOLERANCE_S).fill_null(False)
    else:
        went_back = pl.lit(False)
    # A start line breaks only after collections since the run began: at the previous start
    # line, or where uptime went back (the restarted JVM's start-up lines come before its
    # "Using G1" line, which must not break its run again).
    marker = is_start | went_back
    at_marker = pl.when(marker).then(events_so_far).otherwise(None).forward_fill()
    events_at_run_start = at_marker.shift(1).fill_null(state.events_at_run_start)
    breaks = went_back | (is_start & (events_so_far > events_at_run_start))
    flags = skeleton.select(
        pl.col(ORDER), breaks.fill_null(False).alias("_break"),
        events_so_far.alias("_events"), at_marker.alias("_at_marker"),
    )
    if "uptime_s" in skeleton.columns:
        last_uptime = skeleton.get_column("uptime_s").drop_nulls()
        if last_uptime.len():
            state.last_uptime_s = float(last_uptime[-1])
    if flags.height:
        state.events_so_far = int(flags.get_column("_events")[-1])
        last_marker = flags.get_column("_at_marker")[-1]
        if last_marker is not None:
            state.events_at_run_start = int(last_marker)
    return flags.filter(pl.col("_break")).get_column(ORDER).to_list()


def _with_run(frame: pl.DataFrame | None, breaks: list[int], first_run_id: int) -> pl.DataFrame | None:
    if frame is None:
        return None
    # a record's run: the number of breaks at or before its position
    starts = pl.Series("starts", breaks, dtype=pl.Int64)
    index = starts.search_sorted(frame.get_column(ORDER), side="right")
    return frame.with_columns((pl.lit(first_run_id) + index).cast(pl.UInt32).alias(model.RUN_ID))


def _kind_expr(grammars: GrammarSet) -> pl.Expr:
    expr = None
    for grammar in grammars.grammars:
        for prefix, value in grammar.kinds.get("name", ()):
            rules = [rule.name for rule in grammar.rules]
            condition = pl.col(RULE).is_in(rules) & pl.col(model.NAME).str.starts_with(prefix)
            expr = pl.when(condition).then(pl.lit(value)) if expr is None else expr.when(condition).then(pl.lit(value))
    if expr is None:
        return pl.lit(None, dtype=pl.String)
    return expr.otherwise(pl.when(pl.col("_yields") == "pause").then(pl.lit("other")))


def _events(events: pl.DataFrame, grammars: GrammarSet) -> pl.DataFrame:
    if model.NAME not in events.columns:
        events = events.with_columns(pl.lit(None, dtype=pl.String).alias(model.NAME))
    duration_s = (
        pl.col(model.DURATION_MS).fill_null(0.0) / 1000.0
        if model.DURATION_MS in events.columns
        else pl.lit(0.0)
    )
    exprs = [
        pl.col(LINE_NO).alias(model.SOURCE_LINE),
        pl.col("_yields").cast(pl.String).replace_strict(EVENT_RECORDS, default=None).alias(model.CATEGORY),
        _kind_expr(grammars).alias(model.KIND),
    ]
    # Summary lines are printed when the work ends: the event started `duration` earlier.
    if "uptime_s" in events.columns:
        exprs.append((pl.col("uptime_s") - duration_s).alias(model.UPTIME_S))
    if "time" in events.columns:
        exprs.append(
            (pl.col("time") - pl.duration(milliseconds=(duration_s * 1000).round(0).cast(pl.Int64))).alias(model.TIME)
        )
    return events.with_columns(exprs)


def _join_repeated_cycles(events: pl.DataFrame) -> pl.DataFrame:
    """One GC id is one collection: a concurrent rule that reads several lines of one GC id
    (Shenandoah prints "Concurrent cleanup 16M->16M(64M)" after marking and "Concurrent cleanup
    18M->2M(64M)" at the end of the cycle) yields one event. The last line ends it (heap after,
    capacity, its place in the log); the first gives the heap before and, when the lines are
    timed, the start."""
    if model.GC_ID not in events.columns:
        return events
    # one collection per GC id and kind: generational Shenandoah's old marking and its cleanup
    # are two lines (and rules) of one old cycle
    key = [model.RUN_ID, model.GC_ID, model.KIND]
    is_cycle = (pl.col(model.CATEGORY) == model.CONCURRENT) & pl.col(model.GC_ID).is_not_null()
    cycles = events.filter(is_cycle)
    if not cycles.height or cycles.height == cycles.select(key).unique().height:
        return events
    first = [c for c in (model.HEAP_BEFORE_BYTES,) if c in cycles.columns]
    aggregates = [pl.all().exclude(*key, *first).last(), *[pl.col(c).drop_nulls().first() for c in first]]
    if model.DURATION_MS in cycles.columns and model.UPTIME_S in cycles.columns:
        # timed lines: from the start of the first to the end of the last
        timed = pl.col(model.DURATION_MS).last().is_not_null()
        end_s = (pl.col(model.UPTIME_S) + pl.col(model.DURATION_MS) / 1000.0).last()
        starts = [c for c in (model.UPTIME_S, model.TIME) if c in cycles.columns]
        aggregates[0] = pl.all().exclude(*key, *first, model.DURATION_MS, *starts).last()
        aggregates += [pl.when(timed).then(pl.col(c).first()).otherwise(pl.col(c).last()).alias(c) for c in starts]
        aggregates.append(pl.when(timed).then((end_s - pl.col(model.UPTIME_S).first()) * 1000.0).alias(model.DURATION_MS))
    joined = cycles.sort(ORDER).group_by(key, maintain_order=True).agg(aggregates)
    return pl.concat([events.filter(~is_cycle), joined.select(cycles.columns)], how="vertical_relaxed")


def _attach_cycle_starts(events: pl.DataFrame, starts: pl.DataFrame) -> pl.DataFrame:
    """A concurrent cycle whose end line gives no duration (ZGC before JDK 21 prints
    "Garbage Collection (Warmup) 8M(12%)->4M(6%)" and nothing else) starts at its start line:
    the nearest `cycle_start` record of the same run and GC id before the end line."""
    if model.GC_ID not in events.columns or model.UPTIME_S not in events.columns:
        return events  # no GC ids, or no uptime decoration to measure with
    if not {model.GC_ID, "uptime_s"} <= set(starts.columns):
        return events
    if model.DURATION_MS not in events.columns:  # -Xlog:gc of ZGC: cycle lines only, none timed
        events = events.with_columns(pl.lit(None, dtype=pl.Float64).alias(model.DURATION_MS))
    starts = (
        starts.filter(pl.col(model.GC_ID).is_not_null() & pl.col("uptime_s").is_not_null())
        .select(model.RUN_ID, model.GC_ID, pl.col(ORDER).alias("_start_at"), pl.col("uptime_s").alias("_start_s"))
        .sort("_start_at")
    )
    open_cycles = (pl.col(model.CATEGORY) == model.CONCURRENT) & pl.col(model.DURATION_MS).is_null()
    ends = events.with_row_index("_row").filter(open_cycles & pl.col(model.GC_ID).is_not_null())
    if not ends.height or not starts.height:
        return events
    matched = ends.select("_row", model.RUN_ID, model.GC_ID, ORDER, model.UPTIME_S).sort(ORDER).join_asof(
        starts, left_on=ORDER, right_on="_start_at", by=[model.RUN_ID, model.GC_ID], strategy="backward",
        check_sortedness=False,  # both sorted by position above
    ).filter(pl.col("_start_s").is_not_null())
    duration_ms = ((pl.col(model.UPTIME_S) - pl.col("_start_s")) * 1000.0).clip(lower_bound=0.0)
    update = matched.select("_row", duration_ms.alias("_duration_ms"), pl.col("_start_s"))
    events = events.with_row_index("_row").join(update, on="_row", how="left")
    fill = [
        pl.coalesce(model.DURATION_MS, "_duration_ms").alias(model.DURATION_MS),
        pl.coalesce("_start_s", model.UPTIME_S).alias(model.UPTIME_S),
    ]
    if model.TIME in events.columns:
        shift = pl.duration(milliseconds=pl.col("_duration_ms").fill_null(0.0).round(0).cast(pl.Int64))
        fill.append((pl.col(model.TIME) - shift).alias(model.TIME))
    return events.with_columns(fill).drop("_row", "_duration_ms", "_start_s")


def _attach_announcements(events: pl.DataFrame, starts: pl.DataFrame) -> pl.DataFrame:
    """A `cycle_start` line with no GC id announces the next collection: Shenandoah prints
    "Trigger: Free (6418K) is below minimum threshold (6553K)" before the first line of the GC it
    starts. Its fields (the cause) fill what the events of the next GC id printed in its run
    leave null; when several lines announce one GC id, the nearest one counts."""
    if model.GC_ID not in events.columns:
        return events
    if model.GC_ID not in starts.columns:  # only lines without an id: every one announces
        starts = starts.with_columns(pl.lit(None, dtype=pl.Int64).alias(model.GC_ID))
    announced = starts.filter(pl.col(model.GC_ID).is_null())
    fields = [
        c for c in announced.columns
        if c not in _BOOKKEEPING and c != "_yields" and announced.get_column(c).null_count() < announced.height
    ]
    if not announced.height or not fields:
        return events
    # A GC id begins at its first line: a trigger printed while an earlier collection is still
    # logging (generational Shenandoah's old cycle) announces the next one, not that one.
    numbered = pl.concat([
        frame.filter(pl.col(model.GC_ID).is_not_null()).select(model.RUN_ID, pl.col(model.GC_ID).alias("_next_gc"), pl.col(ORDER).alias("_at"))
        for frame in (events, starts)
    ]).group_by(model.RUN_ID, "_next_gc").agg(pl.col("_at").min()).sort("_at")
    assigned = (
        announced.select(model.RUN_ID, ORDER, *fields).sort(ORDER)
        .join_asof(numbered, left_on=ORDER, right_on="_at", by=model.RUN_ID, strategy="forward", check_sortedness=False)
        .filter(pl.col("_next_gc").is_not_null())
        .group_by(model.RUN_ID, "_next_gc")
        .agg([pl.col(c).drop_nulls().last().alias(f"{c}_announced") for c in fields])
        .rename({"_next_gc": model.GC_ID})
    )
    events = events.join(assigned, on=[model.RUN_ID, model.GC_ID], how="left")
    return events.with_columns(
        [(pl.coalesce(c, f"{c}_announced") if c in events.columns else pl.col(f"{c}_announced")).alias(c) for c in fields]
    ).drop([f"{c}_announced" for c in fields])


def _name_safepoints(events: pl.DataFrame, starts: pl.DataFrame) -> pl.DataFrame:
    """JDK 9-12 name a safepoint's operation on the line it begins with ("Entering safepoint
    region: G1CollectForAllocation") and time it on the line it ends with: the end takes the
    name of the nearest begin line before it in its run (safepoints never overlap)."""
    if model.NAME not in starts.columns:
        return events
    begins = starts.select(model.RUN_ID, pl.col(ORDER).alias("_begin_at"), pl.col(model.NAME).alias("_begin_name"))
    unnamed = (pl.col(model.CATEGORY) == model.SAFEPOINT) & pl.col(model.NAME).is_null()
    ends = events.with_row_index("_row").filter(unnamed)
    if not ends.height:
        return events
    named = ends.select("_row", model.RUN_ID, ORDER).sort(ORDER).join_asof(
        begins.sort("_begin_at"), left_on=ORDER, right_on="_begin_at", by=model.RUN_ID,
        strategy="backward", check_sortedness=False,
    ).select("_row", "_begin_name")
    return (
        events.with_row_index("_row").join(named, on="_row", how="left")
        .with_columns(pl.coalesce(model.NAME, "_begin_name").alias(model.NAME))
        .drop("_row", "_begin_name")
    )


def _with_next_gc_id(attributes: pl.DataFrame, events: pl.DataFrame | None) -> pl.DataFrame:
    """An attribute line printed without a GC id (Serial's and Parallel's "Promotion failed",
    written while the young pause runs) belongs to the next GC id an event line of its run
    prints: that pause's summary line comes after it."""
    missing = model.GC_ID not in attributes.columns
    if events is None or model.GC_ID not in events.columns or (
            not missing and attributes.get_column(model.GC_ID).null_count() == 0):
        return attributes
    if missing:
        attributes = attributes.with_columns(pl.lit(None, dtype=pl.Int64).alias(model.GC_ID))
    anchors = events.filter(pl.col(model.GC_ID).is_not_null()).select(
        model.RUN_ID, pl.col(ORDER).alias("_at"), pl.col(model.GC_ID).alias("_next_gc")
    ).sort("_at")
    return (
        attributes.sort(ORDER)
        .join_asof(anchors, left_on=ORDER, right_on="_at", by=model.RUN_ID, strategy="forward",
                   check_sortedness=False)
        .with_columns(pl.coalesce(model.GC_ID, "_next_gc").alias(model.GC_ID))
        .drop("_at", "_next_gc")
    )


def _attach_attributes(events: pl.DataFrame, groups: list[pl.DataFrame]) -> pl.DataFrame:
    """Give each event the values of its attribute lines. The values are scattered into new
    columns by row position: a join would copy every column of the event table per group."""
    if model.GC_ID not in events.columns or events.height == 0:
        return events
    targets = events.filter(pl.col(model.GC_ID).is_not_null()).select(
        model.RUN_ID, model.GC_ID, pl.col(ORDER).alias("_target")
    ).sort("_target")
    at = targets.with_columns(pl.col("_target").alias("_at"))
    order = events.get_column(ORDER)
    by_order = order.arg_sort()
    sorted_order = order.gather(by_order)
    for attributes in groups:
        joined = _attribute_values(attributes, at)
        if joined is None:
            continue
        rows = by_order.gather(sorted_order.search_sorted(joined.get_column("_target")))
        columns = []
        for name in joined.columns:
            if name == "_target":
                continue
            values = joined.get_column(name)
            column = pl.Series(name, [None], dtype=values.dtype).extend_constant(None, events.height - 1)
            column = column.scatter(rows, values)
            # A value on the anchor line itself wins over one from an attribute line.
            columns.append(pl.coalesce(name, pl.lit(column)).alias(name) if name in events.columns else column)
        events = events.with_columns(columns)
    return events


def _attribute_values(attributes: pl.DataFrame, at: pl.DataFrame) -> pl.DataFrame | None:
    """One group's values per target event (its ORDER in `_target`), or None."""
    if model.GC_ID not in attributes.columns:
        return None
    value_columns = [
        c for c in attributes.columns
        if c not in _BOOKKEEPING and c != "_yields" and not attributes.get_column(c).is_null().all()
    ]
    if not value_columns:
        return None
    attributes = attributes.filter(pl.col(model.GC_ID).is_not_null()).sort(ORDER)
    # Most attribute lines come before their event's summary line: look forward first, and back
    # only for the few attributes no later event of their GC id claims. `attribute_after`
    # lines (CPU times) follow their event: back first.
    keys = attributes.select(ORDER, model.RUN_ID, model.GC_ID)

    def nearest(strategy: str) -> pl.Series:
        return keys.join_asof(
            at, left_on=ORDER, right_on="_at", by=[model.RUN_ID, model.GC_ID], strategy=strategy,
            check_sortedness=False,  # both sides are sorted by position above
        ).get_column("_target")

    forward, backward = nearest("forward"), nearest("backward")
    after = attributes.get_column("_yields") == "attribute_after"
    target = pl.select(
        pl.when(pl.lit(after)).then(pl.coalesce(pl.lit(backward), pl.lit(forward)))
        .otherwise(pl.coalesce(pl.lit(forward), pl.lit(backward)))
    ).to_series()
    return (
        attributes.select(value_columns)
        .with_columns(target.alias("_target"))
        .filter(pl.col("_target").is_not_null())
        .group_by("_target")
        .agg([pl.col(c).drop_nulls().first() for c in value_columns])
    )


def _first_values(frame: pl.DataFrame, keys: list[str]) -> dict:
    return frame.select([pl.col(k).drop_nulls().first() for k in keys]).row(0, named=True)


def _run_meta(events: pl.DataFrame | None, init: pl.DataFrame | None, set_name: str,
              files: list[str]) -> list[dict]:
    """Run metadata of each run in one window's records (see _merge_run for several windows)."""
    runs = []
    present = pl.concat([f.select(model.RUN_ID) for f in (events, init) if f is not None])
    for run_id in sorted(present.get_column(model.RUN_ID).unique().to_list()):
        meta: dict = {key: None for key in model.RUN_META_KEYS}
        meta[model.RUN_ID] = run_id
        meta["source_set"] = set_name
        parts = [f.filter(pl.col(model.RUN_ID) == run_id) for f in (events, init) if f is not None]
        parts = [p for p in parts if p.height]
        run_init = init.filter(pl.col(model.RUN_ID) == run_id) if init is not None else None
        if run_init is not None and run_init.height:
            keys = [k for k in model.RUN_META_KEYS if k in run_init.columns and k != model.RUN_ID]
            meta.update({k: v for k, v in _first_values(run_init, keys).items() if v is not None})
        meta["_rules"] = set(pl.concat([p.select(RULE) for p in parts]).get_column(RULE).unique().to_list())
        file_indexes = sorted(set(pl.concat([p.select(FILE_IDX) for p in parts]).get_column(FILE_IDX).to_list()))
        meta["files"] = [files[i] for i in file_indexes]
        uptimes = [p.get_column("uptime_s") for p in parts if "uptime_s" in p.columns]
        if uptimes:
            values = pl.concat(uptimes).drop_nulls()
            if values.len():
                meta["start_uptime_s"] = float(values.min())
                meta["end_uptime_s"] = float(values.max())
        times = [p.get_column("time") for p in parts if "time" in p.columns]
        if times:
            values = pl.concat(times).drop_nulls()
            if values.len():
                meta["start_time"] = values.min()  # a datetime until the run is finished
        runs.append(meta)
    return runs


def _merge_run(into: dict, later: dict) -> None:
    """Add a later window's metadata of a run to what the earlier windows gave."""
    if into is later:
        return
    for key, value in later.items():
        if value is None:
            continue
        if into.get(key) is None:  # start-up values: the first printed counts
            into[key] = value
        elif key == "_rules":
            into[key] |= value
        elif key == "files":
            into[key] = into[key] + [f for f in value if f not in into[key]]
        elif key in ("start_uptime_s", "start_time"):
            into[key] = min(into[key], value)
        elif key == "end_uptime_s":
            into[key] = max(into[key], value)


def _regions_to_bytes(events: pl.DataFrame, runs: list[dict]) -> pl.DataFrame:
    region_columns = [c for c in events.columns if c.endswith("_regions")]
    if not region_columns:
        return events
    sizes = {run[model.RUN_ID]: run.get("region_size_bytes") for run in runs}
    for run in runs:
        if sizes[run[model.RUN_ID]] is None:
            inferred = _infer_region_size(events.filter(pl.col(model.RUN_ID) == run[model.RUN_ID]))
            if inferred:
                sizes[run[model.RUN_ID]] = inferred
                run["region_size_bytes"] = inferred
                run["region_size_inferred"] = True
    size = pl.col(model.RUN_ID).replace_strict(
        {k: v for k, v in sizes.items() if v}, default=None, return_dtype=pl.Int64
    )
    exprs = []
    for column in region_columns:
        target = column.removesuffix("_regions") + "_bytes"
        in_bytes = pl.col(column) * size
        # runs of another collector in the same set (a restart) give the bytes themselves
        exprs.append((pl.coalesce(target, in_bytes) if target in events.columns else in_bytes).alias(target))
    return events.with_columns(exprs).drop(region_columns)


def _infer_region_size(events: pl.DataFrame) -> int | None:
    """Rotated files lack the start-up lines: infer G1's region size from heap after GC.

    Heap used after a young GC ≈ (survivor + old + humongous regions) × region size; the
    power of two (1-512 MB) closest to the median ratio is the region size.
    """
    parts = [c for c in REGION_INFERENCE_FIELDS if c in events.columns]
    if not parts or model.HEAP_AFTER_BYTES not in events.columns:
        return None
    ratio = events.select(
        (pl.col(model.HEAP_AFTER_BYTES) / pl.sum_horizontal(parts)).alias("r")
    ).filter(pl.col("r").is_finite()).get_column("r").drop_nulls()
    if not ratio.len():
        return None
    median = float(ratio.median())
    return min(_REGION_SIZES, key=lambda size: abs(size - median))


def _finish_run(run: dict, grammars: GrammarSet) -> None:
    """Name the collector as the grammars' tables say; fill what older JDKs do not print."""
    collector = run.get("collector")
    if collector:
        for wording, name in grammars.by_name("common").kinds.get("collector", ()):
            if collector.startswith(wording):
                collector = name
                break
    rules = run.pop("_rules", set())
    if collector is None:
        families = {grammars.rule(name).grammar for name in rules} - {"common"}
        if len(families) == 1:
            collector = grammars.by_name(families.pop()).collectors[0]
    run["collector"] = collector
    if run.get("heap_max_bytes") is None and run.get("heap_reserved_bytes") is not None:
        run["heap_max_bytes"] = run["heap_reserved_bytes"]
