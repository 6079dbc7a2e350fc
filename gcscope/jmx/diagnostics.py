"""Diagnostic commands of a connected JVM: class histogram, heap dump, flags, version.

`com.sun.management:type=DiagnosticCommand` operations take one `String[]` and return text.
A live class histogram forces a full GC in the target; `-all` does not but counts garbage.
`HotSpotDiagnostic.dumpHeap(path, live)` writes on the *target's* host; the path must end in
`.hprof`, must not exist, and its directory must exist there.
"""

from __future__ import annotations

from gcscope.jmx.connect import Connection
from gcscope.jmx.jvm import java_class

DIAGNOSTIC_COMMAND = "com.sun.management:type=DiagnosticCommand"
HOTSPOT_DIAGNOSTIC = "com.sun.management:type=HotSpotDiagnostic"


def _dcmd(conn: Connection, operation: str, args: list[str], timeout_s: float) -> str:
    import jpype

    ObjectName = java_class("javax.management.ObjectName")

    server = conn.server

    def invoke():
        params = jpype.JArray(jpype.JObject)([jpype.JArray(jpype.JString)(args)])
        signature = jpype.JArray(jpype.JString)(["[Ljava.lang.String;"])
        return str(server.invoke(ObjectName(DIAGNOSTIC_COMMAND), operation, params, signature))

    return conn.call(invoke, timeout_s)


def class_histogram(conn: Connection, *, live: bool = True, timeout_s: float = 120.0) -> str:
    """GC.class_histogram text; live=True forces a full GC in the target first."""
    return _dcmd(conn, "gcClassHistogram", [] if live else ["-all"], timeout_s)


def vm_flags(conn: Connection, timeout_s: float = 10.0) -> str:
    return _dcmd(conn, "vmFlags", [], timeout_s)


def vm_version(conn: Connection, timeout_s: float = 10.0) -> str:
    return _dcmd(conn, "vmVersion", [], timeout_s)


def dump_heap(conn: Connection, path: str, *, live: bool = True, timeout_s: float = 600.0) -> None:
    """Write an .hprof of the target's heap at `path` on the target's host."""
    import jpype

    ObjectName = java_class("javax.management.ObjectName")

    server = conn.server

    def invoke():
        params = jpype.JArray(jpype.JObject)([jpype.JString(path), jpype.JBoolean(live)])
        signature = jpype.JArray(jpype.JString)(["java.lang.String", "boolean"])
        server.invoke(ObjectName(HOTSPOT_DIAGNOSTIC), "dumpHeap", params, signature)

    conn.call(invoke, timeout_s)
