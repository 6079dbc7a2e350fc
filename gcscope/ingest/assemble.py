"""From line records to events: runs, GC-id assembly, units, kinds and run metadata.

Records arrive per rule (see engine.py). A GC is many lines sharing `GC(n)`: the line that
yields an event (a pause summary, a cycle's end) is its anchor, and every attribute line
(generations, metaspace, CPU…) joins the event of the same run and GC id that follows it, or
the one before it when none follows. Nothing here knows a collector: kinds and units come
from the grammars.
"""

from __future__ import annotations

import polars as pl

from gcscope import model
from gcscope.grammar.compile import GrammarSet
from gcscope.ingest.engine import LINE_NO, RULE

EVENT_RECORDS = {
    "pause": model.PAUSE,
    "concurrent": model.CONCURRENT,
    "stall": model.STALL,
    "safepoint": model.SAFEPOINT,
    "heap_sample": model.HEAP_SAMPLE,
}
ORDER = "_order"  # position of a record in the run's line order
FILE_IDX = "_file_idx"
RESTART_TOLERANCE_S = 1.0  # threads log slightly out of order; a real restart goes back far more
_REGION_SIZES = [2**k for k in range(20, 30)]  # G1: 1 MB … 512 MB


def _rule_table(grammars: GrammarSet) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_priority": list(range(len(grammars.rules))),
            RULE: [r.name for r in grammars.rules],
            "_yields": [r.yields for r in grammars.rules],
            "_grammar": [r.grammar for r in grammars.rules],
        }
    )


def assemble(records: pl.DataFrame, grammars: GrammarSet, set_name: str,
             first_run_id: int) -> tuple[pl.DataFrame, list[dict]]:
    """Turn one rotated set's records (files already in time order) into events and runs.

    `records` holds RULE, LINE_NO, FILE_IDX, model.SOURCE_FILE, uptime_s, time and the fields.
    """
    if records.height == 0:
        return model.empty_events(), []
    records = (
        records.join(_rule_table(grammars), on=RULE, how="left")
        .sort(FILE_IDX, LINE_NO, "_priority")
        # When two active grammars read the same line (e.g. Parallel and Serial pause lines in
        # a file that names neither collector), the first rule in priority order keeps it.
        .unique(subset=[FILE_IDX, LINE_NO], keep="first", maintain_order=True)
        .with_row_index(ORDER)
    )
    records = _split_runs(records, first_run_id)
    events = _events(records, grammars)
    events = _attach_attributes(events, records)
    runs = _run_meta(records, set_name)
    events = _regions_to_bytes(events, runs)
    events = events.sort(model.RUN_ID, ORDER).drop(ORDER)
    for run in runs:
        _finish_run(run, grammars)
    return model.conform_events(events), runs


def _split_runs(records: pl.DataFrame, first_run_id: int) -> pl.DataFrame:
    """A JVM start line ("Using G1") after collections, or uptime going back, starts a new run.

    Start-up lines printed before "Using …" (gc+heap=debug sizing) stay in the run they open.
    """
    is_event = pl.col("_yields").is_in(list(EVENT_RECORDS))
    is_start = pl.col(RULE) == "using_collector"
    events_so_far = is_event.cast(pl.UInt32).cum_sum()
    # events seen before the previous start line (or before the file began)
    events_at_previous_start = (
        pl.when(is_start).then(events_so_far).otherwise(None).forward_fill().shift(1).fill_null(0)
    )
    breaks = is_start & (events_so_far > events_at_previous_start)
    if "uptime_s" in records.columns:
        previous = pl.col("uptime_s").forward_fill().shift(1)
        breaks = breaks | (pl.col("uptime_s") < previous - RESTART_TOLERANCE_S)
    return records.with_columns(
        (pl.lit(first_run_id) + breaks.fill_null(False).cum_sum()).cast(pl.UInt32).alias(model.RUN_ID)
    )


def _kind_expr(grammars: GrammarSet) -> pl.Expr:
    expr = None
    for grammar in grammars.grammars:
        for prefix, value in grammar.kinds.get("name", ()):
            condition = (pl.col("_grammar") == grammar.name) & pl.col(model.NAME).str.starts_with(prefix)
            expr = pl.when(condition).then(pl.lit(value)) if expr is None else expr.when(condition).then(pl.lit(value))
    if expr is None:
        return pl.lit(None, dtype=pl.String)
    return expr.otherwise(pl.when(pl.col("_yields") == "pause").then(pl.lit("other")))


