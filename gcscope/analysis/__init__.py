"""Analysis: metrics of each JVM run, the leak verdict and the rules, as one `AnalysisResult`.

    result = analyze_logs(["gc.log"])             # read the logs, then analyse
    result = analyze_ingested(ingest_result)      # analyse what gcscope.ingest already read
    print(result.to_json())

Metric options (keyword arguments, all optional):
    window_s                  the sliding window of the "worst 5 minutes" figures (300)
    saturation_threshold_pct  the Old Gen saturation threshold timed in old_gen (80)
    series_buckets            resolution of the heap-after-GC series in the JSON (250)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gcscope.analysis.result import AnalysisResult, ParseSummary, RunResult

__all__ = ["METRIC_OPTIONS", "AnalysisResult", "RunResult", "analyze_ingested", "analyze_logs"]

METRIC_OPTIONS = ("window_s", "saturation_threshold_pct", "series_buckets")


# The event columns that the metrics, rules, leak verdict and reports read. Ingestion skips the
# grammar rules that yield only other columns (per-GC CPU time, eden occupancy): ~10 % of the
# read, and leaves the other columns null (survivor occupancy, read for G1's region size only).
# `--events` and `gcscope.read_log` still get every column.
ANALYSIS_COLUMNS = frozenset({
    "heap_before_bytes", "heap_after_bytes", "heap_committed_bytes",
    "young_before_bytes", "young_after_bytes", "young_capacity_bytes",
    "old_before_bytes", "old_after_bytes", "old_capacity_bytes",
    "humongous_before_bytes", "humongous_after_bytes",
    "metaspace_before_bytes", "metaspace_after_bytes", "metaspace_committed_bytes",
    "failure", "time_to_safepoint_ms",
})


def analyze_logs(
    paths: Any,
    *,
    max_unknown: int = 20,
    progress: Callable[[int, int], None] | None = None,
    config: Any = None,
    **options: Any,
) -> AnalysisResult:
    """Read GC logs (files, directories, rotated sets, .gz/.zip, "-" for stdin) and analyse
    every run in them. `max_unknown`: unknown lines kept with their explanation; `progress`:
    called as progress(bytes_done, bytes_total) while reading; `options`: the metric options
    listed in the module docstring. Unknown lines never fail the analysis: check
    `result.parse.unknown_lines` (the CLI's --strict does)."""
    _check_options(options)
    from gcscope.ingest import read_events

    ingest = read_events(paths, max_unknown=max_unknown, progress=progress, wanted=ANALYSIS_COLUMNS)
    return analyze_ingested(ingest, options, config=config)


def analyze_ingested(
    ingest: Any, options: Mapping[str, Any] | None = None, *, config: Any = None
) -> AnalysisResult:
    """Analyse an ingest result (`events`, `runs`, `parse`): one RunResult per run, in order.
    `config`: the rules' thresholds (a `gcscope.config.Config`; None: the catalogue's)."""
    import polars as pl

    from gcscope import model
    from gcscope.analysis import metrics

    options = dict(options or {})
    _check_options(options)
    events: pl.DataFrame = ingest.events
    runs_meta = list(ingest.runs)
    if len(runs_meta) == 1:
        by_run = {runs_meta[0].get(model.RUN_ID, 0): events}  # the common case: no copy
    else:
        # One split of the table instead of a filter per run (a set may hold many runs).
        by_run = {
            key[0]: frame for key, frame in events.partition_by(model.RUN_ID, as_dict=True).items()
        }
    runs = []
    for index, meta in enumerate(runs_meta):
        run_id = meta.get(model.RUN_ID, index)
        run_events = by_run.get(run_id, model.empty_events())
        runs.append(_run_result(run_id, meta, metrics.run_metrics(run_events, meta, **options)))
    result = AnalysisResult(runs=runs, parse=ParseSummary.from_report(ingest.parse))
    # Leak verdict (runs[i].leak) and findings (result.findings): gcscope.analysis.rules.
    from gcscope.analysis.rules import apply_rules

    apply_rules(result, events, ingest.runs, config)
    return result


def _run_result(run_id: Any, meta: Mapping[str, Any], found: dict[str, Any]) -> RunResult:
    from gcscope.analysis.result import FullGc, OldGen, Pauses, PauseStats

    pauses = dict(found.pop("pauses"))
    by_kind = {kind: PauseStats(**stats) for kind, stats in pauses.pop("by_kind").items()}
    old_gen = found.pop("old_gen")
    return RunResult(
        run_id=int(run_id),
        collector=meta.get("collector"),
        jvm_version=meta.get("jvm_version"),
        files=[str(f) for f in meta.get("files") or []],
        start_time=_iso(meta.get("start_time")),
        heap_max_bytes=meta.get("heap_max_bytes"),
        region_size_bytes=meta.get("region_size_bytes"),
        pauses=Pauses(**pauses, by_kind=by_kind),
        full_gc=FullGc(**found.pop("full_gc")),
        old_gen=OldGen(**old_gen),
        **found,
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _check_options(options: Mapping[str, Any]) -> None:
    unknown = sorted(set(options) - set(METRIC_OPTIONS))
    if unknown:
        raise TypeError(f"unknown analysis option(s): {', '.join(unknown)}")
    window = options.get("window_s")
    if window is not None and not window > 0:
        raise ValueError(f"window_s must be above 0, got {window!r}")
