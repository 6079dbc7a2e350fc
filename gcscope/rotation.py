"""Which files of a directory or archive may be logs, and which make one rotated set (`gc.log`,
`gc.log.0`…`gc.log.N`, `gc.log.current`, each maybe `.gz`). Shared by the reader and by the
command line, which sizes the sets before polars is loaded, so nothing here imports more than
`re` and `os.path`."""

from __future__ import annotations

import os.path
import re

# Files in a directory or archive that are certainly not GC logs.
_NOT_LOGS = {
    ".json", ".md", ".parquet", ".csv", ".html", ".png", ".jpg", ".svg", ".class", ".jar",
    ".java", ".py", ".pyc", ".hprof", ".xml", ".toml", ".yaml", ".yml", ".sh", ".pdf", ".jfr", ".tsv",
}

_ROTATION_SUFFIX = re.compile(r"(?:\.\d+)?(?:\.current)?$")


def rotation_key(name: str) -> str:
    """`gc.log.3` and `gc.log.current` and `gc.log` share the key `gc.log`."""
    return _ROTATION_SUFFIX.sub("", name)


def set_key(path: str) -> str:
    """The rotated set a log file belongs to; a gzipped file belongs to the set of its log."""
    return rotation_key(path[: -len(".gz")] if path.lower().endswith(".gz") else path)


def may_be_log(name: str) -> bool:
    """Whether a file found in a directory or archive is read as a log: not hidden, and not of
    a kind that is certainly something else (JSON, heap dumps, …)."""
    base = os.path.basename(name)
    return not base.startswith(".") and os.path.splitext(base)[1].lower() not in _NOT_LOGS