def _events(records: pl.DataFrame, grammars: GrammarSet) -> pl.DataFrame:
    events = records.filter(pl.col("_yields").is_in(list(EVENT_RECORDS)))
    if model.NAME not in events.columns:
        events = events.with_columns(pl.lit(None, dtype=pl.String).alias(model.NAME))
    duration_s = (
        pl.col(model.DURATION_MS).fill_null(0.0) / 1000.0
        if model.DURATION_MS in events.columns
        else pl.lit(0.0)
    )
    exprs = [
        pl.col(LINE_NO).alias(model.SOURCE_LINE),
        pl.col("_yields").replace_strict(EVENT_RECORDS, default=None).alias(model.CATEGORY),
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


def _attach_attributes(events: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    attributes = records.filter(pl.col("_yields") == "attribute")
    if attributes.height == 0 or events.height == 0 or model.GC_ID not in events.columns:
        return events
    bookkeeping = {ORDER, RULE, LINE_NO, FILE_IDX, model.SOURCE_FILE, model.RUN_ID, model.GC_ID,
                   "uptime_s", "time", "_yields", "_grammar"}
    value_columns = [
        c for c in attributes.columns
        if c not in bookkeeping and not attributes.get_column(c).is_null().all()
    ]
    if not value_columns:
        return events
    targets = events.filter(pl.col(model.GC_ID).is_not_null()).select(
        model.RUN_ID, model.GC_ID, pl.col(ORDER).alias("_target")
    ).sort("_target")
    attributes = attributes.filter(pl.col(model.GC_ID).is_not_null()).sort(ORDER)
    keyed = []
    for strategy in ("forward", "backward"):
        keyed.append(
            attributes.join_asof(
                targets.with_columns(pl.col("_target").alias("_at")),
                left_on=ORDER, right_on="_at", by=[model.RUN_ID, model.GC_ID], strategy=strategy,
                check_sortedness=False,  # both sides are sorted by ORDER above
            ).select(ORDER, "_target")
        )
    chosen = keyed[0].join(keyed[1], on=ORDER, suffix="_before").select(
        ORDER, pl.coalesce("_target", "_target_before").alias("_target")
    )
    joined = (
        attributes.join(chosen, on=ORDER)
        .filter(pl.col("_target").is_not_null())
        .group_by("_target")
        .agg([pl.col(c).drop_nulls().first() for c in value_columns])
    )
    events = events.join(joined, left_on=ORDER, right_on="_target", how="left", suffix="_attr")
    # A value on the anchor line itself wins over one from an attribute line.
    merged = [
        pl.coalesce(c, f"{c}_attr").alias(c) for c in value_columns if f"{c}_attr" in events.columns
    ]
    return events.with_columns(merged).drop([f"{c}_attr" for c in value_columns if f"{c}_attr" in events.columns])


def _run_meta(records: pl.DataFrame, set_name: str) -> list[dict]:
    init_columns = [
        key for key in model.RUN_META_KEYS
        if key in records.columns and key not in (model.RUN_ID,)
    ]
    runs = []
    for (run_id,), run_records in records.group_by(model.RUN_ID, maintain_order=True):
        meta: dict = {key: None for key in model.RUN_META_KEYS}
        meta[model.RUN_ID] = int(run_id)
        meta["source_set"] = set_name
        init = run_records.filter(pl.col("_yields") == "init")
        for key in init_columns:
            values = init.get_column(key).drop_nulls()
            if values.len():
                meta[key] = values.item(0)
        grammars_seen = run_records.filter(pl.col("_grammar") != "common").get_column("_grammar").unique(maintain_order=True)
        meta["_grammars"] = grammars_seen.to_list()
        meta["files"] = run_records.get_column(model.SOURCE_FILE).unique(maintain_order=True).to_list()
        if "uptime_s" in run_records.columns:
            uptimes = run_records.get_column("uptime_s").drop_nulls()
            if uptimes.len():
                meta["start_uptime_s"] = float(uptimes.min())
                meta["end_uptime_s"] = float(uptimes.max())
        if "time" in run_records.columns:
            times = run_records.get_column("time").drop_nulls()
            if times.len():
                meta["start_time"] = times.min().isoformat()
        runs.append(meta)
    return runs


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
    exprs = [(pl.col(c) * size).alias(c.removesuffix("_regions") + "_bytes") for c in region_columns]
    return events.with_columns(exprs).drop(region_columns)


def _infer_region_size(events: pl.DataFrame) -> int | None:
    """Rotated files lack the start-up lines: infer G1's region size from heap after GC.

    Heap used after a young GC ≈ (survivor + old + humongous regions) × region size; the
    power of two (1-512 MB) closest to the median ratio is the region size.
    """
    parts = [c for c in ("survivor_after_regions", "old_after_regions", "humongous_after_regions") if c in events.columns]
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
    grammars_seen = run.pop("_grammars", [])
    if collector is None and len(grammars_seen) == 1:
        collector = grammars.by_name(grammars_seen[0]).collectors[0]
    run["collector"] = collector
    if run.get("heap_max_bytes") is None and run.get("heap_reserved_bytes") is not None:
        run["heap_max_bytes"] = run["heap_reserved_bytes"]
