"""`gcscope analyze DIR --jobs N`: many JVMs' logs, one log set per job, in parallel.

The inputs are grouped into log sets first (a rotated set `gc.log`, `gc.log.0`… is one JVM's
log: `gcscope.rotation.rotation_key`; an archive is one unit). When there is more than one set, each is
read and analysed in a worker process of its own (`--jobs`, default: the number of cores), and
the results are merged into one `AnalysisResult` of the usual JSON contract (runs numbered in
input order) plus a `sets` key: one entry per set with its files, status and error. A set that
fails is reported and the others go on. Without `--json`, one table row per run.

Outputs that need every event in one process (`--events`, `--png`, `--html`, `--save`,
`--recording`) keep the one-process read of all inputs (`gcscope analyze`'s usual path).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
from typing import Any

from gcscope.errors import ExitStatus, GcscopeError, InputError

# Options whose output needs all events in one process: with them, no parallel mode.
NEEDS_ALL_EVENTS = ("events", "png", "html", "save", "recording")


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def add_jobs_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="when the inputs hold several JVMs' log sets: analyse N sets at once, in worker "
        "processes, and print one table row per run (default: the number of cores)",
    )


def log_sets(inputs: list[str]) -> dict[str, list[str]]:
    """Input paths grouped by log set, in input order: {set name: [paths]}. A .zip archive is
    one unit (its members are grouped when it is read)."""
    from gcscope.ingest.sources import resolve

    sets: dict[str, list[str]] = {}
    for source in resolve(inputs):
        if "!" in source.name:  # a zip member: the archive is the unit
            path = source.name.split("!", 1)[0]
            sets.setdefault(path, [path])
            continue
        members = sets.setdefault(source.set_key, [])
        if source.name not in members:
            members.append(source.name)
    return sets


def wants_many(args: argparse.Namespace) -> dict[str, list[str]] | None:
    """The log sets when `analyze` should take the parallel path, else None."""
    logs = list(getattr(args, "logs", None) or [])
    if not logs or "-" in logs or any(getattr(args, name, None) for name in NEEDS_ALL_EVENTS):
        return None
    if len(logs) == 1 and not os.path.isdir(logs[0]) and not logs[0].lower().endswith(".zip"):
        return None  # one file is one set: no need to resolve anything
    sets = log_sets(logs)
    return sets if len(sets) > 1 else None


# --- the worker ------------------------------------------------------------------------------


def _init_worker(threads: int) -> None:
    # Before polars is imported in this process: the jobs share the cores.
    os.environ["POLARS_MAX_THREADS"] = str(threads)


def analyse_set(paths: list[str], max_unknown: int, config: Any) -> dict[str, Any]:
    """Read and analyse one log set; never raises: {"result": dict} or {"error", "status"}."""
    try:
        from gcscope.analysis import ANALYSIS_COLUMNS, analyze_ingested
        from gcscope.ingest import read_events

        ingest = read_events(paths, max_unknown=max_unknown, wanted=ANALYSIS_COLUMNS)
        return {"result": analyze_ingested(ingest, config=config).to_dict()}
    except GcscopeError as exc:
        return {"error": str(exc), "status": int(exc.exit_status)}
    except MemoryError:
        return {"error": "out of memory", "status": int(ExitStatus.INPUT_UNREADABLE)}
    except Exception as exc:  # noqa: BLE001 - one bad set must not stop the others
        return {
            "error": f"internal error: {type(exc).__name__}: {exc}",
            "status": int(ExitStatus.INPUT_UNREADABLE),
        }


_WAKE_UP_S = 0.2  # how long the main process sleeps between looks at its workers


def _stop_now(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Stop the pool without waiting for the sets in progress: its workers are terminated."""
    workers_now = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)  # (forgets its processes)
    for process in workers_now:
        process.terminate()


