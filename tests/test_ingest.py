"""Ingestion: decorations, inputs (sets, archives, stdin), runs, and the events they yield.

Every figure compared here comes from a second, independent source: the JVM's own MXBean
counts saved beside each sample log, or the same log read another way.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest

from gcscope import model
from gcscope.ingest import DETECT_BYTES, read_events
from gcscope.ingest.decorations import DECORATORS, detect

from .conftest import SAMPLE_LOGS
from .corpus_logs import assert_counts_equal, bean_counts, pause_counts, sample_logs

JDK17 = SAMPLE_LOGS / "jdk17"
G1_GCSTAR = JDK17 / "g1-gcstar.log"
# Logs of every covered collector written by JDK 11, 17, 21 and 25, with the JVM's own counts
COUNTED_LOGS = sample_logs(with_mxbeans=True)


@pytest.mark.parametrize("log", COUNTED_LOGS, ids=[f"{p.parent.name}/{p.name}" for p in COUNTED_LOGS])
def test_pause_counts_equal_the_jvms_own_counts(log: Path):
    result = read_events([log])
    assert_counts_equal(result.events, bean_counts(log), log)
    assert result.parse.coverage_pct == 100.0, [u.text for u in result.parse.unknown_examples]


def test_g1_remark_and_cleanup_are_counted_separately():
    kinds = pause_counts(read_events([G1_GCSTAR]).events)
    assert kinds.get("remark", 0) > 0 and kinds.get("remark") == kinds.get("cleanup")


def test_a_promotion_failure_marks_the_young_pause_it_was_printed_in():
    """Parallel prints "Promotion failed" with no GC id while its young pause runs: the pause
    whose summary line follows is the one that failed (read from the raw lines here)."""
    log = SAMPLE_LOGS / "jdk11" / "parallel-gcstar-promotion-failed.log"
    lines = log.read_text().splitlines()
    failed_ids = set()
    for at, line in enumerate(lines):
        if line.endswith("] Promotion failed"):
            summary = next(later for later in lines[at + 1:] if re.search(r"\] GC\(\d+\) Pause Young \(.*\) \d", later))
            failed_ids.add(int(re.search(r"GC\((\d+)\)", summary).group(1)))
    assert failed_ids, "the sample log holds no promotion failure"
    events = read_events([log]).events
    failed = events.filter(pl.col(model.FAILURE) == "Promotion failed")
    assert set(failed.get_column(model.GC_ID).to_list()) == failed_ids
    assert set(failed.get_column(model.KIND).to_list()) == {"young"}


def test_every_decorator_is_read_somewhere_in_the_sample_logs():
    # A lone utctime cannot be told from a local time printed with +0000: both are absolute
    # times and are read alike, so they count as one here.
    seen: set[str] = set()
    for log in JDK17.glob("*.log"):
        seen.update(read_events([log]).parse.files[0].decorations)
    if "time" in seen:
        seen.add("utctime")
    assert set(DECORATORS) <= seen, f"never exercised: {set(DECORATORS) - seen}"


@pytest.mark.parametrize("line,expected", [
    ("[0.004s][info][gc] Using G1", ("uptime", "level", "tags")),
    ("[2026-11-25T09:28:04.586+0000][6ms][13232][13233][info][gc] Using G1",
     ("time", "uptimemillis", "pid", "tid", "level", "tags")),
    ("[2026-11-25T09:28:04.586+0100][2026-11-25T08:28:04.586+0000][0,004s][gc] Using G1",
     ("time", "utctime", "uptime", "tags")),
    ("[1764063000123ms][5000000ns][myhost.example][gc,init] Version: 17",
     ("timemillis", "uptimenanos", "hostname", "tags")),
    ("[9378123456789ns][debug] x", ("timenanos", "level")),
    ("[9378123456789ns][5123456ns][gc] x", ("timenanos", "uptimenanos", "tags")),
    ("no decorations at all", ()),
])
def test_decorations_are_told_apart_by_content(line: str, expected: tuple[str, ...]):
    assert detect([line]).fields == expected


def test_decorations_give_the_same_events_as_the_default_set():
    """Absolute time is converted to UTC; uptime from any uptime decorator in seconds."""
    log = JDK17 / "g1-gcstar-utctime-uptimemillis-pid-tid-level-tags.log"
    events = read_events([log]).events.filter(pl.col(model.CATEGORY) == model.PAUSE)
    assert events.get_column(model.TIME).null_count() == 0
    assert events.get_column(model.UPTIME_S).null_count() == 0
    # wall clock and uptime advance together (within the ms resolution of both)
    elapsed_wall = (events.get_column(model.TIME) - events.get_column(model.TIME).first()).dt.total_milliseconds() / 1e3
    elapsed_uptime = events.get_column(model.UPTIME_S) - events.get_column(model.UPTIME_S).first()
    assert (elapsed_wall - elapsed_uptime).abs().max() < 0.01


def test_rotated_set_is_ordered_by_uptime_not_by_name():
    rotated = JDK17 / "rotated"
    members = sorted(rotated.glob("g1.log*"))
    members = [m for m in members if not m.name.endswith(".json")]
    assert len(members) >= 3
    shuffled = members[:]
    random.Random(7).shuffle(shuffled)
    by_dir = read_events([rotated])
    by_files = read_events([str(m) for m in shuffled])
    for result in (by_dir, by_files):
        assert len(result.runs) == 1
        pauses = result.events.filter(pl.col(model.CATEGORY) == model.PAUSE)
        ids = pauses.get_column(model.GC_ID)
        # G1 remark and cleanup pauses carry the GC id of their concurrent cycle
        assert ids.is_sorted() and pauses.select(model.GC_ID, model.KIND).is_unique().all()
        uptimes = result.events.get_column(model.UPTIME_S)
        assert uptimes.is_sorted()
    assert by_dir.events.equals(by_files.events)
    # the set wraps around: its oldest file is not the one named .0 or the current one
    order = by_dir.runs[0]["files"]
    assert [Path(f).name for f in order] != sorted(Path(f).name for f in order)


def test_gz_and_zip_read_like_the_plain_file(tmp_path: Path):
    plain = read_events([G1_GCSTAR]).events.drop(model.SOURCE_FILE)
    gz = tmp_path / "gc.log.gz"
    gz.write_bytes(gzip.compress(G1_GCSTAR.read_bytes()))
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(G1_GCSTAR, "service/gc.log")
    for path in (gz, archive):
        events = read_events([path]).events
        assert events.drop(model.SOURCE_FILE).equals(plain)
    zipped = read_events([archive]).events.get_column(model.SOURCE_FILE).unique().to_list()
    assert zipped == [f"{archive}!service/gc.log"]


def test_zip_with_a_rotated_set_is_one_run(tmp_path: Path):
    archive = tmp_path / "rotated.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for member in (JDK17 / "rotated").glob("g1.log*"):
            if not member.name.endswith(".json"):
                z.write(member, member.name)
    direct = read_events([JDK17 / "rotated"])
    zipped = read_events([archive])
    assert len(zipped.runs) == 1
    assert zipped.events.drop(model.SOURCE_FILE).equals(direct.events.drop(model.SOURCE_FILE))


def test_a_restart_starts_a_new_run(tmp_path: Path):
    """Two JVM lifetimes in one file (a log appended to across restarts): two runs."""
    first, second = JDK17 / "g1-gcstar.log", JDK17 / "g1-gcstar-steady.log"
    both = tmp_path / "appended.log"
    both.write_bytes(first.read_bytes() + second.read_bytes())
    result = read_events([both])
    assert len(result.runs) == 2
    alone = [read_events([p]).events for p in (first, second)]
    for run, events in zip(result.runs, alone):
        mine = result.events.filter(pl.col(model.RUN_ID) == run[model.RUN_ID])
        assert pause_counts(mine) == pause_counts(events)
        assert run["start_uptime_s"] < 1.0  # each timeline starts at its own JVM start


def test_a_restart_with_another_collector_far_into_the_file_is_read_whole(tmp_path: Path):
    """A JVM restarted with another collector after the part of the file used to detect its
    format: the new collector's grammar joins from there, nothing of its run is lost."""
    g1_runs = [JDK17 / n for n in ("g1-gcstar-steady.log", "g1-gcstar-leak.log", "g1-gcstar.log")]
    parallel = JDK17 / "parallel-gcstar.log"
    appended = tmp_path / "appended.log"
    appended.write_bytes(b"".join(p.read_bytes() for p in g1_runs))
    assert appended.stat().st_size > DETECT_BYTES  # the Parallel run starts past the detection head
    appended.write_bytes(appended.read_bytes() + parallel.read_bytes())
    result = read_events([appended])
    assert [run["collector"] for run in result.runs] == ["G1", "G1", "G1", "Parallel"]
    assert result.parse.coverage_pct == 100.0, [u.text for u in result.parse.unknown_examples]
    last = result.events.filter(pl.col(model.RUN_ID) == result.runs[-1][model.RUN_ID])
    alone = read_events([parallel]).events
    assert pause_counts(last) == pause_counts(alone)
    old_after = model.gen_col("old", "after_bytes")
    assert last[old_after].to_list() == alone[old_after].to_list()  # per-generation figures too


