#!/usr/bin/env python3
"""Catalogue the distinct message shapes in the sample GC logs (writes LINE-SHAPES.md).

A line's shape is its message with the decorations stripped, hex addresses replaced by ``0xN``,
sizes with a unit (``64M``, ``512K``, ``12B``) by ``S``, other numbers by ``N`` (digits right after
a letter, as in ``G1``, are kept), lists of numbers (``N, N, N``) by ``N, …`` and runs of
whitespace collapsed to one space. Shapes are grouped by collector; for each one the table gives
the JDK versions it was seen in, the level and tags (from logs that have those decorations), how
many lines have that shape, and one raw line as an example. Statistics tables (tags ``gc,stats``)
are listed in a shorter form: one row per row pattern, with the row labels it was seen with.

Usage: python sample_logs/line_shapes.py [--output sample_logs/LINE-SHAPES.md]
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
JDKS = ["11", "17", "21", "25"]
LEVELS = {"trace", "debug", "info", "warning", "error"}
COLLECTORS = {  # file name prefix -> section title, in the order of the document
    "g1": "G1",
    "parallel": "Parallel",
    "serial": "Serial",
    "cms": "CMS",
    "zgc": "ZGC, non-generational (JDK 11, 17, 21)",
    "zgc-generational": "ZGC, generational (JDK 21 with -XX:+ZGenerational; JDK 25, where it is the only mode)",
    "shenandoah": "Shenandoah",
    "shenandoah-generational": "Shenandoah, generational mode",
    "epsilon": "Epsilon",
}
DECORATION = re.compile(r"^((?:\[[^\]]*\])+) ?")
HEX = re.compile(r"0x[0-9a-fA-F]+")
NUMBER = re.compile(r"(?<![A-Za-z_\d])[-+]?\d+(?:[.,]\d+)*")
SIZE = re.compile(r"(?<![A-Za-z_\d])N(?:[KMGT]?B|[KMGT])(?![A-Za-z])")
LIST = re.compile(r"(?<![A-Za-z_])N(?:, ?N(?![A-Za-z_]))+(?:, ?…)?,?")
TAGS = re.compile(r"^[a-z][a-z0-9_]*(?:,[a-z][a-z0-9_]*)*$")
DEFAULT_DECORATIONS = re.compile(r"^\[\d+\.\d+s\]\[\w+ *\]\[[a-z0-9_, ]+\]")
# where a statistics row's label ends: at " = ", at "<avg>"-style markers or at the first number
STATS_VALUE = re.compile(r"(?: = |: N(?![A-Za-z])| [NS](?![A-Za-z])| <)")


@dataclass
class Shape:
    count: int = 0
    jdks: set[str] = field(default_factory=set)
    baseline_jdks: set[str] = field(default_factory=set)
    levels: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    example: str = ""

    def is_stats(self) -> bool:
        return "gc,stats" in self.tags


def prefix_of(log: Path) -> str:
    """The collector part of the file name: "g1", "zgc-generational", ... (longest match)."""
    for key in sorted(COLLECTORS, key=len, reverse=True):
        if log.name.startswith(key + "-") or log.name.startswith(key + "."):
            return key
    raise ValueError(f"unknown collector for {log}")


def collector_of(log: Path) -> str:
    key = prefix_of(log)
    if key == "zgc" and log.parent.name == "jdk25":
        return "zgc-generational"  # JDK 25 has only generational ZGC
    return key


def is_baseline(log: Path) -> bool:
    """The plain `<collector>-gcstar.log` runs: same workload and flags on every JDK."""
    return log.name == f"{prefix_of(log)}-gcstar.log"


def shape_of(line: str) -> tuple[str, str, str]:
    """(level or "", tags or "", shape) of one raw log line."""
    m = DECORATION.match(line)
    groups = [g.strip() for g in re.findall(r"\[([^\]]*)\]", m.group(1))] if m else []
    message = line[m.end():] if m else line
    level = tags = ""
    if groups and TAGS.match(groups[-1]) and groups[-1] not in LEVELS:
        tags = groups.pop()
    if groups and groups[-1] in LEVELS:
        level = groups[-1]
    shape = NUMBER.sub("N", HEX.sub("\0", message)).replace("\0", "0xN")
    shape = LIST.sub("N, …", SIZE.sub("S", shape))
    return level, tags, " ".join(shape.split()) or "(empty message)"


def sample_logs() -> list[Path]:
    logs = [p for p in HERE.glob("jdk*/**/*") if p.is_file() and re.search(r"\.log(\.\d+)?$", p.name)]
    return sorted(logs)


def collect():
    shapes: dict[str, dict[str, Shape]] = defaultdict(dict)
    jdks_run: dict[str, set[str]] = defaultdict(set)
    baseline_run: dict[str, set[str]] = defaultdict(set)
    logs = sample_logs()
    for log in logs:
        jdk = log.relative_to(HERE).parts[0].removeprefix("jdk")
        coll = collector_of(log)
        jdks_run[coll].add(jdk)
        baseline = is_baseline(log)
        if baseline:
            baseline_run[coll].add(jdk)
        for raw in log.read_text(errors="replace").splitlines():
            if not raw.strip():
                continue
            level, tags, shape = shape_of(raw)
            s = shapes[coll].setdefault(shape, Shape())
            s.count += 1
            s.jdks.add(jdk)
            if baseline:
                s.baseline_jdks.add(jdk)
            if level:
                s.levels.add(level)
            if tags:
                s.tags.add(tags)
            # prefer an example with the default decorations (uptime, level, tags)
            if not s.example or (DEFAULT_DECORATIONS.match(raw) and not DEFAULT_DECORATIONS.match(s.example)):
                s.example = raw
    return shapes, jdks_run, baseline_run, len(logs)


BANNER_TAGS = {"gc,init", "gc,heap,exit", "gc,exit", "gc,metaspace", "gc,heap,coops", "gc,cds", "gc,heap"}


def is_banner(shape: str, s: Shape) -> bool:
    """A start-up or exit line (heap layout, versions, metaspace summary), not a per-GC line."""
    return bool(s.tags) and s.tags <= BANNER_TAGS and not shape.startswith("GC(N)")


def md(text: str) -> str:
    """Text for a markdown table cell, as code."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def jdk_marks(jdks: set[str], ran: list[str]) -> str:
    return " | ".join("x" if j in jdks else ("·" if j in ran else "") for j in JDKS)


