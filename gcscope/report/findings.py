"""The leak verdict and the findings in the terminal summary (rich renderables).

Pure functions of the result: `leak_text(run)` for a run's section, `findings_section(result)`
after the runs. `gcscope/report/text.py` calls both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group
from rich.text import Text

from gcscope.units import duration_text

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
VERDICT_STYLE = {
    "leak": "bold red",
    "suspected": "yellow",
    "healthy": "green",
    "insufficient_evidence": "dim",
}


def leak_text(leak: Mapping[str, Any] | None) -> Text | None:
    """One or two lines: verdict, shape, slope, time to OOM; then the reason."""
    if not leak or not leak.get("verdict"):
        return None
    verdict = str(leak["verdict"])
    text = Text()
    text.append("Leak verdict ", style="bold")
    text.append(verdict.replace("_", " "), style=VERDICT_STYLE.get(verdict, ""))
    if leak.get("shape") and verdict != "insufficient_evidence":
        text.append(f" ({str(leak['shape']).replace('_', ' ')})")
    slope = leak.get("slope_pct_per_hour")
    if slope is not None and verdict != "insufficient_evidence":
        text.append(f"   floor {slope:+.1f} % of max heap per hour")
    eta = leak.get("oom_eta_s")
    if eta is not None:
        when = "heap already full" if eta < 1 else f"heap full in ~{duration_text(eta)}"
        text.append(f"   {when}", style="bold")
    if leak.get("reason"):
        text.append(f"\n  {leak['reason']}", style="dim")
    return text


def findings_section(findings: Sequence[Mapping[str, Any]], runs: int = 1) -> Group:
    """Every finding: severity, ID, title, message, and where in the log to look."""
    if not findings:
        return Group(Text("Findings ", style="bold") + Text("none", style="green"))
    counts = {s: sum(1 for f in findings if f.get("severity") == s) for s in SEVERITY_STYLE}
    head = Text("Findings ", style="bold")
    head.append(
        ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n),
    )
    parts: list[Any] = [head]
    for finding in findings:
        severity = str(finding.get("severity", ""))
        line = Text("  ")
        line.append(f"{severity.upper():7s} ", style=SEVERITY_STYLE.get(severity, ""))
        line.append(f"{finding.get('id')} ", style="bold")
        line.append(str(finding.get("title", "")), style="bold")
        evidence = finding.get("evidence") or {}
        if runs > 1 and evidence.get("run_id") is not None:
            line.append(f" (run {evidence['run_id']})")
        line.append(f"\n    {finding.get('message', '')}")
        lines = evidence.get("lines") or []
        if lines:
            line.append(f"\n    see {', '.join(lines)}", style="dim")
        parts.append(line)
    return Group(*parts)
