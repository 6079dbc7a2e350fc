"""`AnalysisResult`: everything `gcscope analyze` found, serialisable to the JSON contract.

`to_dict()` produces exactly the documented JSON (README, "JSON output"): the contract keys
first, then extra keys. `from_dict()` reads a saved JSON back, so a report can be rendered
again later without the log. Keys this module does not know (added by later features or newer
versions) are kept in `extra` and written back unchanged.

This module imports nothing heavy: it is plain dataclasses and the standard library.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from gcscope.errors import InputError

# Bumped only when a documented key changes meaning or disappears (never for added keys).
SCHEMA_VERSION = 1


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null (a metric that could not be computed)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _known(cls: type, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a dict into the fields of dataclass `cls` and the rest."""
    names = {f.name for f in dataclasses.fields(cls)}
    return (
        {k: v for k, v in data.items() if k in names},
        {k: v for k, v in data.items() if k not in names},
    )


def _require(data: Any, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(f"not a gcscope result: {where} is not an object")
    missing = [k for k in keys if k not in data]
    if missing:
        raise InputError(f"not a gcscope result: {where} lacks {', '.join(missing)}")
    return data


# --- pauses ------------------------------------------------------------------------------------


@dataclass
class PauseStats:
    """Pause durations of one set of pauses (all, or one kind), in milliseconds."""

    count: int = 0
    total_ms: float = 0.0
    mean_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "pauses") -> PauseStats:
        _require(data, ("count", "total_ms"), where)
        known, _ = _known(cls, data)
        return cls(**known)


@dataclass
class Pauses(PauseStats):
    by_kind: dict[str, PauseStats] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "pauses") -> Pauses:
        base = PauseStats.from_dict(data, where)
        by_kind = {
            kind: PauseStats.from_dict(stats, f"{where}.by_kind.{kind}")
            for kind, stats in (data.get("by_kind") or {}).items()
        }
        return cls(**dataclasses.asdict(base), by_kind=by_kind)


@dataclass
class FullGc:
    count: int = 0
    max_per_5min: int = 0  # most full GCs starting within any sliding 5-minute window


@dataclass
class OldGen:
    """Old-generation occupancy after GC as % of its capacity (see metrics.old_gen_saturation)."""

    saturation_last_pct: float | None = None
    saturation_max_pct: float | None = None
    time_above_threshold_s: float | None = None
    threshold_pct: float = 80.0
    # "old+humongous/heap_max" (G1), "old/old_capacity", "heap_after/heap_max" (no old
    # generation: ZGC before JDK 21, Shenandoah, Epsilon), or None
    basis: str | None = None
    samples: int = 0  # collections with per-generation figures


# --- one run -----------------------------------------------------------------------------------


@dataclass
class RunResult:
    """One JVM run (a restart starts a new one): its metadata and metrics."""

    # The contract (README "JSON output"): never rename or remove.
    collector: str | None = None
    jvm_version: str | None = None
    start_uptime_s: float | None = None
    end_uptime_s: float | None = None
    pauses: Pauses = field(default_factory=Pauses)
    throughput_pct: float | None = None
    full_gc: FullGc = field(default_factory=FullGc)
    old_gen: OldGen = field(default_factory=OldGen)
    allocation_rate_mb_s: float | None = None
    promotion_rate_mb_s: float | None = None
    # Extra keys.
    run_id: int = 0
    files: list[str] = field(default_factory=list)
    start_time: str | None = None
    heap_max_bytes: int | None = None
    region_size_bytes: int | None = None
    window_s: float = 300.0
    throughput_worst_5min_pct: float | None = None
    throughput_worst_5min_start_s: float | None = None
    allocated_bytes: int | None = None
    promoted_bytes: int | None = None
    rate_span_s: float | None = None
    series: dict[str, Any] = field(default_factory=dict)
    # Beyond the pauses (gcscope.analysis.concurrent): concurrent cycles, allocation stalls,
    # degenerated GCs, safepoints (None when the log has no -Xlog:safepoint lines).
    concurrent: dict[str, Any] = field(default_factory=dict)
    stalls: dict[str, Any] = field(default_factory=dict)
    degenerated_gc_count: int = 0
    safepoints: dict[str, Any] | None = None
    leak: dict[str, Any] | None = None  # the leak verdict (gcscope.analysis.leak), when run
    extra: dict[str, Any] = field(default_factory=dict)  # keys added by other features

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["pauses"] = dataclasses.asdict(self.pauses)
        out["full_gc"] = dataclasses.asdict(self.full_gc)
        out["old_gen"] = dataclasses.asdict(self.old_gen)
        extra = out.pop("extra")
        return _clean({**out, **extra})

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "runs[0]") -> RunResult:
        _require(data, RUN_CONTRACT_KEYS, where)
        known, extra = _known(cls, data)
        known.pop("extra", None)
        known["pauses"] = Pauses.from_dict(data["pauses"], f"{where}.pauses")
        _require(data["full_gc"], ("count", "max_per_5min"), f"{where}.full_gc")
        known["full_gc"] = FullGc(**_known(FullGc, data["full_gc"])[0])
        _require(data["old_gen"], ("saturation_last_pct", "saturation_max_pct"), f"{where}.old_gen")
        known["old_gen"] = OldGen(**_known(OldGen, data["old_gen"])[0])
        return cls(**known, extra=extra)


# --- parsing -----------------------------------------------------------------------------------


