"""What a report is made of: the analysis result (its JSON dict) and the events behind it.

Charts and the HTML page are pure functions of a `ReportData`. It is built either right after
an analysis (`ReportData.from_analysis`) or from a saved result: `gcscope analyze --save R.json`
writes the result as JSON and the events beside it as `R.events.parquet` (and live samples as
`R.samples.parquet`), so `gcscope report R.json` can draw every chart without the log.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from gcscope import model
from gcscope.errors import InputError

DEFAULT_PAUSE_THRESHOLD_MS = 500.0  # the field's usual "long pause" line (rules may override)


def events_side_file(result_path: str | Path) -> Path:
    """`out.json` -> `out.events.parquet` (the events a saved result's charts are drawn from)."""
    path = Path(result_path)
    return path.with_name(f"{path.name.removesuffix('.json')}.events.parquet")


def samples_side_file(result_path: str | Path) -> Path:
    """`out.json` -> `out.samples.parquet` (live pool samples, when the result has them)."""
    path = Path(result_path)
    return path.with_name(f"{path.name.removesuffix('.json')}.samples.parquet")


@dataclass(frozen=True)
class RunView:
    """One JVM run: its part of the result, its events and samples. Charts draw one run."""

    run_id: int
    summary: Mapping[str, Any]  # result["runs"][i]: metrics and run metadata
    events: pl.DataFrame  # EVENT_SCHEMA rows of this run
    samples: pl.DataFrame | None  # SAMPLE_SCHEMA rows of this run, live recordings only
    leak: Mapping[str, Any] | None  # the leak verdict of this run, None when not evaluated
    pause_threshold_ms: float
    config: Mapping[str, Any] | None = None  # result["config"]: the rules' thresholds, if any

    def rule_threshold(self, rule_id: str, key: str, default: float) -> float:
        """A threshold of a rule as the analysis used it (so a chart's reference line matches
        the findings), else the default."""
        return rule_threshold(self.config, rule_id, key, default)

    @property
    def heap_max_bytes(self) -> float | None:
        value = self.summary.get("heap_max_bytes")
        if value:
            return float(value)
        committed = self.events[model.HEAP_COMMITTED_BYTES].max()
        return float(committed) if committed is not None else None


@dataclass(frozen=True)
class ReportData:
    result: Mapping[str, Any]  # AnalysisResult.to_dict(): the JSON contract
    events: pl.DataFrame  # gcscope.model.EVENT_SCHEMA
    samples: pl.DataFrame | None = None  # gcscope.model.SAMPLE_SCHEMA (live recordings)
    source: str | None = None  # what was analysed, for the page title
    events_available: bool = True  # False: a saved result whose events file is missing
    # The text of the evidence lines the result quotes as "file:line" (see report/lines.py);
    # empty when the logs are not at hand (a saved result).
    line_texts: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_analysis(
        cls, result: Any, events: pl.DataFrame, samples=None, source=None, line_texts=None
    ):
        """From an AnalysisResult (or its dict) and the events it was computed from."""
        as_dict = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        # A JSON round trip makes the live and the saved path see exactly the same values.
        as_dict = json.loads(json.dumps(as_dict, default=str))
        return cls(
            as_dict, model.conform_events(events), samples, source, line_texts=line_texts or {}
        )

    @classmethod
    def load(cls, result_path: str | Path, events_path: str | Path | None = None) -> ReportData:
        """A saved result and its side files. Raises InputError naming the file at fault."""
        path = Path(result_path)
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("no such file", file=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read: {exc}", file=str(path)) from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not a gcscope result (invalid JSON: {exc.msg})", file=str(path), line=exc.lineno
            ) from None
        if not isinstance(result, dict) or "runs" not in result:
            raise InputError("not a gcscope result (no 'runs' key)", file=str(path))
        events_file = Path(events_path) if events_path else events_side_file(path)
        events = _read_parquet(events_file, model.EVENT_SCHEMA, required=events_path is not None)
        samples_file = samples_side_file(path)
        samples = _read_parquet(samples_file, model.SAMPLE_SCHEMA, required=False)
        if events is None:
            return cls(result, model.empty_events(), samples, str(path), events_available=False)
        return cls(result, model.conform_events(events), samples, source=str(path))

    @property
    def pause_threshold_ms(self) -> float:
        return pause_threshold_ms(self.result)

    def runs(self) -> Iterator[RunView]:
        leak_by_run = _leak_by_run(self.result)
        for index, summary in enumerate(self.result.get("runs") or []):
            run_id = int(summary.get(model.RUN_ID, index))
            events = _run_events(self.events, run_id)
            samples = None
            if self.samples is not None and self.samples.height:
                samples = self.samples.filter(pl.col(model.RUN_ID) == run_id).sort(model.UPTIME_S)
            leak = summary.get("leak") or leak_by_run.get(run_id)
            yield RunView(
                run_id,
                summary,
                events,
                samples,
                leak,
                self.pause_threshold_ms,
                self.result.get("config"),
            )


def _run_events(events: pl.DataFrame, run_id: int) -> pl.DataFrame:
    """One run's events by uptime. The table as it is when it holds only that run in that
    order already (the reader's timeline order): a filtered and sorted copy of a 2 GB log's
    table is ~300 MB held for as long as its charts are drawn."""
    ids = events.get_column(model.RUN_ID)
    uptime = events.get_column(model.UPTIME_S)
    if (ids.null_count() == 0 and (ids == run_id).all()
            and uptime.null_count() == 0 and uptime.is_sorted()):
        return events
    return events.filter(pl.col(model.RUN_ID) == run_id).sort(model.UPTIME_S)


def _read_parquet(path: Path, schema: dict, *, required: bool) -> pl.DataFrame | None:
    if not path.exists():
        if required:
            raise InputError("no such file", file=str(path))
        return None
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:  # missing, unreadable or corrupt
        raise InputError(f"not a readable Parquet file: {exc}", file=str(path)) from None
    if model.UPTIME_S not in frame.columns:
        raise InputError(f"missing column {model.UPTIME_S!r}", file=str(path))
    return frame.select(
        [
            pl.col(n).cast(t, strict=False) if n in frame.columns else pl.lit(None, t).alias(n)
            for n, t in schema.items()
        ]
    )


def _leak_by_run(result: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    """The leak verdict may sit per run (runs[i].leak) or at the top (leak, or a list)."""
    leak = result.get("leak")
    if isinstance(leak, Mapping):
        return {int(leak.get(model.RUN_ID, 0) or 0): leak}
    if isinstance(leak, list):
        return {int(item.get(model.RUN_ID, i) or 0): item for i, item in enumerate(leak)}
    return {}


def rule_threshold(
    config: Mapping[str, Any] | None, rule_id: str, key: str, default: float
) -> float:
    rules = (config or {}).get("rules") if isinstance(config, Mapping) else None
    value = ((rules or {}).get(rule_id) or {}).get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


def pause_threshold_ms(result: Mapping[str, Any]) -> float:
    """The long-pause threshold the rules used (so the chart's line matches the findings)."""
    value = (result.get("thresholds") or {}).get("pause_threshold_ms")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return rule_threshold(result.get("config"), "GCS004", "pause_ms", DEFAULT_PAUSE_THRESHOLD_MS)
