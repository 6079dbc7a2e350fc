"""One exception family and the documented exit codes.

Every error a user can cause carries what a person needs to fix it: the file, the line where
it applies, and what was expected. The CLI maps each family member to one exit code.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Exit codes of the `gcscope` command (documented in the README)."""

    OK = 0
    FINDINGS = 1  # check: a finding at or above --fail-on; compare: a regression; --strict: unknown lines
    USAGE = 2  # bad arguments or configuration
    INPUT_UNREADABLE = 3  # missing, empty, binary, unsupported or corrupt input
    TARGET_UNREACHABLE = 4  # live JVM could not be reached or was lost
    INTERRUPTED = 130  # Ctrl-C


class GcscopeError(Exception):
    """Base of every error gcscope reports to a user (never shown as a traceback)."""

    exit_status = ExitStatus.USAGE

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.message = message
        self.file = file
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        return f"{where}{self.message}"


class UsageError(GcscopeError):
    exit_status = ExitStatus.USAGE


class ConfigError(GcscopeError):
    """A configuration file or --set value is wrong (names the file, key and expected type)."""

    exit_status = ExitStatus.USAGE


class InputError(GcscopeError):
    """Input cannot be read: missing, empty, binary, corrupt archive, unsupported format."""

    exit_status = ExitStatus.INPUT_UNREADABLE


class UnsupportedFormatError(InputError):
    """The input is a GC log, but of a format gcscope does not read (e.g. JDK 8 legacy)."""


class GrammarError(GcscopeError):
    """A grammar file is malformed (a developer error, reported with file and line)."""

    exit_status = ExitStatus.USAGE


class TargetError(GcscopeError):
    """A live JVM target could not be reached, refused us, or went away."""

    exit_status = ExitStatus.TARGET_UNREACHABLE
