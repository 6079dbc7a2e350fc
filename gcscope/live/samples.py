"""One live poll, whatever its source (JMX or hsperfdata), and the frames built from many.

Rows use the column names of `gcscope.model` (SAMPLE_SCHEMA for pools, COLLECTOR_SAMPLE_SCHEMA
for collector counters, EVENT_SCHEMA for GCs), so live data runs through the same analysis as log
events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gcscope import model

# Marks events made from collector counters rather than from a GC notification or a log line:
# their count and total time are exact, their heap figures unknown.
FROM_COUNTS = "(from collection counts)"


@dataclass
class Poll:
    """One poll. `pools` rows in SAMPLE_SCHEMA, `collectors` rows in COLLECTOR_SAMPLE_SCHEMA
    (both without run_id, which the recorder owns)."""

    uptime_s: float
    time: datetime
    pools: list[dict[str, Any]]
    collectors: list[dict[str, Any]]
    latency_ms: float = 0.0
    last_cause: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # pools not read by this poll, whose rows carry the figures of an earlier one (the JMX source
    # reads the code cache and compressed class space every 10th poll only)
    stale_pools: frozenset[str] = frozenset()

    def by_category(self) -> dict[str, dict[str, int | None]]:
        """used/committed/max summed per pool category (null when every pool lacks it)."""
        out: dict[str, dict[str, int | None]] = {}
        for row in self.pools:
            slot = out.setdefault(
                row[model.POOL_CATEGORY],
                {model.USED_BYTES: None, model.COMMITTED_BYTES: None, model.MAX_BYTES: None},
            )
            for key in (model.USED_BYTES, model.COMMITTED_BYTES, model.MAX_BYTES):
                if row.get(key) is not None:
                    slot[key] = (slot[key] or 0) + row[key]
        return out


def events_from_counts(
    previous: dict[str, dict[str, Any]],
    current: list[dict[str, Any]],
    *,
    uptime_s: float,
    cause: str | None,
    already: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Events for collections the counters show but no notification described.

    previous: collector → its last counter row. already: collector → how many collections in this
    interval have a notification. The missing ones become rows with kind from the collector table,
    the interval's mean duration and no heap figures, named with FROM_COUNTS.
    """
    from gcscope.jmx.names import collector_info

    rows = []
    for row in current:
        name = row[model.COLLECTOR]
        before = previous.get(name)
        count = row.get(model.COLLECTION_COUNT)
        if before is None or count is None or before.get(model.COLLECTION_COUNT) is None:
            continue
        delta = count - before[model.COLLECTION_COUNT]
        missing = delta - (already or {}).get(name, 0)
        if missing <= 0:
            continue
        time_delta = None
        if (
            row.get(model.COLLECTION_TIME_MS) is not None
            and before.get(model.COLLECTION_TIME_MS) is not None
        ):
            time_delta = row[model.COLLECTION_TIME_MS] - before[model.COLLECTION_TIME_MS]
        info = collector_info(name)
        for i in range(missing):
            rows.append(
                {
                    model.GC_ID: before[model.COLLECTION_COUNT] + delta - missing + i + 1,
                    model.UPTIME_S: uptime_s,
                    model.CATEGORY: info.category,
                    model.KIND: info.kind,
                    model.NAME: name,
                    model.CAUSE: cause,
                    model.DURATION_MS: None if time_delta is None else time_delta / delta,
                    "origin": FROM_COUNTS,
                }
            )
    return rows
