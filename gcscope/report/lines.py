"""The text of the log lines a result points at ("gc.log:551"), for the report's example lines.

The result names evidence lines by `file:line` only. Right after an analysis the logs are at
hand, so `gcscope analyze --html` looks the few quoted lines up and shows each with its text;
`gcscope report RESULT.json` has no log and shows `file:line` alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MAX_SCAN_BYTES = 256 * 1024 * 1024  # lines quoted beyond this far into a file keep file:line only
MAX_LINE_CHARS = 400


def quoted_lines(result: Mapping[str, Any]) -> set[str]:
    """Every `file:line` string the findings and leak verdicts quote as evidence."""
    refs: set[str] = set()

    def take(lines: Any) -> None:
        for item in lines or []:
            if isinstance(item, str) and ":" in item:
                refs.add(item)

    for finding in result.get("findings") or []:
        evidence = finding.get("evidence") if isinstance(finding, Mapping) else None
        if isinstance(evidence, Mapping):
            for key in ("lines", "examples", "example_lines"):
                take(evidence.get(key))
    for run in result.get("runs") or []:
        leak = run.get("leak") if isinstance(run, Mapping) else None
        if isinstance(leak, Mapping) and isinstance(leak.get("evidence"), Mapping):
            take(leak["evidence"].get("lines"))
    return refs


def line_texts(refs: Iterable[str], logs: Iterable[str]) -> dict[str, str]:
    """{"gc.log:551": "[13.423s][info][gc] GC(34) Pause Young …"} for the refs found in the
    logs (plain, gzip or zip members, as the analysis read them). A file that cannot be read
    now, or a line past MAX_SCAN_BYTES, is left out: the report then shows file:line."""
    from gcscope.errors import InputError
    from gcscope.ingest.sources import resolve

    wanted: dict[str, dict[int, str]] = {}
    for ref in refs:
        name, _, number = ref.rpartition(":")
        if name and number.isdigit():
            wanted.setdefault(name, {})[int(number)] = ref
    if not wanted:
        return {}
    logs = [log for log in logs if log != "-"]  # standard input was read by the analysis
    if not logs:
        return {}
    try:
        sources = resolve(logs)
    except (InputError, OSError):
        return {}
    found: dict[str, str] = {}
    for source in sources:
        lines = wanted.get(source.name)
        if not lines:
            continue
        last = max(lines)
        try:
            with source.open() as stream:
                read = 0
                for number, raw in enumerate(stream, start=1):
                    read += len(raw)
                    if number in lines:
                        text = raw.decode("utf-8", "replace").rstrip("\r\n")
                        found[lines[number]] = text[:MAX_LINE_CHARS]
                    if number >= last or read > MAX_SCAN_BYTES:
                        break
        except (OSError, EOFError, ValueError):
            continue
    return found
