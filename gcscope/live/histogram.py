"""Class histograms (`GC.class_histogram` text) and their diff across snapshots.

Rows look like `   1:   17641   13498016  [B (java.base@17.0.15)`: rank, instances, bytes, class
name, optional module; a `Total` line closes the table. The same on JDK 17 and 25.
The diff ranks classes by growth in bytes (then instances) from the first snapshot to the last,
those accumulating objects (more instances and more bytes) before those that only grew in bytes,
and marks the classes whose bytes grew in every step: the usual signature of a leak.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from gcscope.errors import InputError

_ROW = re.compile(
    r"^\s*\d+:\s+(?P<instances>\d+)\s+(?P<bytes>\d+)\s+(?P<name>\S+)(?:\s+\((?P<module>[^)]*)\))?\s*$"
)
_TOTAL = re.compile(r"^\s*Total\s+(?P<instances>\d+)\s+(?P<bytes>\d+)\s*$")


@dataclass
class Histogram:
    classes: dict[str, tuple[int, int]]  # class name → (instances, bytes)
    total_instances: int
    total_bytes: int
    source: str = ""
    modules: dict[str, str] = field(default_factory=dict)


def parse_histogram(text: str, *, source: str = "histogram") -> Histogram:
    classes: dict[str, tuple[int, int]] = {}
    modules: dict[str, str] = {}
    total: tuple[int, int] | None = None
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            name = match.group("name")
            instances, size = int(match.group("instances")), int(match.group("bytes"))
            if name in classes:  # same name from two class loaders: add them up
                old = classes[name]
                instances, size = instances + old[0], size + old[1]
            classes[name] = (instances, size)
            if match.group("module"):
                modules[name] = match.group("module")
            continue
        match = _TOTAL.match(line)
        if match:
            total = (int(match.group("instances")), int(match.group("bytes")))
    if not classes:
        raise InputError(
            "no class histogram rows found (expected lines like "
            "'   1:   123   4567  java.lang.String')",
            file=source,
        )
    if total is None:
        total = (sum(i for i, _ in classes.values()), sum(b for _, b in classes.values()))
    return Histogram(classes, total[0], total[1], source, modules)


def read_histogram(path: str | Path) -> Histogram:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise InputError("no such file", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None
    return parse_histogram(text, source=str(path))


@dataclass
class ClassGrowth:
    name: str
    bytes_first: int
    bytes_last: int
    instances_first: int
    instances_last: int
    grew_every_snapshot: bool
    bytes_series: list[int]

    @property
    def bytes_growth(self) -> int:
        return self.bytes_last - self.bytes_first

    @property
    def instances_growth(self) -> int:
        return self.instances_last - self.instances_first

    def as_dict(self) -> dict:
        return {
            "class": self.name,
            "bytes_growth": self.bytes_growth,
            "instances_growth": self.instances_growth,
            "bytes_first": self.bytes_first,
            "bytes_last": self.bytes_last,
            "instances_first": self.instances_first,
            "instances_last": self.instances_last,
            "grew_every_snapshot": self.grew_every_snapshot,
            "bytes_series": self.bytes_series,
        }


def diff(snapshots: list[Histogram]) -> list[ClassGrowth]:
    """Classes ranked by growth in bytes, then instances, from the first snapshot to the last."""
    if len(snapshots) < 2:
        raise InputError("a histogram diff needs at least two snapshots")
    names = set().union(*(h.classes for h in snapshots))
    growth = []
    for name in names:
        series = [h.classes.get(name, (0, 0)) for h in snapshots]
        byte_series = [b for _, b in series]
        every = all(b2 > b1 for b1, b2 in itertools.pairwise(byte_series))
        growth.append(
            ClassGrowth(
                name,
                byte_series[0],
                byte_series[-1],
                series[0][0],
                series[-1][0],
                every,
                byte_series,
            )
        )
    # Classes accumulating objects (more instances AND more bytes) first: that is how a leak
    # looks. A class that only grew in bytes with fewer instances is arrays getting larger (the
    # collector's int[] fillers among them), which a diff of two snapshots cannot call a leak.
    growth.sort(
        key=lambda g: (
            not (g.instances_growth > 0 and g.bytes_growth > 0),
            -g.bytes_growth,
            -g.instances_growth,
            g.name,
        )
    )
    return growth
