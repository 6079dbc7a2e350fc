"""Property tests over real sample logs, damaged the ways production logs are damaged.

Truncated anywhere, random bytes and lines inserted, NUL bytes, CRLF, latin-1 bytes, lines
duplicated or shuffled, pause summaries missing, two JVMs' output interleaved. Properties:
- no exception escapes but gcscope's own (an `InputError`: exit status 3, one line naming the file);
- every line is counted: the report's lines are the input's lines, its blank lines the input's
  blank lines, and every other line is either recognised or listed as unknown at its own number;
- inserting garbage lines never changes the events of the original lines;
- the command exits with a documented status (README "Exit codes") and says why in one line.

Example counts are small so that the file runs in well under a minute.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import random
import string
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gcscope import model
from gcscope.errors import ExitStatus, GcscopeError, InputError
from gcscope.ingest import read_events

from .conftest import SAMPLE_LOGS

LOGS = [
    SAMPLE_LOGS / "jdk25" / "g1-gc.log",  # -Xlog:gc, default decorations
    SAMPLE_LOGS / "jdk17" / "parallel-gcstar.log",
    SAMPLE_LOGS / "jdk21" / "serial-gcstar.log",
    SAMPLE_LOGS / "jdk17" / "g1-gcstar-utctime-uptimemillis-pid-tid-level-tags.log",
]
TEXT = {log: log.read_bytes() for log in LOGS}
SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_counter = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def write(folder: Path, data: bytes, name: str = "gc.log") -> Path:
    path = folder / str(next(_counter)) / name
    path.parent.mkdir()
    path.write_bytes(data)
    return path


def read(path: Path):
    """The ingest result, or gcscope's own error; anything else escapes and fails the test."""
    try:
        return read_events([str(path)], max_unknown=10**9, explain=False)
    except GcscopeError as exc:
        assert isinstance(exc, InputError), exc
        assert exc.exit_status == ExitStatus.INPUT_UNREADABLE
        assert "\n" not in str(exc) and str(exc).startswith(f"{path}: "), str(exc)
        return exc


def input_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def check_accounting(data: bytes, result) -> None:
    """Every input line counted once: blank, recognised or unknown at its own line number."""
    lines = input_lines(data)
    report = result.parse
    assert len(report.files) == 1
    file = report.files[0]
    assert file.lines == len(lines)
    assert file.blank == sum(1 for line in lines if line in (b"", b"\r"))
    assert file.unknown >= 0 and file.recognised >= 0
    assert file.lines == file.recognised + file.unknown + file.blank
    assert len(report.unknown_examples) == file.unknown  # max_unknown is unbounded here
    for example in report.unknown_examples:
        raw = lines[example.line - 1]
        assert raw not in (b"", b"\r")
        if b"\x00" not in raw:
            try:
                expected = raw.decode("utf-8").removesuffix("\r")
            except UnicodeDecodeError:
                continue  # the replacement characters are polars' business
            assert example.text == expected
    assert file.truncated_last_line == (bool(data) and not data.endswith(b"\n"))


def comparable(events: pl.DataFrame) -> pl.DataFrame:
    """Events without where they were read (line numbers move when lines are inserted)."""
    return events.drop(model.SOURCE_LINE, model.SOURCE_FILE)


logs = st.sampled_from(LOGS)
garbage_text = st.text(alphabet=string.ascii_letters + string.digits + " _-=+*/.,;!?#%&'\"<>{}",
                       min_size=1, max_size=80)


@st.composite
def garbage_lines(draw, text: bytes) -> bytes:
    """A line no grammar knows: plain text, random bytes, latin-1 text, NULs, or a real line's
    decorations followed by text."""
    kind = draw(st.sampled_from(["plain", "bytes", "latin1", "nul", "decorated"]))
    if kind == "plain":
        return draw(garbage_text).encode()
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=60)).replace(b"\n", b"").replace(b"\r", b"") or b"?"
    if kind == "latin1":
        return ("Zürich Ångström café " + draw(garbage_text)).encode("latin-1")
    if kind == "nul":
        return b"\x00" * draw(st.integers(1, 8)) + draw(garbage_text).encode()
    lines = input_lines(text)
    line = lines[draw(st.integers(0, len(lines) - 1))]
    cut = line.rfind(b"] ")
    prefix = line[: cut + 2] if cut >= 0 else b""
    return prefix + b"zz " + draw(garbage_text).encode()


# --- no exception escapes; every line is counted ------------------------------------------------


@SETTINGS
@given(log=logs, data=st.data())
def test_truncated_anywhere(folder, log, data):
    text = TEXT[log]
    cut = data.draw(st.integers(0, len(text)))
    result = read(write(folder, text[:cut]))
    if isinstance(result, GcscopeError):  # only an empty cut is not a log
        assert not text[:cut].strip() and "empty file" in str(result), result
        return
    check_accounting(text[:cut], result)


@SETTINGS
@given(log=logs, data=st.data())
def test_random_bytes_inserted(folder, log, data):
    text = TEXT[log]
    damaged = text
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(damaged)))
        damaged = damaged[:at] + data.draw(st.binary(min_size=1, max_size=40)) + damaged[at:]
    result = read(write(folder, damaged))
    if not isinstance(result, GcscopeError):
        check_accounting(damaged, result)


