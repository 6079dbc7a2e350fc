"""Compare two runs (a base and a candidate) metric by metric, with a regression verdict.

Pure functions of two `RunResult`s (or their dicts) and the `compare` tolerances of the
configuration (`gcscope/rules/catalogue.toml`, [compare]). Each row says what was measured on
both sides, the change, the tolerance and whether the change is a regression:

- pause p99 and max: a regression when the candidate's exceeds the base's by more than the
  tolerance in % AND by at least `min_pause_ms` (sub-millisecond pauses are noise);
- throughput: a regression when it drops by more than `throughput_points`;
- full GCs per hour: by more than `full_gc_rate_pct` % of the base's, or any when the base had
  none;
- Old Gen saturation after GC (max): by more than `old_gen_points`;
- leak verdict: `leak` or `suspected` in the candidate where the base had neither (`leak`).
Other rows (p50, mean, allocation rate, leak slope) are shown for context, never judged; the leak
slope only for a run with a verdict (not `insufficient_evidence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RISING = ("leak", "suspected")


def _get(run: Mapping[str, Any], path: str) -> Any:
    value: Any = run
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _duration_s(run: Mapping[str, Any]) -> float | None:
    start, end = run.get("start_uptime_s"), run.get("end_uptime_s")
    if start is None or end is None or not end > start:
        return None
    return float(end) - float(start)


def full_gc_per_hour(run: Mapping[str, Any]) -> float | None:
    count = _get(run, "full_gc.count")
    duration = _duration_s(run)
    if count is None or duration is None:
        return None
    return float(count) / duration * 3600.0


def leak_slope(run: Mapping[str, Any]) -> float | None:
    """The floor's slope of a run's leak verdict; None without a verdict (insufficient_evidence:
    a line through too few points is no figure, even in a result saved by an older gcscope)."""
    leak = run.get("leak") or {}
    if leak.get("verdict") in (None, "insufficient_evidence"):
        return None
    return leak.get("slope_pct_per_hour")


def _row(metric: str, unit: str, base: Any, cand: Any, **more: Any) -> dict[str, Any]:
    delta = None
    if isinstance(base, int | float) and isinstance(cand, int | float):
        delta = float(cand) - float(base)
    return {
        "metric": metric,
        "unit": unit,
        "base": base,
        "candidate": cand,
        "delta": delta,
        "delta_pct": (delta / float(base) * 100.0) if delta is not None and base else None,
        "tolerance": more.get("tolerance"),
        "status": more.get("status", "info"),
    }


def _judge_increase(
    base: float | None, cand: float | None, *, pct: float, floor: float = 0.0
) -> str:
    """'regression' when cand exceeds base by more than pct % and by more than floor."""
    if base is None or cand is None:
        return "n/a"
    allowed = max(abs(base) * pct / 100.0, floor)
    if cand - base > allowed:
        return "regression"
    if base - cand > allowed:
        return "improved"
    return "ok"


def compare_runs(
    base: Mapping[str, Any], candidate: Mapping[str, Any], tolerances: Mapping[str, Any]
) -> dict[str, Any]:
    """Rows of the comparison and the verdict: {"rows": [...], "regressions": [...],
    "regression": bool}."""
    rows = []
    min_ms = float(tolerances["min_pause_ms"])
    for key, tol_key in (("p99_ms", "p99_pause_pct"), ("max_ms", "max_pause_pct")):
        b, c = _get(base, f"pauses.{key}"), _get(candidate, f"pauses.{key}")
        pct = float(tolerances[tol_key])
        rows.append(
            _row(
                f"pause {key[:-3]}",
                "ms",
                b,
                c,
                tolerance=f"+{pct:g} % (and +{min_ms:g} ms)",
                status=_judge_increase(b, c, pct=pct, floor=min_ms),
            )
        )
    for key in ("p50_ms", "mean_ms"):
        rows.append(
            _row(
                f"pause {key[:-3]}",
                "ms",
                _get(base, f"pauses.{key}"),
                _get(candidate, f"pauses.{key}"),
            )
        )
    rows.append(
        _row("pauses", "count", _get(base, "pauses.count"), _get(candidate, "pauses.count"))
    )

    b, c = base.get("throughput_pct"), candidate.get("throughput_pct")
    points = float(tolerances["throughput_points"])
    status = "n/a"
    if b is not None and c is not None:
        status = "regression" if b - c > points else ("improved" if c - b > points else "ok")
    rows.append(_row("throughput", "%", b, c, tolerance=f"-{points:g} points", status=status))

    b, c = full_gc_per_hour(base), full_gc_per_hour(candidate)
    pct = float(tolerances["full_gc_rate_pct"])
    if b is None or c is None:
        status = "n/a"
    elif b == 0:
        status = "regression" if c > 0 else "ok"
    else:
        status = _judge_increase(b, c, pct=pct)
    rows.append(_row("full GCs per hour", "/h", b, c, tolerance=f"+{pct:g} %", status=status))

    b, c = _get(base, "old_gen.saturation_max_pct"), _get(candidate, "old_gen.saturation_max_pct")
    points = float(tolerances["old_gen_points"])
    status = "n/a"
    if b is not None and c is not None:
        status = "regression" if c - b > points else ("improved" if b - c > points else "ok")
    rows.append(
        _row("Old Gen after GC (max)", "%", b, c, tolerance=f"+{points:g} points", status=status)
    )

    rows.append(
        _row(
            "allocation rate",
            "MB/s",
            base.get("allocation_rate_mb_s"),
            candidate.get("allocation_rate_mb_s"),
        )
    )

    b_leak = (base.get("leak") or {}).get("verdict")
    c_leak = (candidate.get("leak") or {}).get("verdict")
    status = "info"
    if tolerances["leak"]:
        if c_leak in RISING and b_leak not in RISING:
            status = "regression"
        elif b_leak in RISING and c_leak not in RISING and c_leak is not None:
            status = "improved"
        elif b_leak is None or c_leak is None:
            status = "n/a"
        else:
            status = "ok"
    rows.append(
        _row(
            "leak verdict",
            "",
            b_leak,
            c_leak,
            tolerance="no new leak" if tolerances["leak"] else None,
            status=status,
        )
    )
    rows.append(_row("leak slope", "%/h", leak_slope(base), leak_slope(candidate)))
    regressions = [r["metric"] for r in rows if r["status"] == "regression"]
    return {"rows": rows, "regressions": regressions, "regression": bool(regressions)}
