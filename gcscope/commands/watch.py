"""`gcscope watch TARGET`: watch a live JVM's memory pools and collections, alert, record.

TARGET is HOST:PORT (remote JMX), a `service:jmx:` URL, or the PID of a local JVM (attached to;
no JMX flags needed). `--source hsperfdata` reads a local PID's counters without any JVM of ours.
Exit status: 0 watched to the end; 2 bad arguments; 3 the recording cannot be written;
4 the target could not be reached, or was lost and not back when the watch ended;
130 interrupted (Ctrl-C; the recording is complete).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from typing import Any

from gcscope.errors import ExitStatus, UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """'500ms', '1s', '5m', '2h', '1d' or plain seconds → seconds."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 500ms, 10s, 5m, 2h (got {text!r})"
        )
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration above zero (got {text!r})")
    return seconds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """TARGET and how to reach it (shared with `gcscope histo`)."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--user",
        metavar="NAME",
        help="JMX username (the password is never taken from the command line)",
    )
    group.add_argument(
        "--password-env", metavar="VAR", help="read the JMX password from environment variable VAR"
    )
    group.add_argument(
        "--password-file", metavar="FILE", help="read the JMX password from the first line of FILE"
    )
    group.add_argument(
        "--ssl",
        action="store_true",
        help="the target's RMI registry uses SSL (com.sun.management.jmxremote.registry.ssl=true)",
    )
    group.add_argument(
        "--truststore",
        metavar="FILE",
        help="truststore holding the target's SSL certificate (password from "
        "$GCSCOPE_TRUSTSTORE_PASSWORD)",
    )
    group.add_argument(
        "--connect-timeout",
        type=parse_duration,
        default=10.0,
        metavar="D",
        help="give up connecting after D (default 10s), also when the port "
        "accepts and never answers",
    )


def credentials_from_args(args: argparse.Namespace):
    from gcscope.jmx.connect import Credentials

    if args.user is None:
        if args.password_env or args.password_file:
            raise UsageError("--password-env/--password-file need --user")
        return None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise UsageError(f"--password-env {args.password_env}: the variable is not set")
    elif args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as fh:
                password = fh.readline().rstrip("\r\n")
        except OSError as exc:
            raise UsageError(
                f"cannot read the password: {exc.strerror}", file=args.password_file
            ) from None
    elif sys.stdin.isatty():
        password = getpass.getpass(f"JMX password for {args.user}: ")
    else:
        raise UsageError(
            "--user needs a password: --password-env VAR, --password-file FILE, "
            "or run on a terminal to be prompted"
        )
    return Credentials(args.user, password)


def jvm_settings_from_args(args: argparse.Namespace):
    from gcscope.jmx.jvm import JvmSettings

    return JvmSettings(
        handshake_timeout_s=args.connect_timeout,
        truststore=args.truststore,
        truststore_password=os.environ.get("GCSCOPE_TRUSTSTORE_PASSWORD")
        if args.truststore
        else None,
    )


def jmx_source_from_args(args: argparse.Namespace, target):
    from gcscope.jmx.source import JmxSource

    return JmxSource(
        target,
        credentials=credentials_from_args(args),
        ssl_registry=args.ssl,
        connect_timeout_s=args.connect_timeout,
        call_timeout_s=max(10.0, args.connect_timeout),
        settings=jvm_settings_from_args(args),
    )


def register(subparsers: Any) -> None:
    from gcscope.config import add_config_arguments

    parser = subparsers.add_parser(
        "watch",
        help="watch a live JVM: pools, collections, live alerts, recordings",
        description=(
            "Poll a running JVM's memory pools and GC counters, receive every collection as a "
            "GC notification, and raise the same alerts as the log analysis while it runs. "
            "TARGET: HOST:PORT, a service:jmx: URL, or a local PID. Exit status: 0 ok; "
            "2 bad arguments; 3 recording not writable; 4 target unreachable or lost at the "
            "end; 130 interrupted (recording complete)."
        ),
    )
    parser.add_argument("target", metavar="TARGET")
    parser.add_argument(
        "--interval",
        type=parse_duration,
        default=1.0,
        metavar="D",
        help="poll every D (default 1s)",
    )
    parser.add_argument(
        "--duration", type=parse_duration, metavar="D", help="stop after D (default: until Ctrl-C)"
    )
    parser.add_argument(
        "--record",
        metavar="PATH",
        help="append every sample and collection to PATH (JSON lines; "
        "`gcscope analyze --recording PATH` reads it)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a summary at the end in analyze --json's shape, plus pools, alerts and watch",
    )
    parser.add_argument(
        "--source",
        choices=("jmx", "hsperfdata"),
        default="jmx",
        help="jmx (default), or hsperfdata for a local PID: its performance "
        "counters read directly, no JVM needed, no notifications/dumps",
    )
    parser.add_argument(
        "--on-alert",
        metavar="CMD",
        help="run CMD (a shell command) when an alert starts or clears, with "
        "the alert as JSON on its standard input",
    )
    parser.add_argument(
        "--alert-window",
        type=parse_duration,
        default=600.0,
        metavar="D",
        help="alerts other than trends look at the last D of events "
        "(default 10m), so they can clear",
    )
    parser.add_argument(
        "--prometheus",
        metavar="HOST:PORT",
        help="serve the pools and GC counters as OpenMetrics at "
        "http://HOST:PORT/metrics (e.g. 127.0.0.1:9464)",
    )
    add_connection_arguments(parser)
    dump = parser.add_argument_group("heap dump on breach (off by default)")
    dump.add_argument(
        "--heap-dump-dir",
        metavar="DIR",
        help="write a heap dump (live objects) into DIR when a --heap-dump-on rule starts an alert",
    )
    dump.add_argument(
        "--heap-dump-on",
        metavar="RULES",
        default="GCS001,GCS002",
        help="comma-separated rule IDs (default GCS001,GCS002)",
    )
    dump.add_argument(
        "--heap-dump-max",
        type=_positive_int,
        default=3,
        metavar="N",
        help="at most N gcscope dumps in DIR (default 3)",
    )
    dump.add_argument(
        "--heap-dump-cooldown",
        type=parse_duration,
        default=600.0,
        metavar="D",
        help="at most one dump per D (default 10m)",
    )
    dump.add_argument(
        "--heap-dump-remote",
        action="store_true",
        help="allow dumps of a remote target (written on ITS host, in DIR there; "
        "free space cannot be checked from here)",
    )
    add_config_arguments(parser)
    parser.set_defaults(run=run)


def make_source(args: argparse.Namespace):
    from gcscope.jmx.connect import parse_target

    target = parse_target(args.target)
    if args.source == "hsperfdata":
        if target.pid is None:
            raise UsageError("--source hsperfdata needs the PID of a local JVM as TARGET")
        if args.user or args.heap_dump_dir:
            raise UsageError("--source hsperfdata reads counters only: no --user, no heap dumps")
        from gcscope.live.hsperfdata import HsperfSource

        return HsperfSource(target.pid)
    return jmx_source_from_args(args, target)


def run(args: argparse.Namespace) -> int:
    from gcscope.config import config_from_args
    from gcscope.live.dumps import DumpPolicy
    from gcscope.live.view import PlainView, RichView
    from gcscope.live.watcher import Watcher, WatchOptions

    config = config_from_args(args)
    dump = None
    if args.heap_dump_dir:
        rules = tuple(r.strip() for r in args.heap_dump_on.split(",") if r.strip())
        unknown = [r for r in rules if r not in config.rules]
        if unknown:
            raise UsageError(
                f"--heap-dump-on: unknown rule {unknown[0]} "
                f"(known: {', '.join(sorted(config.rules))})"
            )
        dump = DumpPolicy(
            args.heap_dump_dir,
            rules,
            args.heap_dump_max,
            args.heap_dump_cooldown,
            args.heap_dump_remote,
        )
    options = WatchOptions(
        interval_s=args.interval,
        duration_s=args.duration,
        record=args.record,
        on_alert=args.on_alert,
        prometheus=args.prometheus,
        dump=dump,
        alert_window_s=args.alert_window,
        config=config,
    )
    source = make_source(args)
    # Human lines go to stdout, unless stdout carries the JSON summary.
    stream = sys.stderr if args.json else sys.stdout
    view = RichView(stream) if stream.isatty() else PlainView(stream)
    watcher = Watcher(source, options, view)
    interrupted = False
    try:
        status = watcher.watch()
    except KeyboardInterrupt:
        interrupted = True
        status = ExitStatus.INTERRUPTED
    if dump is not None and source.is_local is False and not args.heap_dump_remote:
        print(
            "gcscope: note: heap dumps of a remote target need --heap-dump-remote", file=sys.stderr
        )
    if args.json:
        sys.stdout.write(json.dumps(watcher.summary(), indent=2, default=str) + "\n")
    else:
        _print_final(watcher, stream)
    if interrupted:
        print(
            "gcscope: interrupted; the recording is complete"
            if args.record
            else "gcscope: interrupted",
            file=sys.stderr,
        )
    return int(status)


def _print_final(watcher: Any, stream: Any) -> None:
    info = watcher.watch_summary()
    lat = info["poll_latency_ms"]
    print(
        f"watched {info['target']}: {info['polls']} polls, {info['gc_notifications']} GC "
        f"notifications, {info['events_from_counts']} collections from counts, "
        f"{info['notifications_lost']} notifications lost; poll latency p50 {lat['p50']} ms, "
        f"p99 {lat['p99']} ms",
        file=stream,
    )
    if info["recording"]:
        print(f"recording: {info['recording']}", file=stream)
    if info["target_lost"]:
        print("the target was lost and is not back", file=stream)