def analyse_sets(sets: dict[str, list[str]], jobs: int, max_unknown: int, config: Any,
                 progress: Any = None) -> list[dict[str, Any]]:
    """Each set's outcome, in the order of `sets`."""
    names = list(sets)
    outcomes: list[dict[str, Any] | None] = [None] * len(names)
    if jobs <= 1 or len(names) == 1:
        for index, name in enumerate(names):
            outcomes[index] = analyse_set(sets[name], max_unknown, config)
            if progress:
                progress(name, outcomes[index])
        return outcomes  # type: ignore[return-value]
    import multiprocessing

    workers = min(jobs, len(names))
    threads = max(1, default_jobs() // workers)
    # spawn, not fork: the parent already runs polars' thread pool, which fork would copy
    # in whatever state its locks are.
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(threads,)
    )
    try:
        futures = {
            pool.submit(analyse_set, sets[name], max_unknown, config): index
            for index, name in enumerate(names)
        }
        pending = set(futures)
        while pending:
            # Waits in slices, never unbounded: the kernel may hand a SIGINT to any of this
            # process's threads, and Python only raises KeyboardInterrupt once the main thread
            # wakes up; a main thread blocked until a set finishes would never see it.
            done, pending = concurrent.futures.wait(
                pending, timeout=_WAKE_UP_S, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in sorted(done, key=futures.__getitem__):
                index = futures[future]
                try:
                    outcomes[index] = future.result()
                except concurrent.futures.process.BrokenProcessPool as exc:
                    outcomes[index] = {
                        "error": f"worker process died ({exc})",
                        "status": int(ExitStatus.INPUT_UNREADABLE),
                    }
                if progress:
                    progress(names[index], outcomes[index])
    except BaseException:
        # Ctrl-C on a terminal reaches the workers too; a SIGINT sent to this process alone
        # must not wait for the sets in progress (minutes for big logs, for ever on a FIFO).
        _stop_now(pool)
        raise
    pool.shutdown(wait=True)
    return outcomes  # type: ignore[return-value]


# --- merging -----------------------------------------------------------------------------------


def merge(sets: dict[str, list[str]], outcomes: list[dict[str, Any]], max_unknown: int) -> Any:
    """One AnalysisResult: every set's runs (renumbered in input order), parse figures summed,
    findings of all; `extra["sets"]` says which runs came from which set, and what failed."""
    from gcscope.analysis.result import AnalysisResult

    runs: list[dict] = []
    findings: list[dict] = []
    per_file: list[dict] = []
    unknown: list[dict] = []
    skipped: list[str] = []
    lines = unknown_lines = 0
    extra: dict[str, Any] = {}
    entries = []
    for (name, paths), outcome in zip(sets.items(), outcomes, strict=True):
        entry: dict[str, Any] = {"set": name, "files": list(paths), "status": "ok",
                                 "error": None, "exit_status": 0, "run_ids": []}
        if "error" in outcome:
            entry.update(status="failed", error=outcome["error"], exit_status=outcome["status"])
            skipped.append(outcome["error"])
            entries.append(entry)
            continue
        doc = outcome["result"]
        offset = len(runs)
        for run in doc["runs"]:
            run["run_id"] = offset + int(run.get("run_id") or 0)
            entry["run_ids"].append(run["run_id"])
            runs.append(run)
        for finding in doc.get("findings") or []:
            evidence = finding.get("evidence") or {}
            if evidence.get("run_id") is not None:
                evidence["run_id"] = offset + int(evidence["run_id"])
            findings.append(finding)
        parse = doc["parse"]
        lines += parse["lines"]
        unknown_lines += parse["unknown_lines"]
        per_file.extend(parse.get("per_file") or [])
        unknown.extend(parse.get("unknown") or [])
        skipped.extend(parse.get("skipped") or [])
        for key in ("config", "thresholds"):
            if key in doc:
                extra[key] = doc[key]
        entries.append(entry)
    content = sum(f["lines"] - f.get("blank_lines", 0) for f in per_file)
    coverage = 100.0 if content == 0 else 100.0 * (content - unknown_lines) / content
    from gcscope.analysis.rules import severity_rank

    findings.sort(key=lambda f: (-severity_rank(f["severity"]), f["id"],
                                 (f.get("evidence") or {}).get("run_id") or 0))
    document = {
        "runs": runs,
        "parse": {
            "files": len(per_file), "lines": lines, "unknown_lines": unknown_lines,
            "coverage_pct": coverage, "per_file": per_file, "unknown": unknown[:max_unknown],
            "skipped": skipped,
        },
        "findings": findings,
        **extra,
        "sets": entries,
    }
    return AnalysisResult.from_dict(document)


# --- output ----------------------------------------------------------------------------------


def _set_of_run(result: Any) -> dict[int, str]:
    return {run_id: entry["set"] for entry in result.extra["sets"] for run_id in entry["run_ids"]}


def _short_names(result: Any) -> dict[str, str]:
    """Set names without their common folder; a rotated set says how many files it has."""
    entries = result.extra["sets"]
    names = [entry["set"] for entry in entries]
    try:
        common = os.path.commonpath([os.path.dirname(name) for name in names])
    except ValueError:  # absolute and relative paths mixed
        common = ""
    short = {}
    for entry in entries:
        name = os.path.relpath(entry["set"], common) if common else entry["set"]
        if len(entry["files"]) > 1:
            name += f" ({len(entry['files'])} files)"
        short[entry["set"]] = name
    return short


def print_table(result: Any, file: Any = None) -> None:
    """One row per run, then one line per set that failed, then the coverage line."""
    from rich.console import Console
    from rich.table import Table

    from gcscope.report.text import _ms, _pct, coverage_line

    out = file or sys.stdout
    # Not a terminal (a file, a pipe, CI): wide enough that rows are not wrapped.
    console = Console(file=out, highlight=False, soft_wrap=True,
                      width=None if out.isatty() else 200)
    entries = result.extra["sets"]
    failed = [entry for entry in entries if entry["status"] != "ok"]
    title = f"{len(entries)} log sets, {len(result.runs)} runs"
    if failed:
        title += f", {len(failed)} not analysed"
    table = Table(title=title)
    for column, justify in (
        ("log set", "left"), ("run", "right"), ("collector", "left"), ("pauses", "right"),
        ("p99 ms", "right"), ("max ms", "right"), ("throughput", "right"),
        ("full GCs", "right"), ("Old Gen max", "right"), ("leak", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    by_id = {run.run_id: run for run in result.runs}
    short = _short_names(result)
    for entry in entries:
        if entry["status"] != "ok":
            continue
        if not entry["run_ids"]:
            table.add_row(short[entry["set"]], "", "no GC events", *[""] * 7)
        for position, run_id in enumerate(entry["run_ids"]):
            run = by_id[run_id]
            table.add_row(
                short[entry["set"]] if position == 0 else "",
                str(position + 1),
                run.collector or "?",
                f"{run.pauses.count:,}",
                _ms(run.pauses.p99_ms),
                _ms(run.pauses.max_ms),
                _pct(run.throughput_pct),
                f"{run.full_gc.count:,}",
                _pct(run.old_gen.saturation_max_pct),
                ((run.leak or {}).get("verdict") or "–").replace("_", " "),
            )
    console.print(table)
    for entry in failed:
        console.print(f"not analysed: {entry['error']}", markup=False)
    console.print(coverage_line(result.parse))


def run_many(args: argparse.Namespace, sets: dict[str, list[str]]) -> int:
    from gcscope.commands.analyze import exit_status

    jobs = args.jobs or default_jobs()
    config = getattr(args, "rules_config", None)
    outcomes = analyse_sets(sets, jobs, args.max_unknown, config, progress=_failure_printer())
    result = merge(sets, outcomes, args.max_unknown)
    failed = [e for e in result.extra["sets"] if e["status"] != "ok"]
    if len(failed) == len(sets):
        statuses = {e["exit_status"] for e in failed}
        raise _AllFailed(
            f"no log set could be analysed ({len(failed)} failed; first: {failed[0]['error']})",
            status=statuses.pop() if len(statuses) == 1 else ExitStatus.INPUT_UNREADABLE,
        )
    if args.json:
        sys.stdout.write(result.to_json() + "\n")
        from gcscope.report.plain import print_parse_line

        print_parse_line(result, sys.stderr)
    else:
        print_table(result, sys.stdout)
    return exit_status(args, result)


def _failure_printer() -> Any:
    def report(name: str, outcome: dict[str, Any]) -> None:
        if "error" in outcome:
            print(f"gcscope: not analysed: {outcome['error']}", file=sys.stderr)

    return report


class _AllFailed(InputError):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.exit_status = ExitStatus(status)