def test_separate_files_are_separate_runs():
    result = read_events([JDK17 / "parallel-gcstar.log", JDK17 / "serial-gcstar.log"])
    assert [run["collector"] for run in result.runs] == ["Parallel", "Serial"]


def test_crlf_line_endings_read_like_lf(tmp_path: Path):
    crlf = tmp_path / "crlf.log"
    crlf.write_bytes(G1_GCSTAR.read_bytes().replace(b"\n", b"\r\n"))
    plain = read_events([G1_GCSTAR])
    windows = read_events([crlf])
    assert windows.parse.coverage_pct == 100.0
    assert windows.events.drop(model.SOURCE_FILE).equals(plain.events.drop(model.SOURCE_FILE))


def test_truncated_last_line_is_counted_not_lost(tmp_path: Path):
    data = G1_GCSTAR.read_bytes()
    cut = data.rfind(b"Pause Young")  # in the middle of the last pause summary line
    truncated = tmp_path / "truncated.log"
    truncated.write_bytes(data[: cut + 15])
    result = read_events([truncated])
    report = result.parse.files[0]
    assert report.truncated_last_line
    assert report.lines == data[: cut + 15].count(b"\n") + 1
    assert report.unknown == 1 and result.parse.unknown_examples[-1].line == report.lines


def test_every_line_is_recognised_or_counted_unknown(tmp_path: Path):
    data = G1_GCSTAR.read_bytes().split(b"\n")
    garbage = [b"this is not a GC log line", b"GC(5) Pause Young 1M->", b"\x01\x02binary"]
    mixed = data[:50] + garbage + data[50:]
    path = tmp_path / "mixed.log"
    path.write_bytes(b"\n".join(mixed))
    result = read_events([path])
    report = result.parse.files[0]
    assert report.lines == len(mixed) - (1 if mixed[-1] == b"" else 0)
    assert report.unknown == len(garbage)
    assert [u.line for u in result.parse.unknown_examples] == [51, 52, 53]
    assert all(u.explanation for u in result.parse.unknown_examples)
    # garbage never changes the events of the lines around it
    original = read_events([G1_GCSTAR]).events.drop(model.SOURCE_FILE, model.SOURCE_LINE)
    assert result.events.drop(model.SOURCE_FILE, model.SOURCE_LINE).equals(original)


