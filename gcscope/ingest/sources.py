"""Where log bytes come from: files, directories, rotated sets, .gz, .zip members and stdin.

A `Source` is one logical log file. Sources that belong to one rotated set (`gc.log`,
`gc.log.0` … `gc.log.N`, `*.current`) are grouped; the engine orders a set by the time
inside its files, never by their names, because the JVM writes the numbered files cyclically.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from gcscope.errors import InputError
from gcscope.rotation import may_be_log, rotation_key, set_key

CHUNK_BYTES = 16 * 1024 * 1024  # bytes handed to the engine at once: bounds memory per file



@dataclasses.dataclass(frozen=True)
class Source:
    name: str  # what messages call it: a path, "archive.zip!member" or "<stdin>"
    open: Callable[[], BinaryIO]  # a fresh binary stream (decompressed)
    size: int | None  # compressed or plain size on disk, for progress; None for streams
    set_key: str  # sources with the same key belong to one rotated set

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Source({self.name!r}, set={self.set_key!r})"


def _gzip_opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: gzip.open(path, "rb")  # type: ignore[return-value]


def _file_opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: open(path, "rb")


def _zip_sources(path: Path) -> list[Source]:
    try:
        archive = zipfile.ZipFile(path)
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"corrupt or unreadable zip archive ({exc})", file=str(path)) from None
    sources = []
    for info in members:
        inner = info.filename
        if not may_be_log(inner):
            continue

        def opener(inner: str = inner) -> BinaryIO:
            stream = zipfile.ZipFile(path).open(inner)  # noqa: SIM115 - read_chunks closes it
            if inner.endswith(".gz"):
                return gzip.GzipFile(fileobj=stream)  # type: ignore[return-value]
            return stream  # type: ignore[return-value]

        key = f"{path}!{rotation_key(inner.removesuffix('.gz'))}"
        sources.append(Source(f"{path}!{inner}", opener, info.compress_size, key))
    if not sources:
        raise InputError("zip archive holds no log files", file=str(path))
    return sources


def _path_sources(path: Path) -> list[Source]:
    if path.suffix.lower() == ".zip":
        return _zip_sources(path)
    opener = _gzip_opener(path) if path.suffix.lower() == ".gz" else _file_opener(path)
    return [Source(str(path), opener, path.stat().st_size, set_key(str(path)))]


def resolve(inputs: list[str] | tuple[str, ...] | str) -> list[Source]:
    """Turn command-line inputs into sources; raise InputError naming what is wrong."""
    if isinstance(inputs, (str, Path)):
        inputs = [str(inputs)]
    if not inputs:
        raise InputError("no input given")
    sources: list[Source] = []
    for item in inputs:
        item = str(item)
        if item == "-":
            data = sys.stdin.buffer.read()
            sources.append(Source("<stdin>", lambda data=data: io.BytesIO(data), len(data), "<stdin>"))
            continue
        path = Path(item)
        if not path.exists():
            raise InputError("no such file or directory", file=item)
        if path.is_dir():
            found = []
            for child in sorted(path.rglob("*")):
                if not child.is_file() or not may_be_log(child.name):
                    continue
                found.extend(_path_sources(child))
            if not found:
                raise InputError("directory holds no log files", file=item)
            sources.extend(found)
        else:
            sources.extend(_path_sources(path))
    return sources


def read_chunks(source: Source, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield the source's bytes in chunks that end at a line boundary (the last may not)."""
    try:
        stream = source.open()
    except OSError as exc:
        raise InputError(f"cannot open ({exc.strerror or exc})", file=source.name) from None
    carry = b""
    try:
        with stream:
            while True:
                block = stream.read(chunk_bytes)
                if not block:
                    break
                block = carry + block
                cut = block.rfind(b"\n")
                if cut < 0:
                    carry = block
                    continue
                carry = block[cut + 1:]
                yield block[: cut + 1]
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise InputError(f"corrupt or truncated compressed data ({exc})", file=source.name) from None
    if carry:
        yield carry
