"""Heap dump on breach, with its guards. Off unless `--heap-dump-dir DIR` is given.

A dump (`HotSpotDiagnostic.dumpHeap`, live objects only) is taken when one of the chosen rules
starts an alert, and only if every guard agrees; each dump and each refusal is reported:
- the path is interpreted on the *target's* host: for a remote target the free-space guard cannot
  be checked here, so a remote dump needs an explicit opt-in (`--heap-dump-remote`);
- free disk in DIR must be at least the committed heap × 1.2 (a dump is about the used heap,
  the committed heap is a safe upper bound);
- never overwrite: the name carries the PID and a UTC timestamp, and an existing file is refused;
- at most N dumps in DIR (gcscope's own `gcscope-*.hprof`; older evidence is never deleted);
- at most one dump per cooldown period.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

FREE_SPACE_FACTOR = 1.2
DEFAULT_RULES = ("GCS001", "GCS002")  # leak verdict, Old Gen nearly full after GC
DUMP_GLOB = "gcscope-*.hprof"


@dataclass
class DumpPolicy:
    directory: str
    rules: tuple[str, ...] = DEFAULT_RULES
    max_dumps: int = 3
    cooldown_s: float = 600.0
    allow_remote: bool = False
    live: bool = True


@dataclass
class DumpGuard:
    policy: DumpPolicy
    last_dump_monotonic: float | None = None
    made: list[str] = field(default_factory=list)

    def plan(
        self,
        *,
        rule_id: str,
        pid: int | None,
        committed_heap_bytes: int | None,
        local: bool,
        now_monotonic: float | None = None,
    ) -> tuple[str | None, str]:
        """(path to dump to, why) or (None, why not)."""
        policy = self.policy
        now = time.monotonic() if now_monotonic is None else now_monotonic
        if rule_id not in policy.rules:
            return None, f"{rule_id} is not a heap-dump rule"
        if not local and not policy.allow_remote:
            return None, (
                "the target is remote: the dump would be written on its host, where "
                "free space cannot be checked; give --heap-dump-remote to allow it"
            )
        if (
            self.last_dump_monotonic is not None
            and now - self.last_dump_monotonic < policy.cooldown_s
        ):
            wait = policy.cooldown_s - (now - self.last_dump_monotonic)
            return None, (
                f"cooldown: the last dump was less than {policy.cooldown_s:g} s ago "
                f"(next allowed in {wait:.0f} s)"
            )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"gcscope-{pid if pid is not None else 'jvm'}-{stamp}.hprof"
        if local:
            directory = Path(policy.directory).resolve()
            if not directory.is_dir():
                return None, f"{directory} is not a directory"
            existing = sorted(directory.glob(DUMP_GLOB))
            if len(existing) >= policy.max_dumps:
                return None, (
                    f"{len(existing)} gcscope dumps already in {directory} "
                    f"(--heap-dump-max {policy.max_dumps}); remove some to allow more"
                )
            free = shutil.disk_usage(directory).free
            need = int((committed_heap_bytes or 0) * FREE_SPACE_FACTOR)
            if committed_heap_bytes is None:
                return None, "the committed heap size is unknown, so free space cannot be checked"
            if free < need:
                return None, (
                    f"only {free / 2**20:,.0f} MB free in {directory}; a dump needs "
                    f"the committed heap × {FREE_SPACE_FACTOR} = {need / 2**20:,.0f} MB"
                )
            path = directory / name
            if path.exists():
                return None, f"{path} exists (never overwritten)"
            return str(path), "ok"
        if len(self.made) >= policy.max_dumps:
            return None, f"{len(self.made)} dumps made already (--heap-dump-max {policy.max_dumps})"
        return f"{policy.directory.rstrip('/')}/{name}", "ok (remote target, opted in)"

    def record(self, path: str, now_monotonic: float | None = None) -> None:
        self.last_dump_monotonic = time.monotonic() if now_monotonic is None else now_monotonic
        self.made.append(path)