def test_read_log_is_the_library_entry_point():
    import gcscope

    events = gcscope.read_log(str(G1_GCSTAR))
    assert isinstance(events, pl.DataFrame)
    assert list(events.schema.items()) == list(model.EVENT_SCHEMA.items())
    assert events.height == read_events([G1_GCSTAR]).events.height


def test_g1_regions_become_bytes_with_the_region_size():
    result = read_events([G1_GCSTAR])
    region = result.runs[0]["region_size_bytes"]
    assert region == 1024 * 1024  # "Heap Region Size: 1M" in the log
    young = result.events.filter(pl.col(model.KIND) == "young")
    # Old + humongous + survivor regions after a young GC hold at most the heap after GC
    used_after = young.select(pl.sum_horizontal("old_after_bytes", "humongous_after_bytes", "survivor_after_bytes"))
    assert (used_after.to_series() <= young.get_column(model.HEAP_AFTER_BYTES) + region).all()


def test_wanted_columns_bound_the_events_and_keep_region_inference(tmp_path: Path):
    from gcscope.analysis import ANALYSIS_COLUMNS

    # without its start-up lines (a rotated file): G1's region size must be inferred, from the
    # survivor, old and humongous regions after GC, although survivor occupancy is not wanted
    lines = G1_GCSTAR.read_text().splitlines(keepends=True)
    first_pause = next(i for i, line in enumerate(lines) if "Pause Young" in line)
    rotated = tmp_path / "gc.log.3"
    rotated.write_text("".join(lines[first_pause + 1:]))
    for path in (G1_GCSTAR, rotated):
        every = read_events([path])
        narrow = read_events([path], wanted=ANALYSIS_COLUMNS)
        assert narrow.runs[0]["region_size_bytes"] == every.runs[0]["region_size_bytes"] == 1024 * 1024
        assert bool(narrow.runs[0]["region_size_inferred"]) == bool(every.runs[0]["region_size_inferred"]) == (path == rotated)
        assert list(narrow.events.schema.items()) == list(model.EVENT_SCHEMA.items())
        for column in ("survivor_after_bytes", "survivor_capacity_bytes", model.USER_S, "eden_after_bytes"):
            assert every.events.get_column(column).null_count() < every.events.height, column
            assert narrow.events.get_column(column).null_count() == narrow.events.height, column
        kept = sorted({*model.EVENT_CORE_COLUMNS, *ANALYSIS_COLUMNS})
        assert narrow.events.select(kept).equals(every.events.select(kept))


