"""GCS009 (promotion failed) and GCS012 (concurrent mode failure) on real CMS logs: the JDK 11
sample log and the unified CMS logs of the corpus, read in place. Expected counts and lines come
from plain regular expressions over the raw text, not from gcscope's engine."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from gcscope import model
from gcscope.analysis import analyze_ingested, analyze_logs
from gcscope.ingest import read_events
from tests.conftest import SAMPLE_LOGS

CMS_GCSTAR = SAMPLE_LOGS / "jdk11" / "cms-gcstar.log"
CMS_GC = SAMPLE_LOGS / "jdk11" / "cms-gc.log"
CORPUS_CMS = ("gc.log", "gc_trace.log")  # under gctoolkit-gclogs/unified/cms/

GC_LINE = re.compile(r"^\[[^\]]*\](?:\[[^\]]*\])*\s*GC\((\d+)\) (.*)$")
FULL_SUMMARY = re.compile(r"Pause Full \(([^)]*)\) \S+->\S+ [\d.]+ms$")


def corpus_cms(corpus: Path) -> list[Path]:
    paths = [p for p in sorted(corpus.rglob("*")) if "unified/cms/" in p.as_posix() and p.is_file()]
    paths = [p for p in paths if "preunified" not in p.as_posix()]
    assert {p.name for p in paths} >= set(CORPUS_CMS)
    return paths


def raw_promotion_failures(path: Path) -> list[int]:
    """Line numbers of the full GC summary that follows each "Promotion failed" line."""
    lines = path.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.endswith("] Promotion failed"):
            full = next(
                n for n in range(i + 1, len(lines)) if FULL_SUMMARY.search(lines[n]) is not None
            )
            out.append(full + 1)
    return out


def raw_concurrent_mode_failures(path: Path) -> list[int]:
    """Line numbers of the full GC summaries that took over from a running CMS cycle: the last
    "Pause Initial Mark" before the full GC's start line belongs to a GC id whose "Concurrent
    Reset" (the end of a cycle) came after that start or never; the cause is no request. One
    per cycle."""
    lines = path.read_text().splitlines()
    reset_at: dict[str, int] = {}
    for n, line in enumerate(lines):
        m = GC_LINE.match(line)
        if m and m[2].startswith("Concurrent Reset "):
            reset_at[m[1]] = n
    last_mark = None
    started: dict[str, tuple[int, str | None]] = {}  # full GC id -> (start line, open cycle)
    out, seen_cycles = [], set()
    for n, line in enumerate(lines):
        m = GC_LINE.match(line)
        if not m:
            continue
        gc_id, message = m[1], m[2]
        if message.startswith("Pause Initial Mark ") and message.endswith("ms"):
            last_mark = gc_id
        elif message.startswith("Pause Full (") and not message.endswith("ms"):
            cycle_open = last_mark is not None and reset_at.get(last_mark, len(lines)) > n
            started[gc_id] = (n, last_mark if cycle_open else None)
        elif (summary := FULL_SUMMARY.search(message)) and gc_id in started:
            cycle = started[gc_id][1]
            if cycle is not None and cycle not in seen_cycles and "System.gc" not in summary[1]:
                seen_cycles.add(cycle)
                out.append(n + 1)
    return out


def lines_of(finding: dict) -> list[int]:
    return [int(line.rsplit(":", 1)[1]) for line in finding["evidence"]["lines"]]


def by_id(result) -> dict[str, dict]:
    return {f["id"]: f for f in result.findings}


def check_cms_log(path: Path) -> None:
    promotion = raw_promotion_failures(path)
    taken_over = raw_concurrent_mode_failures(path)
    assert promotion and taken_over, path  # the JVM wrote both into this log
    found = by_id(analyze_logs([path]))

    gcs009 = found["GCS009"]
    assert gcs009["severity"] == "error"
    assert gcs009["evidence"]["values"]["count"] == len(promotion)
    assert gcs009["evidence"]["values"]["failures"] == {"Promotion failed": len(promotion)}
    assert "Promotion failed" in gcs009["message"]
    assert lines_of(gcs009) == promotion[:5]  # the full GCs that took over
    assert all(line.startswith(f"{path}:") for line in gcs009["evidence"]["lines"])

    gcs012 = found["GCS012"]
    assert gcs012["severity"] == "error"
    assert gcs012["evidence"]["values"]["count"] == len(taken_over)
    assert gcs012["evidence"]["values"]["taken_over_from_cycle"] == len(taken_over)
    assert lines_of(gcs012) == taken_over[:5]


def test_promotion_failed_and_concurrent_mode_failure_on_the_jdk11_sample_log():
    check_cms_log(CMS_GCSTAR)


@pytest.mark.parametrize("name", CORPUS_CMS)
def test_promotion_failed_and_concurrent_mode_failure_on_corpus_cms_logs(corpus, name):
    (path,) = [p for p in corpus_cms(corpus) if p.name == name]
    check_cms_log(path)


def test_the_full_gc_after_promotion_failed_carries_the_failure():
    events = read_events([CMS_GCSTAR]).events
    failed = events.filter(pl.col(model.FAILURE).is_not_null())
    assert failed[model.KIND].to_list() == ["full", "full"]
    assert failed[model.FAILURE].to_list() == ["Promotion failed"] * 2
    assert failed[model.SOURCE_LINE].to_list() == raw_promotion_failures(CMS_GCSTAR)
    # the young collection that failed to promote does not count twice
    assert events.filter(pl.col(model.KIND) == "young")[model.FAILURE].null_count() == (
        events.filter(pl.col(model.KIND) == "young").height
    )


def test_quiet_on_a_cms_log_without_failures():
    raw = CMS_GC.read_text()
    assert "Promotion failed" not in raw and "Pause Full" not in raw
    assert "Pause Initial Mark" in raw  # concurrent cycles ran, and ended
    found = by_id(analyze_logs([CMS_GC]))
    assert "GCS009" not in found and "GCS012" not in found


def test_a_requested_full_gc_during_a_cycle_is_an_interruption_not_a_failure():
    ingest = read_events([CMS_GCSTAR])
    full = pl.col(model.KIND) == "full"
    ingest.events = ingest.events.with_columns(
        pl.when(full).then(pl.lit("System.gc()")).otherwise(pl.col(model.CAUSE)).alias(model.CAUSE),
        pl.when(full).then(None).otherwise(pl.col(model.FAILURE)).alias(model.FAILURE),
    )
    found = by_id(analyze_ingested(ingest))
    assert "GCS012" not in found and "GCS009" not in found


def test_a_full_gc_after_the_cycle_ended_is_no_concurrent_mode_failure():
    """The same log with every cycle's end moved before the full GCs: nothing was running."""
    ingest = read_events([CMS_GCSTAR])
    events = ingest.events
    fulls = events.filter(pl.col(model.KIND) == "full")[model.UPTIME_S].to_list()
    marks = events.filter(pl.col(model.KIND) == "initial_mark").sort(model.UPTIME_S)
    ended = []
    for t in fulls:  # the cycle each full GC interrupted ends just before it
        cycle = marks.filter(pl.col(model.UPTIME_S) < t).row(-1, named=True)
        ended.append(
            {
                **cycle,
                model.CATEGORY: model.CONCURRENT,
                model.KIND: "cycle",
                model.NAME: "Concurrent Cycle",
                model.UPTIME_S: cycle[model.UPTIME_S],
                model.DURATION_MS: (t - cycle[model.UPTIME_S]) * 1000.0 - 1.0,
            }
        )
    ingest.events = pl.concat([events, pl.DataFrame(ended, schema=events.schema)])
    found = by_id(analyze_ingested(ingest))
    assert "GCS012" not in found
    assert found["GCS009"]["evidence"]["values"]["count"] == 2  # promotion still failed
