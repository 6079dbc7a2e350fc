"""The rules: one small function per catalogue entry, turning a run's events into findings.

The text of every rule (title, severity, thresholds, explanation, advice) is data in
`gcscope/rules/catalogue.toml`; here is only the logic. A rule function gets a `RunContext`
(one run: its events, run meta and leak verdict) and its parameters (thresholds in force) and
returns zero or more `Hit`s; `evaluate` turns hits into findings with the catalogue's title and
the configured severity. Findings are plain dicts, in the JSON contract's shape:

    {"id": "GCS004", "severity": "warning", "title": "...", "message": "...",
     "evidence": {"run_id": 0, "start_uptime_s": .., "end_uptime_s": .., "values": {..},
                  "thresholds": {..}, "lines": ["gc.log:120", ...]}}

Adding a rule: a catalogue entry, a function here registered with `@rule("GCSnnn")`, and a
test that fires it and one that does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from gcscope.analysis import metrics
from gcscope.analysis.leak import baseline_kinds_expr, heap_max_of, leak_verdict, requested_expr
from gcscope.analysis.texts import contains_any
from gcscope.analysis.trend import theil_sen
from gcscope.config import Config, catalogue, default_config, severity_rank
from gcscope.model import (
    CATEGORY,
    CONCURRENT,
    DURATION_MS,
    FAILURE,
    GC_ID,
    HEAP_AFTER_BYTES,
    HEAP_COMMITTED_BYTES,
    KIND,
    METASPACE_AFTER_BYTES,
    OLD_AFTER_BYTES,
    PAUSE,
    RUN_ID,
    SOURCE_FILE,
    SOURCE_LINE,
    UPTIME_S,
    gen_col,
)
from gcscope.units import duration_text

EXAMPLE_LINES = 5
HUMONGOUS_AFTER_BYTES = gen_col("humongous", "after_bytes")
HUMONGOUS_BEFORE_BYTES = gen_col("humongous", "before_bytes")
_END = "_end_s"  # when an event ended: after-GC figures belong there


@dataclass
class RunContext:
    """What the rules see of one run."""

    run_id: int
    events: pl.DataFrame  # EVENT_SCHEMA rows of this run
    meta: Mapping[str, Any]  # RUN_META_KEYS
    leak: Mapping[str, Any] | None = None  # this run's leak verdict
    start_s: float | None = None
    end_s: float | None = None


@dataclass
class Hit:
    """A rule fired: the message and the evidence (time range, values, example lines)."""

    message: str
    start_s: float | None = None
    end_s: float | None = None
    values: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    severity: str | None = None  # overrides the rule's severity (GCS001: suspected = warning)


RuleFunc = Callable[[RunContext, Mapping[str, Any]], list[Hit]]
RULES: dict[str, RuleFunc] = {}


def rule(rule_id: str) -> Callable[[RuleFunc], RuleFunc]:
    def register(func: RuleFunc) -> RuleFunc:
        RULES[rule_id] = func
        return func

    return register


# --- helpers -------------------------------------------------------------------------------------


def _num(value: Any, digits: int = 3) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _with_end(events: pl.DataFrame) -> pl.DataFrame:
    return events.with_columns(
        metrics.end_expr().alias(_END)
    )


def example_lines(frame: pl.DataFrame, limit: int = EXAMPLE_LINES) -> list[str]:
    """file:line of the first `limit` rows of `frame` (order the frame as you want them)."""
    if frame.height == 0:
        return []
    head = frame.select(SOURCE_FILE, SOURCE_LINE).head(limit)
    return [
        f"{file}:{line}" if line is not None else str(file)
        for file, line in head.iter_rows()
        if file is not None
    ]


def _span(frame: pl.DataFrame, column: str = UPTIME_S) -> tuple[float | None, float | None]:
    if frame.height == 0:
        return None, None
    return _num(frame[column].min()), _num(frame[column].max())


def matching(events: pl.DataFrame, match: Mapping[str, Iterable[str]]) -> pl.DataFrame:
    """Rows matching a catalogue `match` table: `category`/`kind` exactly, text columns
    (`name`, `cause`, `failure`) by case-insensitive substring; any column may match."""
    conditions = []
    for column, values in match.items():
        values = list(values)
        if column in (CATEGORY, KIND):
            conditions.append(pl.col(column).is_in(values))
        else:
            conditions.append(contains_any(events, column, values))
    if not conditions:
        return events.clear()
    return events.filter(pl.any_horizontal(conditions).fill_null(False)).sort(UPTIME_S)


def _count_rule(
    ctx: RunContext,
    params: Mapping[str, Any],
    rule_id: str,
    what: str,
    found: pl.DataFrame | None = None,
    values: dict[str, Any] | None = None,
) -> list[Hit]:
    """Shared body of the event-type rules: count the matching events of the run (or `found`)."""
    if found is None:
        found = matching(ctx.events, catalogue().rules[rule_id].match)
    if found.height < max(1, int(params["min_count"])):
        return []
    start, end = _span(found)
    values = {"count": found.height, **(values or {})}
    durations = found[DURATION_MS].drop_nulls()
    if durations.len():
        values["total_ms"] = _num(durations.sum())
        values["max_ms"] = _num(durations.max())
    detail = f", {values['total_ms']:.0f} ms in total" if "total_ms" in values else ""
    return [
        Hit(
            f"{found.height} {what}{detail}, from {start:.1f} s to {end:.1f} s",
            start,
            end,
            values,
            example_lines(found),
        )
    ]


# --- the rules -----------------------------------------------------------------------------------


@rule("GCS001")
def memory_leak(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    leak = ctx.leak
    if not leak or leak.get("verdict") not in ("leak", "suspected"):
        return []
    evidence = leak.get("evidence") or {}
    eta = leak.get("oom_eta_s")
    if eta is None:
        when = ""
    elif eta < 1:
        when = "; the heap is already full"
    else:
        when = f"; at this rate the heap is full in about {duration_text(eta)}"
    verdict = "" if leak["verdict"] == "leak" else "Suspected (not conclusive): "
    return [
        Hit(
            f"{verdict}{leak.get('reason')}{when}",
            evidence.get("start_uptime_s"),
            evidence.get("end_uptime_s"),
            {
                "verdict": leak["verdict"],
                "shape": leak.get("shape"),
                # the verdict's own figures, unrounded: one value for one fact in the JSON
                "slope_pct_per_hour": leak.get("slope_pct_per_hour"),
                "oom_eta_s": eta,
                "points": leak.get("points"),
                "floor_start_pct": evidence.get("floor_start_pct"),
                "floor_end_pct": evidence.get("floor_end_pct"),
            },
            list(evidence.get("lines") or []),
            severity=None if leak["verdict"] == "leak" else "warning",
        )
    ]


@rule("GCS002")
def old_gen_full_after_gc(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    threshold = float(params["saturation_pct"])
    events = _with_end(ctx.events).filter(
        baseline_kinds_expr().fill_null(False) & pl.col(UPTIME_S).is_not_null()
    )
    # Same definition as metrics.old_gen_saturation_series, restricted to old collections
    # (after a young GC the old generation also holds garbage no one tried to reclaim).
    basis = metrics.old_gen_basis(events, dict(ctx.meta)) if events.height else None
    heap_max = ctx.meta.get("heap_max_bytes")
    if basis is None and events.height and events[OLD_AFTER_BYTES].null_count() == events.height:
        # A single-space heap whose maximum the log does not state: the leak verdict's estimate.
        heap_max, _ = heap_max_of(ctx.events, ctx.meta)
        basis = "heap_after/heap_max" if heap_max else None
    if basis is None:
        return []
    pct = metrics.saturation_fraction(basis, heap_max)
    what = metrics.SATURATION_BASES[basis]
    measured = events.with_columns((pct * 100.0).alias("_pct")).filter(pl.col("_pct").is_not_null())
    above = measured.filter(pl.col("_pct") > threshold)
    if above.height == 0:
        return []
    worst = above.sort("_pct", descending=True)
    start, end = _span(above, _END)
    return [
        Hit(
            f"{above.height} of {measured.height} old-generation collections left it above"
            f" {threshold:g} % of {what} (highest {worst['_pct'][0]:.0f} %, last"
            f" {measured['_pct'][-1]:.0f} %)",
            start,
            end,
            {
                "collections_above": above.height,
                "collections": measured.height,
                "max_pct": _num(worst["_pct"][0], 1),
                "last_pct": _num(measured["_pct"][-1], 1),
                "basis": what,
            },
            example_lines(worst),
        )
    ]


@rule("GCS003")
def frequent_full_gcs(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    limit = int(params["max_per_window"])
    window_s = float(params["window_s"])
    full = (
        ctx.events.filter((pl.col(CATEGORY) == PAUSE) & (pl.col(KIND) == "full"))
        .filter(pl.col(UPTIME_S).is_not_null())
        .sort(UPTIME_S)
    )
    if full.height <= limit:
        return []
    times = full[UPTIME_S]
    ends = times.search_sorted(times + window_s, side="left").cast(pl.Int64)
    counts = ends - pl.int_range(0, times.len(), eager=True)
    first = int(counts.arg_max())  # type: ignore[arg-type]
    most = int(counts[first])
    if most <= limit:
        return []
    in_window = full.slice(first, most)
    start, end = _span(in_window)
    return [
        Hit(
            f"{most} full GCs within {window_s:g} s (from {start:.1f} s to {end:.1f} s; more"
            f" than {limit} is too many); {full.height} in the whole run",
            start,
            end,
            {"max_in_window": most, "count": full.height, "window_s": window_s},
            example_lines(in_window),
        )
    ]


@rule("GCS004")
def long_pause(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    limit = float(params["pause_ms"])
    long = ctx.events.filter((pl.col(CATEGORY) == PAUSE) & (pl.col(DURATION_MS) > limit))
    if long.height == 0:
        return []
    longest = long.sort(DURATION_MS, descending=True)
    start, end = _span(long)
    top = longest.row(0, named=True)
    return [
        Hit(
            f"{long.height} pause(s) longer than {limit:g} ms; the longest"
            f" {top[DURATION_MS]:.0f} ms ({top[KIND] or 'pause'}, at {top[UPTIME_S]:.1f} s)",
            start,
            end,
            {
                "count": long.height,
                "max_ms": _num(top[DURATION_MS]),
                "max_kind": top[KIND],
                "total_ms": _num(long[DURATION_MS].sum()),
            },
            example_lines(longest),
        )
    ]


@rule("GCS005")
def heap_full_of_committed(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    limit = float(params["used_pct"])
    sustained_s = float(params["sustained_s"])
    kept = (
        pl.col(HEAP_AFTER_BYTES).is_not_null()
        & (pl.col(HEAP_COMMITTED_BYTES) > 0)
        & pl.col(UPTIME_S).is_not_null()
    )
    end = metrics.end_expr()
    pct = pl.col(HEAP_AFTER_BYTES) / pl.col(HEAP_COMMITTED_BYTES) * 100.0
    # Two numbers a GC: the streaks are found first, the example lines of the longest after.
    frame = ctx.events.lazy().filter(kept).select(end.alias(_END), pct.alias("_pct")).sort(_END).collect()
    if frame.height == 0:
        return []
    stop = max(ctx.end_s or 0.0, float(frame[_END][-1]))
    # Occupancy after a GC holds until the next GC: a streak of GCs above the limit lasts from
    # its first GC to the first GC below it (or the end of the run).
    frame = frame.with_columns(
        (pl.col("_pct") > limit).alias("_above"),
        pl.col(_END).shift(-1).fill_null(stop).alias("_next"),
    ).with_columns(
        (pl.col("_above") != pl.col("_above").shift(1)).fill_null(True).cum_sum().alias("_streak")
    )
    streaks = (
        frame.filter(pl.col("_above"))
        .group_by("_streak")
        .agg(
            pl.col(_END).first().alias("start"),
            pl.col(_END).last().alias("_last_gc_end"),
            pl.col("_next").last().alias("end"),
            pl.col("_pct").max().alias("max_pct"),
            pl.len().alias("gcs"),
        )
        .with_columns((pl.col("end") - pl.col("start")).alias("duration_s"))
        .sort("duration_s", descending=True)
    )
    if streaks.height == 0 or streaks["duration_s"][0] < sustained_s:
        return []
    best = streaks.row(0, named=True)
    del frame
    rows = (
        ctx.events.lazy()
        .filter(kept & (pct > limit) & end.is_between(best["start"], best["_last_gc_end"]))
        .select(SOURCE_FILE, SOURCE_LINE, end.alias(_END))
        .sort(_END)
        .collect()
    )
    return [
        Hit(
            f"heap after GC stayed above {limit:g} % of the committed heap for"
            f" {best['duration_s']:.0f} s ({best['gcs']} collections, up to"
            f" {best['max_pct']:.0f} %)",
            _num(best["start"]),
            _num(best["end"]),
            {
                "duration_s": _num(best["duration_s"], 1),
                "collections": best["gcs"],
                "max_pct": _num(best["max_pct"], 1),
            },
            example_lines(rows),
        )
    ]


@rule("GCS006")
def gc_overhead(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    limit = float(params["gc_time_pct"])
    window_s = float(params["window_s"])
    if ctx.start_s is None or ctx.end_s is None or not ctx.end_s > ctx.start_s:
        return []
    tp = metrics.throughput(ctx.events, ctx.start_s, ctx.end_s, window_s=window_s)
    if tp["worst_pct"] is not None:
        gc_pct = 100.0 - tp["worst_pct"]
        start = tp["worst_start_s"]
        end = start + window_s
        where = f"in the {window_s:g} s from {start:.0f} s"
    elif tp["throughput_pct"] is not None:  # the run is shorter than one window: all of it
        gc_pct = 100.0 - tp["throughput_pct"]
        start, end = ctx.start_s, ctx.end_s
        where = f"over the whole run ({end - start:.0f} s, shorter than {window_s:g} s)"
    else:
        return []
    if gc_pct <= limit:
        return []
    pauses = ctx.events.filter(
        (pl.col(CATEGORY) == PAUSE) & pl.col(UPTIME_S).is_between(start, end)
    ).sort(DURATION_MS, descending=True)
    return [
        Hit(
            f"pauses took {gc_pct:.1f} % of the wall time {where} (limit {limit:g} %)",
            _num(start),
            _num(end),
            {
                "gc_time_pct": _num(gc_pct, 2),
                "window_s": _num(min(window_s, ctx.end_s - ctx.start_s)),
                "pauses": pauses.height,
                "throughput_pct": _num(tp["throughput_pct"], 2),
            },
            example_lines(pauses),
        )
    ]


@rule("GCS007")
def metaspace_growth(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    frame = (
        _with_end(
            ctx.events.select(
                SOURCE_FILE, SOURCE_LINE, UPTIME_S, DURATION_MS, METASPACE_AFTER_BYTES
            )
        )
        .filter(pl.col(METASPACE_AFTER_BYTES).is_not_null() & pl.col(UPTIME_S).is_not_null())
        .sort(_END)
    )
    if frame.height == 0 or ctx.start_s is None or ctx.end_s is None:
        return []
    warmup_end = ctx.start_s + float(params["warmup_pct"]) / 100.0 * (ctx.end_s - ctx.start_s)
    frame = frame.filter(pl.col(_END) >= warmup_end)
    if frame.height < max(3, int(params["min_points"])):
        return []
    t = frame[_END].to_numpy()
    y = frame[METASPACE_AFTER_BYTES].to_numpy().astype(float)
    if t[-1] <= t[0]:
        return []
    fit = theil_sen(t, y)
    first, last = float(fit.predict([t[0]])[0]), float(fit.predict([t[-1]])[0])
    if first <= 0:
        return []
    growth = (last - first) / first * 100.0
    significant = fit.p_value < float(params["max_p_value"]) and fit.slope_low > 0
    if not (significant and growth > float(params["growth_pct"])):
        return []
    mb = 1024 * 1024
    return [
        Hit(
            f"metaspace after GC grew {growth:.0f} % after warm-up, from {first / mb:.1f} MB to"
            f" {last / mb:.1f} MB in {t[-1] - t[0]:.0f} s ({fit.slope * 3600 / mb:.1f} MB/h,"
            f" p = {fit.p_value:.2g})",
            _num(t[0]),
            _num(t[-1]),
            {
                "growth_pct": _num(growth, 1),
                "first_bytes": int(first),
                "last_bytes": int(last),
                "slope_bytes_per_hour": _num(fit.slope * 3600, 0),
                "points": int(t.size),
            },
            example_lines(frame[np.unique(np.linspace(0, frame.height - 1, 5).astype(int))]),
        )
    ]


@rule("GCS008")
def humongous_allocations(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    caused = matching(ctx.events, catalogue().rules["GCS008"].match)
    heap_max, _ = heap_max_of(ctx.events, ctx.meta)
    peak_pct = None
    peak = ctx.events[HUMONGOUS_BEFORE_BYTES].max()
    if heap_max and peak is not None:
        peak_pct = float(peak) / heap_max * 100.0  # type: ignore[arg-type]
    by_count = caused.height >= max(1, int(params["min_gcs"]))
    by_size = peak_pct is not None and peak_pct > float(params["heap_pct"])
    if not (by_count or by_size):
        return []
    big = ctx.events.filter(pl.col(HUMONGOUS_BEFORE_BYTES) > 0).sort(UPTIME_S)
    shown = caused if caused.height else big.sort(HUMONGOUS_BEFORE_BYTES, descending=True)
    start, end = _span(caused if caused.height else big)
    parts = []
    if caused.height:
        parts.append(f"{caused.height} collection(s) caused by humongous allocations")
    if peak_pct is not None and peak_pct > 0:
        parts.append(f"humongous regions held up to {peak_pct:.0f} % of max heap before a GC")
    return [
        Hit(
            "; ".join(parts),
            start,
            end,
            {"gcs_caused": caused.height, "max_humongous_pct": _num(peak_pct, 1)},
            example_lines(shown),
        )
    ]


@rule("GCS009")
def evacuation_failure(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    found = matching(ctx.events, catalogue().rules["GCS009"].match)
    named = found.group_by(FAILURE).len().sort(["len", FAILURE], descending=[True, False])
    failures = {str(f): int(n) for f, n in named.iter_rows()}
    what = ", ".join(f"{f} ×{n}" for f, n in failures.items())
    return _count_rule(
        ctx,
        params,
        "GCS009",
        f"collection(s) with an evacuation or promotion failure ({what})",
        found,
        {"failures": failures},
    )


@rule("GCS010")
def allocation_stalls(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    return _count_rule(ctx, params, "GCS010", "allocation stall(s)")


@rule("GCS011")
def degenerated_gcs(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    return _count_rule(ctx, params, "GCS011", "degenerated GC(s)")


def full_gcs_in_open_cycles(events: pl.DataFrame) -> pl.DataFrame:
    """Full GCs that took over from a concurrent cycle still running: the latest initial-mark
    pause before the full GC opened a cycle that had not ended by then (no `concurrent` event
    of its GC id ending earlier; CMS prints none for a cycle a full GC abandons). That is how
    HotSpot defines a concurrent mode failure, which CMS logs only at gc=debug ("GC(51)
    Concurrent mode failure"). Full GCs with a requested cause (leak.REQUESTED_CAUSES:
    System.gc(), jcmd GC.run, a heap dump...) are interruptions, not failures. At most one per
    cycle."""
    # lazily: each filter fused with its projection, the table never copied whole
    timed = events.lazy().filter(pl.col(UPTIME_S).is_not_null() & pl.col(GC_ID).is_not_null())
    marks = (timed.filter((pl.col(CATEGORY) == PAUSE) & (pl.col(KIND) == "initial_mark"))
             .select(GC_ID, UPTIME_S).collect())
    if marks.height == 0:
        return events.clear()
    ends = (
        timed.filter(pl.col(CATEGORY) == CONCURRENT)
        .group_by(GC_ID)
        .agg(metrics.end_expr().max().alias("_cycle_end_s"))
        .collect()
    )
    cycles = (
        marks.select(pl.col(GC_ID).alias("_cycle"), pl.col(UPTIME_S).alias("_mark_s"))
        .join(ends.rename({GC_ID: "_cycle"}), on="_cycle", how="left")
        .sort("_mark_s")
    )
    fulls = timed.filter((pl.col(CATEGORY) == PAUSE) & (pl.col(KIND) == "full") & ~requested_expr(events)).collect()
    if fulls.height == 0:
        return events.clear()
    taken_over = (
        fulls.sort(UPTIME_S)
        .join_asof(cycles, left_on=UPTIME_S, right_on="_mark_s", strategy="backward")
        .filter(
            pl.col("_cycle").is_not_null()
            & (pl.col("_cycle_end_s").is_null() | (pl.col("_cycle_end_s") > pl.col(UPTIME_S)))
        )
        .unique("_cycle", keep="first", maintain_order=True)
    )
    return taken_over.select(events.columns)


@rule("GCS012")
def concurrent_mode_failure(ctx: RunContext, params: Mapping[str, Any]) -> list[Hit]:
    named = matching(ctx.events, catalogue().rules["GCS012"].match)
    inferred = full_gcs_in_open_cycles(ctx.events)
    key = [SOURCE_FILE, SOURCE_LINE, UPTIME_S]
    unnamed = inferred.join(named.select(key), on=key, how="anti", nulls_equal=True)
    found = pl.concat([named, unnamed]).sort(UPTIME_S)
    values = {"taken_over_from_cycle": inferred.height} if inferred.height else {}
    # G1 users know the event as a marking abort and a full GC, not by the CMS term
    what = ("full GC(s) while concurrent marking ran (concurrent mode failure)"
            if ctx.meta.get("collector") == "G1" else "concurrent mode failure(s)")
    return _count_rule(ctx, params, "GCS012", what, found, values)


# --- running them --------------------------------------------------------------------------------


def evaluate(contexts: Iterable[RunContext], config: Config | None = None) -> list[dict[str, Any]]:
    """Every enabled rule on every run: the findings, most severe first, then by rule ID."""
    config = config or default_config()
    specs = catalogue().rules
    findings = []
    for ctx in contexts:
        for rule_id, func in RULES.items():
            settings = config.rules[rule_id]
            if not settings.enabled:
                continue
            for hit in func(ctx, settings.params):
                severity = settings.severity
                if hit.severity is not None and severity_rank(hit.severity) < severity_rank(
                    severity
                ):
                    severity = hit.severity  # e.g. a suspected leak is at most a warning
                findings.append(
                    {
                        "id": rule_id,
                        "severity": severity,
                        "title": specs[rule_id].title,
                        "message": hit.message,
                        "evidence": {
                            RUN_ID: ctx.run_id,
                            "start_uptime_s": _num(hit.start_s),
                            "end_uptime_s": _num(hit.end_s),
                            "values": hit.values,
                            "thresholds": dict(settings.params),
                            "lines": hit.lines[:EXAMPLE_LINES],
                        },
                    }
                )
    findings.sort(key=lambda f: (-severity_rank(f["severity"]), f["id"], f["evidence"][RUN_ID]))
    return findings


def run_context(
    run_id: int, events: pl.DataFrame, meta: Mapping[str, Any], config: Config | None = None
) -> RunContext:
    """A run's context with its leak verdict computed (GCS001's parameters)."""
    config = config or default_config()
    start, end = metrics.run_span(events, dict(meta))
    leak = leak_verdict(events, meta, config.params("GCS001"), run_end_s=end)
    return RunContext(run_id, events, meta, leak, start, end)


def apply_rules(
    result: Any, events: pl.DataFrame, runs_meta: list, config: Config | None = None
) -> None:
    """Set `leak` on each RunResult of `result` and fill `result.findings`.

    `events` is the whole event table (all runs); `runs_meta` the ingest's run list, in the
    same order as `result.runs`. The thresholds in force go to `result.extra["config"]`, so a
    saved result says what it was held to.
    """
    from gcscope.model import empty_events

    config = config or default_config()
    if len(runs_meta) == 1:  # the common case: no copy of the table
        by_run = {runs_meta[0].get(RUN_ID, 0): events}
    else:
        by_run = {key[0]: frame for key, frame in events.partition_by(RUN_ID, as_dict=True).items()}
    contexts = []
    for index, (run, meta) in enumerate(zip(result.runs, runs_meta, strict=True)):
        run_id = meta.get(RUN_ID, index)
        ctx = run_context(int(run_id), by_run.get(run_id, empty_events()), meta, config)
        run.leak = dict(ctx.leak or {})
        contexts.append(ctx)
    result.findings = evaluate(contexts, config)
    result.extra["config"] = config.to_dict()
    # The long-pause line of the charts (gcscope.report.data.pause_threshold_ms).
    result.extra["thresholds"] = {"pause_threshold_ms": config.threshold("GCS004", "pause_ms")}
