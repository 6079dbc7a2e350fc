"""`--prometheus HOST:PORT`: the latest poll as OpenMetrics text at http://HOST:PORT/metrics.

Served by a daemon thread from the last poll the watch made (scrapes never reach the target).
Families: gcscope_up, gcscope_pool_{used,committed,max}_bytes{pool,category},
gcscope_gc_collections_total and gcscope_gc_time_seconds_total{collector,category},
gcscope_jvm_uptime_seconds.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gcscope import model
from gcscope.errors import UsageError

CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(polled, *, up: bool, target: str) -> str:
    """OpenMetrics text for one poll (None: nothing polled yet)."""
    lines = [
        "# TYPE gcscope_up gauge",
        "# HELP gcscope_up 1 while the target answers polls",
        f'gcscope_up{{target="{_label(target)}"}} {1 if up else 0}',
    ]
    if polled is not None:
        lines += [
            "# TYPE gcscope_jvm_uptime_seconds gauge",
            "# UNIT gcscope_jvm_uptime_seconds seconds",
            f"gcscope_jvm_uptime_seconds {polled.uptime_s}",
        ]
        for column, family in (
            (model.USED_BYTES, "used"),
            (model.COMMITTED_BYTES, "committed"),
            (model.MAX_BYTES, "max"),
        ):
            name = f"gcscope_pool_{family}_bytes"
            lines += [f"# TYPE {name} gauge", f"# UNIT {name} bytes"]
            for row in polled.pools:
                if row[column] is not None:
                    lines.append(
                        f'{name}{{pool="{_label(row[model.POOL])}",category="'
                        f'{_label(row[model.POOL_CATEGORY])}"}} {row[column]}'
                    )
        lines += ["# TYPE gcscope_gc_collections counter"]
        for row in polled.collectors:
            if row[model.COLLECTION_COUNT] is not None:
                lines.append(
                    f'gcscope_gc_collections_total{{collector="'
                    f'{_label(row[model.COLLECTOR])}",category="'
                    f'{row[model.CATEGORY]}"}} {row[model.COLLECTION_COUNT]}'
                )
        lines += [
            "# TYPE gcscope_gc_time_seconds counter",
            "# UNIT gcscope_gc_time_seconds seconds",
        ]
        for row in polled.collectors:
            if row[model.COLLECTION_TIME_MS] is not None:
                lines.append(
                    f'gcscope_gc_time_seconds_total{{collector="'
                    f'{_label(row[model.COLLECTOR])}",category="'
                    f'{row[model.CATEGORY]}"}} {row[model.COLLECTION_TIME_MS] / 1000.0}'
                )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--prometheus {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464")
    return host.strip("[]") or "127.0.0.1", int(port)


class Exporter:
    def __init__(self, listen: str, target: str):
        host, port = parse_listen(listen)
        self.latest = None
        self.up = False
        self.target = target
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] not in ("/metrics", "/"):
                    self.send_error(404)
                    return
                body = render(exporter.latest, up=exporter.up, target=exporter.target).encode()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # scrapes are not news
                pass

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise UsageError(f"--prometheus {listen}: cannot listen: {exc.strerror}") from None
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="gcscope-metrics", daemon=True
        )
        self.thread.start()

    def update(self, polled, up: bool = True) -> None:
        self.latest, self.up = polled, up

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