@dataclass
class FileParse:
    file: str
    lines: int = 0
    unknown_lines: int = 0
    coverage_pct: float | None = None  # of the non-blank lines
    blank_lines: int = 0
    decorations: list[str] = field(default_factory=list)  # as detected, in the file's order
    grammars: list[str] = field(default_factory=list)  # grammar files applied
    truncated_last_line: bool = False


@dataclass
class UnknownLine:
    file: str | None
    line: int | None
    text: str
    explanation: str | None = None  # the reference parser's account: nearest rule, column, caret


@dataclass
class ParseSummary:
    files: int = 0
    lines: int = 0
    unknown_lines: int = 0
    coverage_pct: float | None = None
    per_file: list[FileParse] = field(default_factory=list)
    unknown: list[UnknownLine] = field(default_factory=list)  # the first --max-unknown lines
    skipped: list[str] = field(default_factory=list)  # inputs of a set that could not be read

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParseSummary:
        _require(data, PARSE_CONTRACT_KEYS, "parse")
        known, _ = _known(cls, data)
        known["per_file"] = [_file_parse(f) for f in data.get("per_file") or []]
        known["unknown"] = [_unknown_line(u) for u in data.get("unknown") or []]
        return cls(**known)

    @classmethod
    def from_report(cls, report: Any) -> ParseSummary:
        """From the ingest's ParseReport (or its `to_dict()` form). Coverage figures are taken
        unrounded from the report object when it has them: 99.9996 % must not print as 100."""
        data = report.to_dict() if hasattr(report, "to_dict") else dict(report)
        files = data.get("files", 0)
        per_file = [_file_parse(item) for item in data.get("per_file") or []]
        coverage = data.get("coverage_pct")
        if not isinstance(report, dict):
            coverage = getattr(report, "coverage_pct", coverage)
            for summary, file_report in zip(per_file, getattr(report, "files", None) or []):
                summary.coverage_pct = getattr(file_report, "coverage_pct", summary.coverage_pct)
        return cls(
            files=len(files) if isinstance(files, list | tuple) else int(files or 0),
            lines=int(data.get("lines") or 0),
            unknown_lines=int(data.get("unknown_lines") or 0),
            coverage_pct=coverage,
            per_file=per_file,
            unknown=[_unknown_line(item) for item in data.get("unknown") or []],
            skipped=[str(s) for s in data.get("skipped") or []],
        )


def _file_parse(item: dict[str, Any]) -> FileParse:
    unknown = item.get("unknown_lines", item.get("unknown"))
    blank = item.get("blank_lines", item.get("blank"))
    return FileParse(
        file=str(item.get("file")),
        lines=int(item.get("lines") or 0),
        unknown_lines=int(unknown or 0),
        coverage_pct=item.get("coverage_pct"),
        blank_lines=int(blank or 0),
        decorations=list(item.get("decorations") or []),
        grammars=list(item.get("grammars") or []),
        truncated_last_line=bool(item.get("truncated_last_line")),
    )


def _unknown_line(item: dict[str, Any]) -> UnknownLine:
    line = item.get("line")
    return UnknownLine(
        file=item.get("file"),
        line=int(line) if line is not None else None,
        text=str(item.get("text") or ""),
        explanation=item.get("explanation"),
    )


# --- the whole result --------------------------------------------------------------------------

RUN_CONTRACT_KEYS = (
    "collector",
    "jvm_version",
    "start_uptime_s",
    "end_uptime_s",
    "pauses",
    "throughput_pct",
    "full_gc",
    "old_gen",
    "allocation_rate_mb_s",
    "promotion_rate_mb_s",
)
PARSE_CONTRACT_KEYS = ("files", "lines", "unknown_lines", "coverage_pct")


@dataclass
class AnalysisResult:
    runs: list[RunResult] = field(default_factory=list)
    parse: ParseSummary = field(default_factory=ParseSummary)
    findings: list[dict[str, Any]] = field(default_factory=list)  # filled by the rules
    extra: dict[str, Any] = field(default_factory=dict)  # top-level keys of other features

    def to_dict(self) -> dict[str, Any]:
        from gcscope import __version__

        out = {
            "runs": [run.to_dict() for run in self.runs],
            "parse": dataclasses.asdict(self.parse),
            "findings": list(self.findings),
            **self.extra,
            "schema_version": SCHEMA_VERSION,
            "gcscope_version": __version__,
        }
        return _clean(out)

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=str)

    @classmethod
    def from_dict(cls, data: Any) -> AnalysisResult:
        """A result from its `to_dict()` form (e.g. a saved `--json` output). Raises InputError
        naming the missing key when the data is not a gcscope result."""
        _require(data, ("runs", "parse"), "the document")
        if not isinstance(data["runs"], list):
            raise InputError("not a gcscope result: runs is not a list")
        extra = {
            k: v
            for k, v in data.items()
            if k not in ("runs", "parse", "findings", "schema_version", "gcscope_version")
        }
        return cls(
            runs=[RunResult.from_dict(r, f"runs[{i}]") for i, r in enumerate(data["runs"])],
            parse=ParseSummary.from_dict(data["parse"]),
            findings=list(data.get("findings") or []),
            extra=extra,
        )

    @classmethod
    def from_json(cls, text: str) -> AnalysisResult:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not a gcscope result: invalid JSON ({exc.msg})", line=exc.lineno)
        return cls.from_dict(data)
