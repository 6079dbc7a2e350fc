"""Class histogram text and the diff that ranks growing classes."""

from __future__ import annotations

import re
import subprocess

import pytest

from gcscope.errors import InputError
from gcscope.live.histogram import diff, parse_histogram, read_histogram


def histo_text(rows: list[tuple[str, int, int]]) -> str:
    """The GC.class_histogram layout (JDK 17/25), rows as (class, instances, bytes)."""
    lines = [
        " num     #instances         #bytes  class name (module)",
        "-------------------------------------------------------",
    ]
    for rank, (name, instances, size) in enumerate(rows, start=1):
        module = " (java.base@17.0.15)" if name.startswith(("java.", "[")) else ""
        lines.append(f"{rank:>4}:{instances:>14}{size:>15}  {name}{module}")
    lines.append(f"Total{sum(r[1] for r in rows):>14}{sum(r[2] for r in rows):>15}")
    return "\n".join(lines) + "\n"


def test_parses_rows_modules_and_total():
    h = parse_histogram(
        histo_text(
            [("[B", 100, 5000), ("java.lang.String", 40, 960), ("com.acme.Order$Line", 3, 72)]
        )
    )
    assert h.classes["[B"] == (100, 5000)
    assert h.classes["com.acme.Order$Line"] == (3, 72)
    assert h.modules["java.lang.String"] == "java.base@17.0.15"
    assert (h.total_instances, h.total_bytes) == (143, 6032)


def test_text_without_rows_is_an_input_error():
    with pytest.raises(InputError, match="no class histogram rows"):
        parse_histogram("hello\nworld\n", source="x.txt")


def test_diff_ranks_by_bytes_growth_and_marks_steady_growers(tmp_path):
    snaps = [
        [("[B", 100, 5000), ("Leak", 10, 1000), ("Cache", 5, 500), ("Gone", 9, 900)],
        [("[B", 90, 9000), ("Leak", 20, 2000), ("Cache", 5, 400)],
        [("[B", 95, 5500), ("Leak", 30, 3000), ("Cache", 5, 800)],
    ]
    paths = []
    for i, rows in enumerate(snaps):
        path = tmp_path / f"h{i}.txt"
        path.write_text(histo_text(rows))
        paths.append(path)
    ranking = diff([read_histogram(p) for p in paths])
    names = [g.name for g in ranking]
    assert names[0] == "Leak"  # +2000 bytes, grew every time
    assert ranking[0].bytes_growth == 2000 and ranking[0].instances_growth == 20
    assert ranking[0].grew_every_snapshot
    by_name = {g.name: g for g in ranking}
    assert not by_name["[B"].grew_every_snapshot  # +500 overall, but it dipped
    assert by_name["Cache"].bytes_series == [500, 400, 800]
    assert names[-1] == "Gone" and by_name["Gone"].bytes_growth == -900


def test_classes_gaining_objects_rank_above_arrays_that_only_got_bigger():
    snaps = [
        parse_histogram(histo_text([("[I", 50, 1000), ("Leak", 10, 800)])),
        parse_histogram(histo_text([("[I", 40, 9000), ("Leak", 60, 4800)])),
    ]
    ranking = diff(snaps)
    assert [g.name for g in ranking] == ["Leak", "[I"]
    assert ranking[1].bytes_growth == 8000 > ranking[0].bytes_growth == 4000


def test_diff_needs_two_snapshots():
    with pytest.raises(InputError):
        diff([parse_histogram(histo_text([("A", 1, 16)]))])


@pytest.mark.jvm
def test_parses_a_real_jvm_histogram_and_its_total():
    from tests.jmx_support import start_target

    target = start_target("-XX:+UseSerialGC", jmx=False)
    try:
        text = subprocess.run(
            ["jcmd", str(target.pid), "GC.class_histogram"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    finally:
        target.stop()
    h = parse_histogram(text)
    rank_lines = [line for line in text.splitlines() if re.match(r"^\s*\d+:\s+\d+", line)]
    assert len(h.classes) == len(rank_lines) > 100  # every row read (one class loader here)
    assert "java.lang.String" in h.classes
    # the JVM's own Total line against the sum of the rows we parsed
    assert sum(b for _, b in h.classes.values()) == h.total_bytes
    assert sum(i for i, _ in h.classes.values()) == h.total_instances
