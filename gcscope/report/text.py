"""The terminal summary of an `AnalysisResult` (rich).

A pure function of the result: nothing here reads a log. Sections are separate functions so
later features (findings, leak verdict) can add theirs to `summary_renderables` without
rewriting the others.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from gcscope.analysis.result import AnalysisResult, ParseSummary, PauseStats, RunResult
from gcscope.report import findings  # leak verdict and findings sections
from gcscope.report.plain import MIB, coverage_pct_text, coverage_text

# --- number formatting ---------------------------------------------------------------------------


def _num(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{unit}"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}" if value < 10 else f"{value:,.1f}"


def _pct(value: float | None) -> str:
    """Percentages near 100 need more digits to say anything (99.97 vs 99.99)."""
    if value is None:
        return "–"
    return f"{value:.2f} %" if value >= 99 else f"{value:.1f} %"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _bytes(value: int | None) -> str:
    if not value:
        return "–"
    if value >= 1024 * MIB:
        return f"{value / (1024 * MIB):.1f} GiB"
    return f"{value / MIB:.0f} MiB"


# --- sections -------------------------------------------------------------------------------------


def run_header(run: RunResult, total_runs: int) -> Text:
    title = Text()
    if total_runs > 1:
        title.append(f"Run {run.run_id + 1} of {total_runs}  ", style="bold")
    title.append(run.collector or "unknown collector", style="bold cyan")
    title.append(f"  JDK {run.jvm_version}" if run.jvm_version else "  JDK version not in log")
    title.append(f"  max heap {_bytes(run.heap_max_bytes)}" if run.heap_max_bytes else "")
    span = None
    if run.start_uptime_s is not None and run.end_uptime_s is not None:
        span = run.end_uptime_s - run.start_uptime_s
    title.append(
        f"\nuptime {_num(run.start_uptime_s, 3)} s → {_num(run.end_uptime_s, 3)} s"
        f" ({_duration(span)})"
    )
    if run.start_time:
        title.append(f", started {run.start_time}")
    if run.files:
        shown = ", ".join(run.files[:3]) + (
            f" and {len(run.files) - 3} more" if len(run.files) > 3 else ""
        )
        title.append(f"\nfrom {shown}", style="dim")
    return title


def pause_table(run: RunResult) -> Table | Text:
    if run.pauses.count == 0:
        return Text("No pauses.")
    table = Table(title="Pauses (ms)", title_justify="left", box=None, pad_edge=False)
    table.add_column("kind")
    for name in ("count", "total", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"):
        table.add_column(name, justify="right")

    def row(label: str, stats: PauseStats, style: str | None = None) -> None:
        table.add_row(
            label,
            f"{stats.count:,}",
            _ms(stats.total_ms),
            _ms(stats.mean_ms),
            _ms(stats.p50_ms),
            _ms(stats.p90_ms),
            _ms(stats.p95_ms),
            _ms(stats.p99_ms),
            _ms(stats.p999_ms),
            _ms(stats.max_ms),
            style=style,
        )

    for kind, stats in run.pauses.by_kind.items():
        row(kind, stats)
    if len(run.pauses.by_kind) != 1:
        row("all", run.pauses, style="bold")
    return table


def health_lines(run: RunResult) -> Text:
    lines = Text()
    lines.append("Throughput ", style="bold")
    lines.append(_pct(run.throughput_pct))
    window = f"{run.window_s / 60:g} min"
    if run.throughput_worst_5min_pct is not None:
        lines.append(
            f"   worst {window}: {_pct(run.throughput_worst_5min_pct)}"
            f" from {_num(run.throughput_worst_5min_start_s, 1)} s"
        )
    elif run.throughput_pct is not None:
        lines.append(f"   worst {window}: – (run shorter than {window})", style="dim")
    lines.append("\nFull GCs ", style="bold")
    lines.append(f"{run.full_gc.count:,}   most in any {window}: {run.full_gc.max_per_5min:,}")
    lines.append("\nOld Gen after GC ", style="bold")
    old = run.old_gen
    if old.saturation_last_pct is None and run.collector == "G1" and not run.heap_max_bytes:
        lines.append("– (the maximum heap size is not in the log)")
    elif old.saturation_last_pct is None:
        lines.append("– (no per-generation sizes in the log: use -Xlog:gc*)")
    else:
        lines.append(
            f"last {_num(old.saturation_last_pct)} %, max {_num(old.saturation_max_pct)} %,"
            f" {_duration(old.time_above_threshold_s)} above {old.threshold_pct:g} %"
        )
    lines.append("\nAllocation ", style="bold")
    lines.append(_num(run.allocation_rate_mb_s, 1, " MB/s"))
    lines.append("   Promotion ", style="bold")
    lines.append(
        _num(run.promotion_rate_mb_s, 2, " MB/s")
        if run.promotion_rate_mb_s is not None
        else "– (no per-generation sizes)"
    )
    lines.append_text(beyond_pauses_lines(run))
    return lines


def beyond_pauses_lines(run: RunResult) -> Text:
    """Concurrent cycles, stalls, degenerated GCs and safepoints: only the lines that apply."""
    lines = Text()
    cycles = run.concurrent or {}
    if cycles.get("cycles"):
        kinds = ", ".join(f"{k} {v['cycles']:,}" for k, v in (cycles.get("by_kind") or {}).items())
        lines.append("\nConcurrent cycles ", style="bold")
        lines.append(
            f"{cycles['cycles']:,} ({kinds})   {_num(cycles.get('per_minute'), 1)}/min"
            f"   p50 {_ms(cycles.get('p50_ms'))}  p99 {_ms(cycles.get('p99_ms'))}"
            f"  max {_ms(cycles.get('max_ms'))} ms"
        )
    stalls = run.stalls or {}
    if stalls.get("count"):
        lines.append("\nAllocation stalls ", style="bold red")
        lines.append(f"{stalls['count']:,}   total {_ms(stalls['total_ms'])} ms   max {_ms(stalls['max_ms'])} ms")
    if run.degenerated_gc_count:
        lines.append("\nDegenerated GCs ", style="bold red")
        lines.append(f"{run.degenerated_gc_count:,}")
    if (exhausted := (run.extra or {}).get("heap_exhausted_at_s")) is not None:
        lines.append("\nHeap exhausted ", style="bold red")
        lines.append(f"at {_num(exhausted, 3)} s of uptime (under 5 % of the maximum heap left)")
    safepoints = run.safepoints
    if safepoints:
        worst = next(iter(safepoints.get("by_operation") or {}), None)
        lines.append("\nSafepoints ", style="bold")
        lines.append(
            f"{safepoints['count']:,}   stopped p50 {_ms(safepoints['p50_ms'])}  p99 {_ms(safepoints['p99_ms'])}"
            f"  max {_ms(safepoints['max_ms'])} ms   time to safepoint p99 {_ms(safepoints['ttsp_p99_ms'])}"
            f"  max {_ms(safepoints['ttsp_max_ms'])} ms"
            + (f"   most time: {worst}" if worst else "")
        )
    return lines


def run_section(run: RunResult, total_runs: int) -> Group:
    parts: list[RenderableType] = [run_header(run, total_runs), pause_table(run), health_lines(run)]
    # The leak verdict and findings of this run are added here by their features.
    parts += [x for x in [findings.leak_text(run.leak)] if x]  # leak verdict (report/findings.py)
    return Group(*parts)


def coverage_line(parse: ParseSummary) -> Text:
    """Always shown: how much of the input gcscope understood."""
    line = Text()
    line.append("Parsed ", style="bold")
    line.append(coverage_text(parse))
    if parse.unknown_lines:
        line.stylize("yellow")
    return line


def unknown_section(parse: ParseSummary) -> Group | None:
    if not parse.unknown:
        return None
    shown = len(parse.unknown)
    head = Text(
        f"Unknown lines (first {shown} of {parse.unknown_lines:,}):"
        if parse.unknown_lines > shown
        else "Unknown lines:",
        style="bold yellow",
    )
    items: list[RenderableType] = [head]
    for item in parse.unknown:
        where = f"{item.file}:{item.line}" if item.line is not None else str(item.file)
        entry = Text(f"  {where}: ", style="bold")
        entry.append(item.text, style="default")
        items.append(entry)
        if item.explanation:
            items.append(Text("    " + item.explanation.replace("\n", "\n    "), style="dim"))
    return Group(*items)


def per_file_table(parse: ParseSummary) -> Table | None:
    """Coverage per file, shown when several files were read and one has unknown lines."""
    if len(parse.per_file) < 2 or not any(f.unknown_lines for f in parse.per_file):
        return None
    table = Table(box=None, pad_edge=False)
    for name, justify in (
        ("file", "left"),
        ("lines", "right"),
        ("unknown", "right"),
        ("coverage", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in parse.per_file:
        table.add_row(f.file, f"{f.lines:,}", f"{f.unknown_lines:,}", coverage_pct_text(f.coverage_pct))
    return table


def summary_renderables(result: AnalysisResult) -> Iterator[RenderableType]:
    if not result.runs:
        yield Text("No GC events found in the input.", style="yellow")
    for index, run in enumerate(result.runs):
        if index:
            yield Text("")
        yield run_section(run, len(result.runs))
    # Findings (gcscope.analysis rules) are printed here by their feature.
    yield Text("")
    yield findings.findings_section(result.findings, len(result.runs))  # report/findings.py
    yield Text("")
    yield coverage_line(result.parse)
    for part in (per_file_table(result.parse), unknown_section(result.parse)):
        if part is not None:
            yield part


def print_summary(result: AnalysisResult, file: IO[str] | None = None) -> None:
    # soft_wrap: lines are never folded (a folded raw log line would misplace its caret);
    # tables still fit the width.
    console = Console(file=file or sys.stdout, highlight=False, soft_wrap=True)
    for part in summary_renderables(result):
        console.print(part)