def stats_families(shapes: dict[str, Shape]) -> dict[str, tuple[list[str], Shape]]:
    """gc,stats shapes grouped by row pattern (label replaced by <label>)."""
    families: dict[str, tuple[list[str], Shape]] = {}
    for shape, s in sorted(shapes.items()):
        if not s.is_stats():
            continue
        m = STATS_VALUE.search(shape)
        label, pattern = (shape[: m.start()], "<label>" + shape[m.start():]) if m and m.start() else ("", shape)
        labels, total = families.setdefault(pattern, ([], Shape()))
        if label:
            labels.append(label)
        total.count += s.count
        total.jdks |= s.jdks
        total.example = total.example or s.example
    return families


INTRO = """\
# Line shapes in the sample logs

Generated by `python sample_logs/line_shapes.py` from the {nlogs} log files below
`sample_logs/jdk*/` (README.md says how each one was made). A working document for the grammar:
which message shapes each collector writes, and which of them changed between JDK versions.

A *shape* is a log line with its decorations stripped, hex addresses replaced by `0xN`, sizes
with a unit (`64M`, `512K`, `12B`) by `S`, other numbers by `N` (digits right after a letter, as in
`G1`, are kept; `10s` becomes `Ns`), lists of numbers by `N, …`, and whitespace runs collapsed to one space
(so padded tables such as ZGC's statistics collapse too; the raw example keeps the padding).

Columns: the JDKs whose logs contain the shape (`x`; `·` = this collector was logged on that
JDK but the shape never appeared; blank = this collector was not logged on that JDK), level and
tags as decorated (blank when the shape was only seen in logs without those decorations), the
number of lines, the shape, and one raw line. Statistics tables (tags `gc,stats`: ZGC's periodic
statistics, Shenandoah's per-cycle and exit timing tables) are listed after each collector's
main table, one row per row pattern, with the row labels seen.

Each collector section ends with the wording drift between JDK versions: shapes that appear in
the plain `<collector>-gcstar.log` logs of some JDKs but not of others (statistics rows left
out). Those logs come from the same workload with the same flags on every JDK, so such
differences come from the JVM and not from the workload; shapes seen only in the special runs
(System.gc(), humongous, leak, out-of-memory, other decorations) are not counted as drift. Some
are still chance (a degenerated cycle that happened in one run only); judge by the wording.
"""