def test_stdin_is_read_with_a_dash():
    completed = subprocess.run(
        [sys.executable, "-m", "gcscope.cli", "analyze", "-", "--json"], check=False,
        input=G1_GCSTAR.read_bytes(), capture_output=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    result = json.loads(completed.stdout)
    expected = sum(v for v in pause_counts(read_events([G1_GCSTAR]).events).values())
    assert result["runs"][0]["pauses"]["count"] == expected


@pytest.fixture()
def gcscope_cli():
    def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "gcscope.cli", *args], input=stdin, capture_output=True, check=False,
            text=False, timeout=120,
        )
    return run


def _bad_inputs(tmp_path: Path, corpus: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    no_logs = tmp_path / "nologs"
    no_logs.mkdir()
    (no_logs / "notes.md").write_text("nothing here")
    binary = tmp_path / "core.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    corrupt = tmp_path / "gc.log.gz"
    corrupt.write_bytes(gzip.compress(G1_GCSTAR.read_bytes())[:2000])
    legacy = corpus / "gctoolkit-testdata/gctoolkit-gclogs/preunified/cms/815_gc.log"
    return {
        "missing": (tmp_path / "absent.log", "no such file or directory"),
        "empty": (empty, "empty file"),
        "no logs": (no_logs, "directory holds no log files"),
        "binary": (binary, "binary file"),
        "corrupt gz": (corrupt, "corrupt or truncated compressed data"),
        "legacy": (legacy, "legacy format"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "no logs", "binary", "corrupt gz", "legacy"])
def test_bad_input_gets_one_clear_line_and_exit_3(case: str, tmp_path: Path, corpus: Path, gcscope_cli):
    path, expected = _bad_inputs(tmp_path, corpus)[case]
    completed = gcscope_cli("analyze", str(path))
    stderr = completed.stderr.decode()
    assert completed.returncode == 3, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0] and expected in lines[0], stderr


