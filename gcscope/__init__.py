"""gcscope: is this JVM's memory healthy? GC log and live JMX analysis.

Library entry points (heavy imports happen on first use, so `import gcscope` stays cheap):

    events = gcscope.read_log("gc.log")          # polars DataFrame, columns in gcscope.model
    result = gcscope.analyze(["gc.log"])          # AnalysisResult
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__", "analyze", "read_log"]


def read_log(paths, **options):
    """Read one or more GC logs (files, directories, rotated sets, .gz/.zip, "-" for stdin)
    and return their events as a polars DataFrame (schema: `gcscope.model.EVENT_SCHEMA`)."""
    from gcscope.ingest import read_events

    return read_events(paths, **options).events


def analyze(paths, **options):
    """Read logs and compute every metric; returns an `AnalysisResult`."""
    from gcscope.analysis import analyze_logs

    return analyze_logs(paths, **options)