def render(shapes, jdks_run, baseline_run, nlogs: int) -> str:
    out = [INTRO.format(nlogs=nlogs)]
    for coll, title in COLLECTORS.items():
        if coll not in shapes:
            continue
        ran = sorted(jdks_run[coll])
        main = {k: s for k, s in shapes[coll].items() if not s.is_stats()}
        families = stats_families(shapes[coll])
        out += [f"## {title}", "",
                f"Logs from JDK {', '.join(ran)}: {len(main)} shapes, "
                f"{len(shapes[coll]) - len(main)} statistics rows in {len(families)} patterns.", "",
                "| 11 | 17 | 21 | 25 | level | tags | lines | shape | example |",
                "| --- | --- | --- | --- | --- | --- | ---: | --- | --- |"]

        def order(item):
            s = item[1]
            return (min(s.tags) if s.tags else "~", item[0])

        for shape, s in sorted(main.items(), key=order):
            out.append(f"| {jdk_marks(s.jdks, ran)} | {'/'.join(sorted(s.levels))} | "
                       f"{'<br>'.join(sorted(s.tags))} | {s.count} | {md(shape)} | {md(s.example)} |")
        out.append("")
        if families:
            out += [f"### {title}: statistics rows (`gc,stats`)", "",
                    "| 11 | 17 | 21 | 25 | lines | row pattern | labels | example |",
                    "| --- | --- | --- | --- | ---: | --- | --- | --- |"]
            for pattern, (labels, s) in sorted(families.items()):
                shown = ", ".join(md(label) for label in labels) or "(none)"
                out.append(f"| {jdk_marks(s.jdks, ran)} | {s.count} | {md(pattern)} | {shown} | {md(s.example)} |")
            out.append("")
        base = sorted(baseline_run[coll])
        if len(base) > 1:
            drift = defaultdict(list)
            for shape, s in main.items():
                if s.baseline_jdks and s.baseline_jdks != set(base):
                    drift[tuple(sorted(s.baseline_jdks))].append(shape)
            out += [f"### {title}: drift between the plain gc* logs of JDK {', '.join(base)}", ""]
            if not drift:
                out += ["None.", ""]
            for jdks in sorted(drift, key=lambda t: (len(t), t)):
                banner = sorted(x for x in drift[jdks] if is_banner(x, main[x]))
                rest = sorted(x for x in drift[jdks] if not is_banner(x, main[x]))
                out += [f"Only in JDK {', '.join(jdks)}:", ""]
                out += [f"- {md(shape)}" for shape in rest]
                if banner:
                    out.append(f"- start-up and exit lines: {'; '.join(md(x) for x in banner)}")
                out.append("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", type=Path, default=HERE / "LINE-SHAPES.md")
    opts = ap.parse_args()
    text = render(*collect())
    opts.output.write_text(text)
    print(f"{opts.output}: {text.count(chr(10))} lines")


if __name__ == "__main__":
    main()
