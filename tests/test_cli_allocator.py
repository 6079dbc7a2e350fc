"""The `gcscope` command has polars' allocator hand freed pages back (README "Memory and speed on
large logs"), and leaves a user's own allocator setting alone."""

from __future__ import annotations

import os
import subprocess
import sys

SHOW = "import gcscope.cli, polars, os; print(os.environ['_RJEM_MALLOC_CONF'])"


def _allocator_conf(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    if env_value is not None:
        env["_RJEM_MALLOC_CONF"] = env_value
    out = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    return out.stdout.strip()


def test_polars_receives_the_cli_setting_after_its_own_defaults():
    conf = _allocator_conf(None)
    # polars appends the override to its own defaults (a lazy muzzy decay): the last one wins
    assert conf.endswith(",muzzy_decay_ms:0"), conf
    assert conf.count("muzzy_decay_ms:") == 2, conf


def test_a_users_allocator_setting_is_kept():
    conf = _allocator_conf("dirty_decay_ms:100")
    assert conf.endswith(",dirty_decay_ms:100"), conf
    assert "muzzy_decay_ms:0" not in conf
