"""One self-contained HTML report: verdict and KPIs first, then findings, charts, pause table,
run metadata and parse coverage.

The page is rendered by jinja2 with autoescaping on, from `gcscope/templates/report.html.j2`.
Everything log-derived (host names, file names, unknown lines, command lines) reaches the page
only as escaped text. The page loads nothing: charts are embedded as PNG data URIs, styles are
inline, there is no script, and a Content-Security-Policy forbids any other resource, so it
works offline and from an e-mail attachment alike.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gcscope.report.charts._base import (
    format_bytes,
    format_duration_ms,
    format_duration_s,
    kind_label,
)
from gcscope.report.data import ReportData

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}
LEAK_LABELS = {
    "leak": ("Leak", "bad"),
    "suspected": ("Suspected leak", "warn"),
    "healthy": ("No leak", "good"),
    "insufficient_evidence": ("Not enough evidence", "neutral"),
}
PAUSE_COLUMNS = (
    ("count", "Count"),
    ("total_ms", "Total"),
    ("mean_ms", "Mean"),
    ("p50_ms", "p50"),
    ("p90_ms", "p90"),
    ("p95_ms", "p95"),
    ("p99_ms", "p99"),
    ("p999_ms", "p99.9"),
    ("max_ms", "Max"),
)
# Run metadata rows, in display order: (key in runs[i], label, formatter name).
META_ROWS = (
    ("collector", "Collector", "text"),
    ("jvm_version", "JVM version", "text"),
    ("heap_max_bytes", "Max heap", "bytes"),
    ("heap_initial_bytes", "Initial heap", "bytes"),
    ("heap_min_bytes", "Min heap", "bytes"),
    ("region_size_bytes", "G1 region size", "bytes"),
    ("cpus", "CPUs", "text"),
    ("memory_bytes", "Physical memory", "bytes"),
    ("hostname", "Host", "text"),
    ("pid", "PID", "text"),
    ("start_time", "Start time", "text"),
    ("start_uptime_s", "First uptime", "seconds"),
    ("end_uptime_s", "Last uptime", "seconds"),
    ("command_line", "Command-line flags", "code"),
)


# --- formatting (also the template's filters) ---------------------------------------------------
def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def fmt_ms(value: Any) -> str:
    return format_duration_ms(_num(value))


def fmt_s(value: Any) -> str:
    return format_duration_s(_num(value))


def fmt_bytes(value: Any) -> str:
    return format_bytes(_num(value))


def fmt_pct(value: Any, digits: int = 1) -> str:
    number = _num(value)
    return "n/a" if number is None else f"{number:.{digits}f} %"


def fmt_number(value: Any) -> str:
    number = _num(value)
    if number is None:
        return "n/a"
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"


def fmt_sig(value: Any, figures: int = 3) -> str:
    """A measured rate to `figures` significant figures: 180 MB/s, 2.77 MB/s, 1,234 MB/s."""
    number = _num(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "0"
    digits = figures - 1 - math.floor(math.log10(abs(number)))
    rounded = round(number, digits)
    return f"{rounded:,.{max(digits, 0)}f}"


_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def humanise(text: str) -> str:
    """A snake_case identifier of the result (`rising_floor`, `insufficient_evidence`) as words."""
    return text.replace("_", " ") if _IDENTIFIER.fullmatch(text) else text


def fmt_value(value: Any) -> str:
    """An evidence value of unknown kind, readable."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt_number(value)
    if isinstance(value, list | tuple):
        return ", ".join(fmt_value(v) for v in value)
    if isinstance(value, str):
        return humanise(value)
    return str(value)


def _value_by_unit(key: str, value: Any) -> str:
    if isinstance(value, str) and value in VALUE_LABELS:
        return VALUE_LABELS[value]
    return _value_by_unit_suffix(key, value)


def _value_by_unit_suffix(key: str, value: Any) -> str:
    """Evidence values carry their unit in the key name (the house convention)."""
    if key.endswith("_ms"):
        return fmt_ms(value)
    if key.endswith("_bytes"):
        return fmt_bytes(value)
    if key.endswith(("_pct", "_pct_per_hour")):
        suffix = " per hour" if key.endswith("_per_hour") else ""
        return fmt_pct(value) + suffix if _num(value) is not None else fmt_value(value)
    if key.endswith("_s"):
        return fmt_s(value) if _num(value) is not None else fmt_value(value)
    return fmt_value(value)


