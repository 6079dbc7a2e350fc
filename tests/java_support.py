"""Compile and run tests/java/GcWorkload.java: real JVMs writing real GC logs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JAVA_DIR = Path(__file__).resolve().parent / "java"


def require_javac() -> str:
    javac = shutil.which("javac")
    if javac is None:
        pytest.fail("javac is needed for the JVM tests: install a JDK (see README)")
    return javac


def compile_workload(build_dir: Path) -> Path:
    """Compile GcWorkload for Java 11+ into build_dir; returns the class path."""
    classes = build_dir / "gcworkload"
    if not (classes / "GcWorkload.class").exists():
        classes.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [require_javac(), "--release", "11", "-d", str(classes), str(JAVA_DIR / "GcWorkload.java")],
            check=True, timeout=120,
        )
    return classes


def run_workload(java: str, classes: Path, log: Path, jvm_flags: list[str], args: list[str],
                 xlog: str = "gc*", timeout: float = 120) -> dict:
    """Run the workload with -Xlog:<xlog>:file=<log>; return its MXBean counts printed at exit."""
    command = [java, *jvm_flags, f"-Xlog:{xlog}:file={log}", "-cp", str(classes), "GcWorkload", *args]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                               env={**os.environ, "JAVA_TOOL_OPTIONS": ""})
    for line in completed.stdout.splitlines():
        if line.startswith("GCSCOPE-MXBEANS "):
            beans = json.loads(line.removeprefix("GCSCOPE-MXBEANS "))
            return {name: value["count"] for name, value in beans.items()}
    raise AssertionError(f"workload printed no MXBean counts: {completed.stdout}\n{completed.stderr}")
