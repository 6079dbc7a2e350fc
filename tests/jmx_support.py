"""Helpers for the live-JVM tests: compile the Java target, start JVMs on loopback, run gcscope.

Every wait is bounded; every JVM started here is killed by the fixture that started it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "java" / "JmxTarget.java"
BUILD = ROOT / "tests" / ".build" / "jmxtarget"

JAVA = shutil.which("java")
JAVAC = shutil.which("javac")
_j25 = sorted(glob.glob("/usr/lib/jvm/*25*/bin/java"))
JAVA25 = _j25[-1] if _j25 else None


def compile_java(source: Path, build: Path) -> Path:
    """javac one tests/java source once per change (into tests/.build, git-ignored)."""
    stamp = build / ".source-mtime"
    mtime = str(source.stat().st_mtime_ns)
    if stamp.exists() and stamp.read_text() == mtime and (build / f"{source.stem}.class").exists():
        return build
    build.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [JAVAC, "--release", "11", "-d", str(build), str(source)], check=True, timeout=120
    )
    stamp.write_text(mtime)
    return build


def compile_target() -> Path:
    return compile_java(SOURCE, BUILD)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jmx_flags(
    port: int,
    *,
    auth: bool = False,
    password_file: str | None = None,
    access_file: str | None = None,
    keystore: str | None = None,
    keystore_password: str | None = None,
) -> list[str]:
    """Remote JMX on 127.0.0.1:port; with a keystore, SSL on the registry and the connector."""
    ssl = "true" if keystore else "false"
    flags = [
        f"-Dcom.sun.management.jmxremote.port={port}",
        f"-Dcom.sun.management.jmxremote.rmi.port={port}",
        f"-Dcom.sun.management.jmxremote.authenticate={'true' if auth else 'false'}",
        f"-Dcom.sun.management.jmxremote.ssl={ssl}",
        f"-Dcom.sun.management.jmxremote.registry.ssl={ssl}",
        "-Dcom.sun.management.jmxremote.host=127.0.0.1",
        "-Djava.rmi.server.hostname=127.0.0.1",
    ]
    if keystore:
        flags += [
            f"-Djavax.net.ssl.keyStore={keystore}",
            f"-Djavax.net.ssl.keyStorePassword={keystore_password}",
        ]
    if password_file:
        flags.append(f"-Dcom.sun.management.jmxremote.password.file={password_file}")
    if access_file:
        flags.append(f"-Dcom.sun.management.jmxremote.access.file={access_file}")
    return flags


class Target:
    """A running JmxTarget JVM (killed by `stop`)."""

    def __init__(self, proc: subprocess.Popen, port: int | None):
        self.proc = proc
        self.port = port
        self.pid = proc.pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass


def start_target(
    *jvm_flags: str,
    java: str | None = None,
    mode: str = "steady",
    seconds: float = 120,
    leak_kb_per_s: int = 0,
    leak_max_mb: int | None = None,
    jmx: bool = True,
    heap: str = "-Xmx64m",
    extra_jmx: dict | None = None,
    port: int | None = None,
) -> Target:
    classes = compile_target()
    port = (port or free_port()) if jmx else None
    command = [java or JAVA, heap, *jvm_flags]
    if jmx:
        command += jmx_flags(port, **(extra_jmx or {}))
    command += ["-cp", str(classes), "JmxTarget", "--mode", mode, "--seconds", str(seconds)]
    if leak_kb_per_s:
        command += ["--leak-kb-per-s", str(leak_kb_per_s)]
    if leak_max_mb is not None:
        command += ["--leak-max-mb", str(leak_max_mb)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    target = Target(proc, port)
    line = _readline(proc, 30)
    if line.strip() != "READY":
        target.stop()
        raise RuntimeError(f"target did not start: {line!r} {proc.stderr.read()[:2000]}")
    if jmx:
        _wait_port(port, 15)
    return target


class CommandTarget(Target):
    """A running OldGenTarget JVM, told what to do on its standard input."""

    def command(self, text: str, timeout_s: float = 60) -> str:
        """Send one command; its answer line (the command has run: e.g. filled and collected)."""
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        answer = _readline(self.proc, timeout_s).strip()
        if not answer or answer.startswith("UNKNOWN"):
            raise RuntimeError(f"target did not answer {text!r} in {timeout_s:g} s: {answer!r}")
        return answer


def start_old_gen_target(
    *jvm_flags: str,
    java: str | None = None,
    heap: str = "-Xmx64m",
    seconds: float = 300,
    extra_jmx: dict | None = None,
) -> CommandTarget:
    """tests/java/OldGenTarget.java with remote JMX on a free loopback port: `fill MB`,
    `release` and `gc` on command (see `CommandTarget.command`)."""
    classes = compile_java(ROOT / "tests" / "java" / "OldGenTarget.java", BUILD.parent / "oldgen")
    port = free_port()
    command = [java or JAVA, heap, *jvm_flags, *jmx_flags(port, **(extra_jmx or {}))]
    command += ["-cp", str(classes), "OldGenTarget", "--seconds", str(seconds)]
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    target = CommandTarget(proc, port)
    line = _readline(proc, 30)
    if line.strip() != "READY":
        target.stop()
        raise RuntimeError(f"target did not start: {line!r} {proc.stderr.read()[:2000]}")
    _wait_port(port, 15)
    return target


class LineReader:
    """The lines a process prints, read on a thread: wait for one, bounded in time."""

    def __init__(self, stream):
        import threading

        self.lines: list[str] = []
        self.ended = False
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))
        self.ended = True

    def wait_for(self, text: str, timeout_s: float, *, after: int = 0) -> int:
        """Index of the first line from `after` on that contains `text`."""
        deadline = time.monotonic() + timeout_s
        while True:
            ended = self.ended
            for i in range(after, len(self.lines)):
                if text in self.lines[i]:
                    return i
            if ended or time.monotonic() > deadline:
                why = "the output ended" if ended else f"{timeout_s:g} s passed"
                raise AssertionError(
                    f"no line with {text!r} ({why}); got:\n" + "\n".join(self.lines)
                )
            time.sleep(0.1)

    def rest(self, timeout_s: float = 30) -> list[str]:
        """Every line, once the stream has ended."""
        self._thread.join(timeout_s)
        return self.lines


def _readline(proc: subprocess.Popen, timeout_s: float) -> str:
    import threading

    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return box[0] if box else ""


def _wait_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"JMX port {port} never opened")


def make_keystores(directory: Path, password: str = "changeit") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (the target's keystore, a truststore with it)."""
    keytool = shutil.which("keytool") or str(Path(JAVA).resolve().parent / "keytool")
    keystore, cert, truststore = (directory / n for n in ("target.p12", "t.cer", "trust.p12"))
    common = ["-storetype", "PKCS12", "-storepass", password]
    for args in (
        ["-genkeypair", "-alias", "target", "-keyalg", "RSA", "-keysize", "2048",
         "-keystore", keystore, "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1",
         "-validity", "2", *common],
        ["-exportcert", "-alias", "target", "-keystore", keystore, "-file", cert, *common],
        ["-importcert", "-noprompt", "-alias", "target", "-file", cert, "-keystore", truststore,
         *common],
    ):  # fmt: skip
        subprocess.run([keytool, *map(str, args)], check=True, capture_output=True, timeout=60)
    return keystore, truststore


def gcscope(
    *args: str, timeout: float = 120, env: dict | None = None, **kwargs
) -> subprocess.CompletedProcess:
    """Run the gcscope CLI in a fresh Python process (its own in-process JVM)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gcscope.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=ROOT,
        **kwargs,
    )


def gcscope_popen(*args: str, env: dict | None = None) -> subprocess.Popen:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "gcscope.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=ROOT,
    )
