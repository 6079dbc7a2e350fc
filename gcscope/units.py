"""How durations read in messages: one wording for findings, the terminal and reports."""

from __future__ import annotations


def duration_text(seconds: float | None) -> str:
    """A span of time as a person says it: "45 s", "12 min", "3.5 h", "2.1 days"; "–" if unknown."""
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
