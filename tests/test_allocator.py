"""The `gcscope` command's allocator setting for polars (gcscope/cli.py): chosen from the size of
the inputs before polars is imported, a user's own setting kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gcscope import cli

# What the command leaves in the environment once its arguments are parsed, in a fresh
# interpreter (this one imported polars long ago: its allocator is set for good).
PROBE = (
    "import os, sys\n"
    "from gcscope import cli\n"
    "cli._choose_allocator(cli.build_parser().parse_args(sys.argv[1:]))\n"
    "print('polars' in sys.modules, os.environ.get('_RJEM_MALLOC_CONF'))\n"
)


def _setting(*args: str, user: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    if user is not None:
        env["_RJEM_MALLOC_CONF"] = user
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    imported, setting = done.stdout.split(maxsplit=1)
    assert imported == "False"  # parsing the arguments must not import polars
    return setting.strip()


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as out:
        out.truncate(size)
    return path


def test_small_inputs_keep_freed_pages_for_reuse(tmp_path: Path):
    log = _sparse(tmp_path / "gc.log", 10 * 2**20)
    assert _setting("analyze", str(log)) == cli._MALLOC_CONF
    assert "dirty_decay_ms" not in cli._MALLOC_CONF


def test_big_inputs_hand_freed_pages_back_at_once(tmp_path: Path):
    big = _sparse(tmp_path / "gc.log", cli.BOUNDED_MEMORY_INPUT_BYTES)
    assert _setting("analyze", str(big)) == cli._MALLOC_CONF_BOUNDED
    assert "dirty_decay_ms:0" in cli._MALLOC_CONF_BOUNDED
    # a rotated set's files add up, compressed or not: one set is one event table
    rotated = tmp_path / "rotated"
    rotated.mkdir()
    _sparse(rotated / "gc.log.0", cli.BOUNDED_MEMORY_INPUT_BYTES // 2)
    _sparse(rotated / "gc.log.1.gz", cli.BOUNDED_MEMORY_INPUT_BYTES // 2)
    assert _setting("check", str(rotated)) == cli._MALLOC_CONF_BOUNDED
    assert _setting("analyze", str(rotated / "gc.log.0"), str(rotated / "gc.log.1.gz")) == cli._MALLOC_CONF_BOUNDED
    # many JVMs' logs (analysed one set at a time), or compare's two sides: the biggest set counts
    many = tmp_path / "many"
    many.mkdir()
    for name in ("app-a.log", "app-b.log"):
        _sparse(many / name, cli.BOUNDED_MEMORY_INPUT_BYTES // 2)
    assert _setting("analyze", str(many)) == cli._MALLOC_CONF
    assert _setting("compare", str(many / "app-a.log"), str(many / "app-b.log")) == cli._MALLOC_CONF
    assert _setting("compare", str(big), str(tmp_path / "missing.log")) == cli._MALLOC_CONF_BOUNDED
    assert _setting("analyze", "-") == cli._MALLOC_CONF
    # files the reader does not take for logs (a heap dump beside the logs) do not count
    _sparse(many / "java_pid1.hprof", cli.BOUNDED_MEMORY_INPUT_BYTES)
    _sparse(many / ".gc.log.swp", cli.BOUNDED_MEMORY_INPUT_BYTES)
    assert _setting("analyze", str(many)) == cli._MALLOC_CONF


def test_a_users_own_setting_is_kept(tmp_path: Path):
    big = _sparse(tmp_path / "gc.log", cli.BOUNDED_MEMORY_INPUT_BYTES)
    assert _setting("analyze", str(big), user="narenas:2") == "narenas:2"