@SETTINGS
@given(log=logs, data=st.data())
def test_duplicated_and_shuffled_lines(folder, log, data):
    lines = input_lines(TEXT[log])
    seed = data.draw(st.integers(0, 2**32))
    rng = random.Random(seed)
    mode = data.draw(st.sampled_from(["duplicate", "shuffle-window", "shuffle-all"]))
    if mode == "duplicate":
        for _ in range(rng.randint(1, 30)):
            at = rng.randrange(len(lines))
            lines.insert(at, lines[at])
    elif mode == "shuffle-window":
        at = rng.randrange(len(lines))
        window = lines[at:at + 40]
        rng.shuffle(window)
        lines[at:at + 40] = window
    else:
        rng.shuffle(lines)
    damaged = b"\n".join(lines) + b"\n"
    result = read(write(folder, damaged))
    assert not isinstance(result, GcscopeError), result
    check_accounting(damaged, result)


def test_two_jvms_interleaved(folder):
    """Two JVMs writing into one file: line by line, and in runs of lines."""
    first, second = (input_lines(TEXT[log]) for log in LOGS[1:3])
    for step in (1, 7):
        merged = []
        for i in range(0, max(len(first), len(second)), step):
            merged += first[i:i + step] + second[i:i + step]
        damaged = b"\n".join(merged) + b"\n"
        result = read(write(folder, damaged))
        assert not isinstance(result, GcscopeError), result
        check_accounting(damaged, result)
        assert result.events.height > 0


# --- garbage lines change nothing; CRLF changes nothing -----------------------------------------


@SETTINGS
@given(log=logs, data=st.data())
def test_inserted_garbage_lines_change_no_event(folder, log, data):
    text = TEXT[log]
    lines = input_lines(text)
    count = data.draw(st.integers(1, 20))
    inserted = sorted(
        (data.draw(st.integers(0, len(lines))), data.draw(garbage_lines(text))) for _ in range(count)
    )
    damaged_lines = list(lines)
    for offset, (at, garbage) in enumerate(inserted):
        damaged_lines.insert(at + offset, garbage)
    damaged = b"\n".join(damaged_lines) + b"\n"
    original = read(write(folder, text))
    result = read(write(folder, damaged))
    assert not isinstance(result, GcscopeError), result
    check_accounting(damaged, result)
    assert result.parse.unknown_lines == original.parse.unknown_lines + count
    assert len(result.runs) == len(original.runs)
    assert comparable(result.events).equals(comparable(original.events), null_equal=True)


@SETTINGS
@given(log=logs, data=st.data())
def test_crlf_changes_nothing(folder, log, data):
    text = TEXT[log]
    lines = input_lines(text)
    every = data.draw(st.integers(1, 5))  # every Nth line ends in CRLF (1: all)
    damaged = b"".join(line + (b"\r\n" if i % every == 0 else b"\n") for i, line in enumerate(lines))
    original = read(write(folder, text))
    result = read(write(folder, damaged))
    check_accounting(damaged, result)
    assert result.parse.unknown_lines == original.parse.unknown_lines
    assert comparable(result.events).equals(comparable(original.events), null_equal=True)


@SETTINGS
@given(log=logs, data=st.data())
def test_missing_pause_summaries_lose_those_pauses_only(folder, log, data):
    """The one-line `Pause …` summary anchors a pause: without it that pause is gone, the
    others stay."""
    text = TEXT[log]
    original = read(write(folder, text))
    pauses = original.events.filter(pl.col(model.CATEGORY) == model.PAUSE)
    assume(pauses.height > 0)
    lines = input_lines(text)
    chosen = set(data.draw(st.lists(st.sampled_from(pauses[model.SOURCE_LINE].to_list()),
                                    min_size=1, max_size=10, unique=True)))
    damaged = b"".join(line + b"\n" for number, line in enumerate(lines, 1) if number not in chosen)
    result = read(write(folder, damaged))
    check_accounting(damaged, result)
    kept = result.events.filter(pl.col(model.CATEGORY) == model.PAUSE)
    assert kept.height == pauses.height - len(chosen)
    assert sorted(kept[model.GC_ID].to_list()) == sorted(
        pauses.filter(~pl.col(model.SOURCE_LINE).is_in(sorted(chosen)))[model.GC_ID].to_list()
    )


# --- the command: documented exit status, one line of explanation -------------------------------


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(log=logs, data=st.data())
def test_command_exit_status_and_message(folder, log, data):
    from gcscope.cli import main

    text = TEXT[log]
    mode = data.draw(st.sampled_from(["truncate", "bytes", "nul-head", "empty", "binary"]))
    if mode == "truncate":
        damaged = text[: data.draw(st.integers(0, len(text)))]
    elif mode == "bytes":
        at = data.draw(st.integers(0, len(text)))
        damaged = text[:at] + data.draw(st.binary(min_size=1, max_size=200)) + text[at:]
    elif mode == "nul-head":
        damaged = b"\x00" * data.draw(st.integers(1, 4096)) + text
    elif mode == "empty":
        damaged = b" \n\n\t\n" * data.draw(st.integers(0, 3))
    else:
        damaged = bytes(data.draw(st.lists(st.integers(0, 31), min_size=64, max_size=4096)))
    path = write(folder, damaged)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["analyze", "--json", str(path)])
    out, err = stdout.getvalue(), stderr.getvalue()
    assert status in (ExitStatus.OK, ExitStatus.INPUT_UNREADABLE)
    assert "Traceback" not in err
    if status == ExitStatus.OK:
        doc = json.loads(out)
        assert doc["parse"]["lines"] == len(input_lines(damaged))
    else:
        assert out == ""
        assert err.count("\n") == 1 and err.startswith(f"gcscope: error: {path}: "), err
        if not damaged.strip():
            assert "empty file" in err