# Evidence keys whose generic label ("Oom eta") would read badly.
EVIDENCE_LABELS = {
    "oom_eta_s": "Time to OOM",
    "slope_pct_per_hour": "Slope (of max heap)",
    "floor_start_pct": "Floor at start (of max heap)",
    "floor_end_pct": "Floor at end (of max heap)",
    "gcs_caused": "GCs caused",
    "max_pause_ms": "Longest pause",
    "p_value": "p-value",
    "max_p_value": "Max p-value",
    "pause_ms": "Pause",
    "gc_time_pct": "GC time",
}
# Verdict and shape identifiers of the leak verdict, as the page says them.
VALUE_LABELS = {"leak": "leak", "suspected": "suspected leak", "healthy": "no leak"}


def _label(key: str) -> str:
    if key in EVIDENCE_LABELS:
        return EVIDENCE_LABELS[key]
    for suffix in ("_pct_per_hour", "_bytes", "_pct", "_ms", "_s"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
            break
    text = key.replace("_", " ")
    return text[:1].upper() + text[1:]


# --- the page's model ----------------------------------------------------------------------------
def _leak_view(leak: Mapping[str, Any] | None) -> dict[str, Any]:
    if not leak:
        return {"evaluated": False, "label": "Not evaluated", "tone": "neutral"}
    verdict = leak.get("verdict")
    label, tone = LEAK_LABELS.get(verdict, (str(verdict), "neutral"))
    fit = leak.get("fit") or {}
    slope_bytes = _num(fit.get("slope_bytes_per_s")) if isinstance(fit, Mapping) else None
    return {
        "evaluated": True,
        "verdict": verdict,
        "label": label,
        "tone": tone,
        "shape": (leak.get("shape") or "").replace("_", " ") or None,
        "slope_pct_per_hour": _num(leak.get("slope_pct_per_hour")),
        # The floor's rate in bytes, for a rising floor only (a slope without a verdict is
        # not a figure to show).
        "slope_per_hour": fmt_bytes(slope_bytes * 3600) + "/h"
        if slope_bytes and verdict in ("leak", "suspected")
        else None,
        "oom_eta": fmt_s(leak.get("oom_eta_s"))
        if _num(leak.get("oom_eta_s")) is not None
        else None,
        "points": leak.get("points"),
        "span": fmt_s(leak.get("span_s")) if _num(leak.get("span_s")) is not None else None,
        "lines": list(((leak.get("evidence") or {}).get("lines") or [])[:5]),
        "reason": leak.get("reason") or "",
    }


def _finding_view(
    finding: Mapping[str, Any], texts: Mapping[str, str] | None = None
) -> dict[str, Any]:
    severity = str(finding.get("severity") or "info").lower()
    evidence = finding.get("evidence") or {}
    rows, lines, time_range = [], [], None
    if isinstance(evidence, Mapping):
        start, end = _num(evidence.get("start_uptime_s")), _num(evidence.get("end_uptime_s"))
        if start is not None or end is not None:
            time_range = f"{fmt_s(start)} – {fmt_s(end)} of uptime"
        for key, value in evidence.items():
            if key in ("start_uptime_s", "end_uptime_s", "points", "run_id"):
                continue
            if key in ("lines", "examples", "example_lines"):
                lines = [_line_text(item, texts) for item in (value or [])][:5]
            elif key == "values" and isinstance(value, Mapping):
                # The measured values: one row each, the reader's main evidence.
                rows += [(_label(k), _value_by_unit(k, v)) for k, v in value.items()]
            elif isinstance(value, Mapping):
                # Thresholds and other keyed figures: "min points 6; min span 30.0 s".
                text = "; ".join(
                    f"{_label(k)[:1].lower()}{_label(k)[1:]} {_value_by_unit(k, v)}"
                    for k, v in value.items()
                )
                rows.append((_label(key), text))
            else:
                rows.append((_label(key), _value_by_unit(key, value)))
    elif evidence:
        rows.append(("Evidence", fmt_value(evidence)))
    return {
        "id": finding.get("id") or "",
        "severity": severity,
        "tone": {"error": "bad", "critical": "bad", "warning": "warn"}.get(severity, "neutral"),
        "title": finding.get("title") or "",
        "message": finding.get("message") or "",
        "run_id": finding.get(
            "run_id", evidence.get("run_id") if isinstance(evidence, Mapping) else None
        ),
        "time_range": time_range,
        "rows": rows,
        "lines": lines,
    }


def _line_text(item: Any, texts: Mapping[str, str] | None = None) -> str:
    """An evidence line: "file:line  text" when the result, or the log at hand, has the text."""
    if isinstance(item, Mapping):
        where = f"{item.get('file', '?')}:{item.get('line', '?')}"
        text = item.get("text") or (texts or {}).get(where)
        return f"{where}  {text}" if text else where
    text = (texts or {}).get(str(item))
    return f"{item}  {text}" if text else str(item)


def _kpis(run: Mapping[str, Any], leak: dict[str, Any]) -> list[dict[str, Any]]:
    pauses = run.get("pauses") or {}
    old = run.get("old_gen") or {}
    full = run.get("full_gc") or {}
    worst = _num(run.get("throughput_worst_5min_pct"))
    above = _num(old.get("time_above_threshold_s"))
    threshold = _num(old.get("threshold_pct")) or 80.0
    kpis = [
        {
            "label": "Throughput",
            "value": fmt_pct(run.get("throughput_pct"), 2),
            "detail": f"worst 5 min {fmt_pct(worst, 2)}"
            if worst is not None
            else "time not in GC pauses",
        },
        {
            "label": "p99 pause",
            "value": fmt_ms(pauses.get("p99_ms")),
            "detail": f"p50 {fmt_ms(pauses.get('p50_ms'))}, {fmt_number(pauses.get('count'))}"
            " pauses",
        },
        {
            "label": "Max pause",
            "value": fmt_ms(pauses.get("max_ms")),
            "detail": f"p99.9 {fmt_ms(pauses.get('p999_ms'))}",
        },
        {
            "label": "Full GCs per 5 min",
            "value": fmt_number(full.get("max_per_5min")),
            "detail": f"most in any 5 min; {fmt_number(full.get('count'))} in all",
        },
        {
            "label": "Old Gen after GC",
            "value": fmt_pct(old.get("saturation_last_pct")),
            "detail": (
                f"max {fmt_pct(old.get('saturation_max_pct'))}; above {threshold:g} % for "
                f"{fmt_s(above) if above else '0 s'}"
            )
            if _num(old.get("saturation_max_pct")) is not None
            else "no old-generation figures in the log",
        },
        {
            "label": "Allocation rate",
            "value": f"{fmt_sig(run.get('allocation_rate_mb_s'))} MB/s"
            if _num(run.get("allocation_rate_mb_s")) is not None
            else "n/a",
            "detail": f"promotion {fmt_sig(run.get('promotion_rate_mb_s'))} MB/s"
            if _num(run.get("promotion_rate_mb_s")) is not None
            else "promotion n/a",
        },
    ]
    if leak["evaluated"] and leak.get("verdict") == "insufficient_evidence":
        kpis.append(
            {
                "label": "Leak verdict",
                "value": leak["label"],
                "tone": leak["tone"],
                "detail": "see the reason below",
            }
        )
    elif leak["evaluated"]:
        detail = []
        if leak.get("slope_pct_per_hour") is not None:
            detail.append(f"{leak['slope_pct_per_hour']:+.1f} % of max heap/h")
        if leak.get("oom_eta"):
            detail.append(f"OOM in ~{leak['oom_eta']}")
        elif leak.get("shape"):
            detail.append(leak["shape"])
        kpis.append(
            {
                "label": "Leak verdict",
                "value": leak["label"],
                "tone": leak["tone"],
                "detail": ", ".join(detail) or leak.get("reason", ""),
            }
        )
    else:
        kpis.append(
            {
                "label": "Leak verdict",
                "value": "Not evaluated",
                "tone": "neutral",
                "detail": "this result has no leak verdict",
            }
        )
    return kpis


def _overall(
    findings: list[dict[str, Any]], leaks: list[dict[str, Any]], rules_evaluated: bool
) -> dict[str, str]:
    worst = max((SEVERITY_RANK.get(f["severity"], 0) for f in findings), default=-1)
    leaking = [lk for lk in leaks if lk.get("verdict") == "leak"]
    suspected = [lk for lk in leaks if lk.get("verdict") == "suspected"]
    if worst >= 2 or leaking:
        headline = findings[0]["title"] if findings else "The heap floor is rising: a leak"
        return {"tone": "bad", "label": "Unhealthy", "headline": headline}
    if worst == 1 or suspected:
        headline = findings[0]["title"] if findings else "The heap floor may be rising"
        return {"tone": "warn", "label": "Needs attention", "headline": headline}
    if rules_evaluated:
        undecided = [lk for lk in leaks if lk.get("verdict") == "insufficient_evidence"]
        headline = "No rule fired" + (
            "; too little evidence for a leak verdict" if undecided else ""
        )
        return {"tone": "good", "label": "Healthy", "headline": headline}
    if leaks and all(lk.get("evaluated") and lk.get("verdict") == "healthy" for lk in leaks):
        return {
            "tone": "good",
            "label": "No leak",
            "headline": "The heap floor is level (rules not evaluated)",
        }
    return {
        "tone": "neutral",
        "label": "Metrics only",
        "headline": "Rules and findings were not evaluated for this result",
    }


def _rules_evaluated(result: Mapping[str, Any]) -> bool:
    """Whether the rules ran: they record their configuration under `config.rules`; a
    non-empty `findings` list proves it too."""
    config = result.get("config")
    return bool(result.get("findings")) or (
        isinstance(config, Mapping) and bool(config.get("rules"))
    )


# Said in the command-line row when a log does not show the flags.
NO_FLAGS = (
    "not in the log: the JVM prints them with -Xlog:arguments (JDK 25 does, JDK 17 does not); "
    "-Xlog:gc* alone never shows them"
)


def _meta_rows(run: Mapping[str, Any], *, from_logs: bool = False) -> list[tuple[str, str, bool]]:
    rows = []
    for key, label, kind in META_ROWS:
        value = run.get(key)
        if (value is None or value == "") and key == "command_line" and from_logs:
            rows.append((label, NO_FLAGS, False))
            continue
        if value is None or value == "":
            continue
        if kind == "bytes":
            text = fmt_bytes(value)
        elif kind == "seconds":
            text = fmt_s(value) if _num(value) is not None else str(value)
        elif isinstance(value, list | tuple):
            text = " ".join(map(str, value))
        else:
            text = str(value)
        rows.append((label, text, kind == "code"))
    files = run.get("files") or []
    if files:
        rows.append(("Files", "\n".join(map(str, files)), True))
    return rows


def build_context(data: ReportData, charts: Iterable[Any] = ()) -> dict[str, Any]:
    """Everything the template shows, as plain values (no formatting left to the template
    beyond the filters)."""
    result = data.result
    charts = list(charts)
    findings = [
        _finding_view(f, data.line_texts)
        for f in (result.get("findings") or [])
        if isinstance(f, Mapping)
    ]
    from_logs = bool((result.get("parse") or {}).get("files"))
    findings.sort(key=lambda f: -SEVERITY_RANK.get(f["severity"], 0))
    runs = []
    for view in data.runs():
        summary = view.summary
        leak = _leak_view(view.leak)
        pauses = summary.get("pauses") or {}
        kinds = [("all", pauses)] + list((pauses.get("by_kind") or {}).items())
        runs.append(
            {
                "run_id": view.run_id,
                "title": _run_title(summary, view.run_id),
                "kpis": _kpis(summary, leak),
                "leak": leak,
                "pause_rows": [
                    (kind if kind == "all" else kind_label(kind), stats)
                    for kind, stats in kinds
                    if stats
                ],
                "meta_rows": _meta_rows(summary, from_logs=from_logs),
                "charts": [
                    {
                        "title": c.title,
                        "file_name": c.file_name,
                        "note": c.note,
                        "width": c.width_px,
                        "height": c.height_px,
                        "data_uri": "data:image/png;base64,"
                        + base64.b64encode(c.png).decode("ascii")
                        if c.png
                        else None,
                    }
                    for c in charts
                    if c.run_id == view.run_id
                ],
            }
        )
    parse = result.get("parse") or {}
    rules_evaluated = _rules_evaluated(result)
    return {
        "title": f"gcscope report: {data.source}" if data.source else "gcscope report",
        "source": data.source,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "gcscope_version": result.get("gcscope_version"),
        "overall": _overall(findings, [r["leak"] for r in runs], rules_evaluated),
        "rules_evaluated": rules_evaluated,
        "findings": findings,
        "runs": runs,
        "several_runs": len(runs) > 1,
        "charts_available": data.events_available,
        "pause_columns": PAUSE_COLUMNS,
        "parse": {
            "files": parse.get("files"),
            "lines": parse.get("lines"),
            "unknown_lines": parse.get("unknown_lines"),
            "coverage_pct": parse.get("coverage_pct"),
            "per_file": parse.get("per_file") or [],
            "unknown": parse.get("unknown") or [],
        },
    }


def _run_title(summary: Mapping[str, Any], run_id: int) -> str:
    parts = [f"Run {run_id}"]
    if summary.get("collector"):
        parts.append(str(summary["collector"]))
    if summary.get("jvm_version"):
        parts.append(f"JDK {summary['jvm_version']}")
    return " · ".join(parts)


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gcscope", "templates"),
        autoescape=True,  # every value is escaped unless the template says otherwise (never)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ms=fmt_ms, s=fmt_s, bytes=fmt_bytes, pct=fmt_pct, number=fmt_number)
    return env


def render_html(data: ReportData, charts: Iterable[Any] = ()) -> str:
    """The report page as a string (charts: `gcscope.report.charts.render_charts(data)`)."""
    return _environment().get_template("report.html.j2").render(build_context(data, charts))


def write_html(path: str | Path, data: ReportData, charts: Iterable[Any] = ()) -> Path:
    from gcscope.errors import UsageError

    out = Path(path)
    try:
        out.write_text(render_html(data, charts), encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write the HTML report: {exc.strerror or exc}", file=str(out)
        ) from None
    return out
