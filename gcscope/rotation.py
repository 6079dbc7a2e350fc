"""Which files make one rotated set (`gc.log`, `gc.log.0`…`gc.log.N`, `gc.log.current`, each
maybe `.gz`). Shared by the reader and by the command line, which sizes the sets before polars
is loaded, so nothing here imports more than `re`."""

from __future__ import annotations

import re

_ROTATION_SUFFIX = re.compile(r"(?:\.\d+)?(?:\.current)?$")


def rotation_key(name: str) -> str:
    """`gc.log.3` and `gc.log.current` and `gc.log` share the key `gc.log`."""
    return _ROTATION_SUFFIX.sub("", name)


def set_key(path: str) -> str:
    """The rotated set a log file belongs to; a gzipped file belongs to the set of its log."""
    return rotation_key(path[: -len(".gz")] if path.lower().endswith(".gz") else path)