def test_one_bad_file_among_good_ones_is_reported_and_skipped(tmp_path: Path):
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    result = read_events([G1_GCSTAR, empty])
    assert len(result.runs) == 1
    assert len(result.parse.skipped) == 1 and str(empty) in result.parse.skipped[0]


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from gcscope.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('polars', 'matplotlib', 'jpype', 'pyparsing') if m in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                               check=False)
    assert completed.stdout.strip() == "[]", completed.stdout + completed.stderr


def test_json_analysis_piped_does_not_import_the_terminal_libraries():
    """`analyze --json` into a pipe draws nothing: rich (~0.1 s to import) stays unloaded, and
    the coverage line on stderr is plain text."""
    code = (
        "import sys; from gcscope.cli import main; status = main(['analyze', '--json', sys.argv[1]]); "
        "print(sorted(m for m in ('rich', 'matplotlib', 'jpype') if m in sys.modules), status, file=sys.stderr)"
    )
    completed = subprocess.run([sys.executable, "-c", code, str(G1_GCSTAR)], capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.stderr.splitlines()[-1] == "[] 0", completed.stderr
    assert completed.stderr.splitlines()[-2].startswith("Parsed 1 file, ")
    assert "\x1b[" not in completed.stderr  # no terminal styling in a pipe
    assert json.loads(completed.stdout)["parse"]["files"] == 1


def test_copy_of_sample_keeps_its_name_in_source_file(tmp_path: Path):
    copy = tmp_path / "odd <name> & more.log"
    shutil.copy(G1_GCSTAR, copy)
    files = read_events([copy]).events.get_column(model.SOURCE_FILE).unique().to_list()
    assert files == [str(copy)]


@pytest.mark.parametrize(("log", "field", "position"), [
    ("g1-gcstar-utctime-uptimemillis-pid-tid-level-tags.log", "pid", 2),
    ("g1-gcstar-time-uptimenanos-timemillis-hostname-tags.log", "hostname", 3),
])
def test_the_run_names_its_host_and_pid_when_the_log_decorates_with_them(log: str, field: str, position: int):
    path = JDK17 / log
    first = path.read_text().splitlines()[0]
    expected = re.findall(r"\[([^\]]*)\]", first)[position]
    run = read_events([path]).runs[0]
    assert str(run[field]) == expected
    other = "hostname" if field == "pid" else "pid"
    assert run[other] is None  # not decorated: unknown, never guessed


def test_cpu_times_join_the_pause_printed_before_them():
    """gc,cpu lines follow their pause: G1's remark and cleanup share a GC id with the mark
    cycle, and each keeps its own CPU times."""
    log = JDK17 / "g1-gcstar.log"
    lines = log.read_text().splitlines()
    expected = {}  # pause name -> Real seconds of the cpu line right after it, for one cycle
    for i, line in enumerate(lines):
        found = re.search(r"GC\((\d+)\) (Pause Remark|Pause Cleanup) \S+->", line)
        if found and "User=" in lines[i + 1]:
            expected.setdefault(found[1], {})[found[2]] = float(re.search(r"Real=([\d.]+)s", lines[i + 1])[1])
    gc_id, by_pause = next((k, v) for k, v in expected.items() if len(v) == 2)
    events = read_events([log]).events.filter(pl.col(model.GC_ID) == int(gc_id))
    got = dict(events.filter(pl.col(model.CATEGORY) == model.PAUSE).select(model.NAME, "real_s").iter_rows())
    assert got == by_pause
    cycle = events.filter(pl.col(model.CATEGORY) == model.CONCURRENT)
    assert cycle["real_s"].to_list() == [None]  # a concurrent cycle prints no CPU line
