"""Unified-logging decorations: detected once per file, then parsed with one expression.

`-Xlog:...:decorators` takes any subset of `time utctime uptime timemillis uptimemillis
timenanos uptimenanos hostname pid tid level tags`; each is printed in its own `[...]`. We tell
them apart by their content (an ISO time, "12.345s", "1234ms", "5678ns", a bare number for
pid then tid, a level word, a tag list), so the order does not matter.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

DECORATORS = (
    "time", "utctime", "uptime", "timemillis", "uptimemillis", "timenanos", "uptimenanos",
    "hostname", "pid", "tid", "level", "tags",
)
LEVELS = ("trace", "debug", "info", "warning", "error")

# Regex for the content of each decorator's brackets (Rust regex / Python re common subset).
_CONTENT = {
    "time": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d{4}",
    "utctime": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d{4}",
    "uptime": r"\d+[.,]\d+s",
    "timemillis": r"\d+ms",
    "uptimemillis": r"\d+ms",
    "timenanos": r"\d+ns",
    "uptimenanos": r"\d+ns",
    "hostname": r"[^\]]*",
    "pid": r"\d+",
    "tid": r"\d+",
    "level": r"(?:trace|debug|info|warning|error) *",
    "tags": r"[a-z0-9_]+(?:,[a-z0-9_]+)* *",
}
_BRACKETS = re.compile(r"^((?:\[[^\]\n]*\])+) ?")
_ISO = re.compile(_CONTENT["time"])
# Past this many milliseconds since 1970 a "...ms" decoration is a wall-clock time, not uptime.
_EPOCH_MS_FLOOR = 10**11  # 1973-03-03: no JVM uptime is that long
_MONOTONIC_NS_FLOOR = 10**12  # 17 minutes: a log's first lines are written right after JVM start


@dataclasses.dataclass(frozen=True)
class Decorations:
    """The decorators one file uses, in the order they appear."""

    fields: tuple[str, ...]

    @property
    def has_tags(self) -> bool:
        return "tags" in self.fields

    @property
    def uptime_field(self) -> str | None:
        # timenanos is HotSpot's monotonic clock (not the epoch): no wall time, but a timeline
        for name in ("uptime", "uptimemillis", "uptimenanos", "timenanos"):
            if name in self.fields:
                return name
        return None

    @property
    def time_field(self) -> str | None:
        for name in ("time", "utctime", "timemillis"):
            if name in self.fields:
                return name
        return None

    def prefix_regex(self, tags: tuple[str, ...] | None = None, capture: bool = True,
                     identity: bool = False) -> str:
        """Regex for the decorations of a line, anchored at the start of the line.

        With `capture`, the uptime and time decorators are named groups `_uptime`/`_time`;
        with `identity` too, hostname and pid are `_hostname`/`_pid` (the run's start-up lines
        read them: they say which JVM on which host wrote the run).
        `tags` restricts the tags decorator to these alternatives (ignored without tags).
        """
        parts = ["^"]
        for name in self.fields:
            content = _CONTENT[name]
            if name == "tags" and tags is not None:
                content = "(?:" + "|".join(re.escape(t) for t in tags) + ") *"
            if capture and name == self.uptime_field:
                content = f"(?P<_uptime>{content})"
            elif capture and name == self.time_field:
                content = f"(?P<_time>{content})"
            elif capture and identity and name in ("hostname", "pid"):
                content = f"(?P<_{name}>{content})"
            parts.append(r"\[" + content + r"\]")
        if self.fields:
            # the one space after the decorations, as `split` takes it: "(?: |$)", not " ?",
            # which would let a rule that starts with spaces take that separator as its own
            # and read a line whose message starts without them
            parts.append("(?: |$)")
        return "".join(parts)

    def split(self, line: str) -> tuple[dict[str, str], str, int]:
        """(decorations by name, message, offset of the message) for one line (slow path)."""
        found = _BRACKETS.match(line) if self.fields else None
        if not found:
            return {}, line, 0
        values = re.findall(r"\[([^\]\n]*)\]", found.group(1))
        if len(values) != len(self.fields):
            return {}, line, 0
        return dict(zip(self.fields, (v.strip() for v in values))), line[found.end():], found.end()


def _classify(value: str, is_last: bool, seen: list[str]) -> str | None:
    stripped = value.strip()
    if _ISO.fullmatch(stripped):
        # HotSpot prints time before utctime; a second ISO time is the UTC one.
        return "utctime" if "time" in seen else "time"
    if re.fullmatch(r"\d+[.,]\d+s", stripped):
        return "uptime"
    if re.fullmatch(r"\d+ms", stripped):
        return "timemillis" if int(stripped[:-2]) >= _EPOCH_MS_FLOOR else "uptimemillis"
    if re.fullmatch(r"\d+ns", stripped):
        # timenanos (a monotonic clock, since boot) comes before uptimenanos in HotSpot's order;
        # alone, it is the one far beyond a young JVM's uptime.
        if "timenanos" in seen:
            return "uptimenanos"
        return "timenanos" if int(stripped[:-2]) >= _MONOTONIC_NS_FLOOR else "uptimenanos"
    if re.fullmatch(r"\d+", stripped):
        # HotSpot prints pid and tid as bare numbers, pid first
        return "tid" if "pid" in seen else "pid"
    if stripped in LEVELS:
        return "level"
    # Tags come last in HotSpot's order; a tag list elsewhere is a hostname.
    if is_last and re.fullmatch(r"[a-z0-9_]+(?:,[a-z0-9_]+)*", stripped):
        return "tags"
    return None


def detect(lines: list[str]) -> Decorations:
    """Find the decorators from a file's first lines: the most common consistent reading."""
    votes: dict[tuple[str, ...], int] = {}
    for line in lines[:200]:
        found = _BRACKETS.match(line)
        if not found:
            continue
        values = re.findall(r"\[([^\]\n]*)\]", found.group(1))
        seen: list[str] = []
        for position, value in enumerate(values):
            kind = _classify(value, position == len(values) - 1, seen)
            if kind is None or kind in seen:
                # Unclassified text before pid/tid/level/tags is the hostname (HotSpot's order).
                if "hostname" not in seen and not {"pid", "tid", "level", "tags"} & set(seen):
                    kind = "hostname"
                else:
                    break
            seen.append(kind)
        else:
            votes[tuple(seen)] = votes.get(tuple(seen), 0) + 1
    if not votes:
        return Decorations(())
    return Decorations(max(votes.items(), key=lambda item: item[1])[0])


def seconds(value: str, decorator: str) -> float | None:
    """An uptime decoration's text in seconds (slow path, for single lines)."""
    value = value.strip()
    try:
        if decorator == "uptime":
            return float(value.replace(",", ".").removesuffix("s"))
        if decorator == "uptimemillis":
            return int(value.removesuffix("ms")) / 1e3
        if decorator in ("uptimenanos", "timenanos"):
            return int(value.removesuffix("ns")) / 1e9
    except ValueError:
        return None
    return None


def wall_time(value: str, decorator: str) -> datetime.datetime | None:
    """A wall-clock decoration's text as an aware datetime (slow path, for single lines)."""
    value = value.strip()
    try:
        if decorator in ("time", "utctime"):
            return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
        if decorator == "timemillis":
            return datetime.datetime.fromtimestamp(int(value.removesuffix("ms")) / 1e3, datetime.UTC)
    except ValueError:
        return None
    return None
