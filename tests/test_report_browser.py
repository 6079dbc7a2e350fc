"""The HTML report in a real browser: a page made from a log whose text carries HTML and script
is opened in headless Chromium; nothing in it runs (the title and the DOM are what the page
says), and it renders (a screenshot)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from gcscope import cli
from tests.test_report_html import HOSTILE, hostile_log, parse_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian package `chromium`; .ci/run installs it)",
)
WINDOW = (1280, 2000)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium, offline in spirit: no background traffic, a throw-away profile."""
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_hostile_log_text_runs_no_script_in_a_browser(tmp_path: Path) -> None:
    page_file = tmp_path / "report.html"
    assert cli.main(["analyze", str(hostile_log(tmp_path)), "--html", str(page_file)]) == 0
    source = parse_page(page_file.read_text(encoding="utf-8"))
    assert "PWNED" not in source.title and source.title.startswith("gcscope report: ")

    dumped = chromium(tmp_path, "--dump-dom", page_file.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = parse_page(dumped.stdout)
    # Had any injected script or handler run, it would have changed the title.
    assert dom.title == source.title
    # The DOM has exactly the elements the page was written with: nothing injected.
    assert dom.tags == source.tags
    assert "script" not in dom.tags
    assert all(url.startswith("data:image/png;base64,") for url in dom.urls)
    # ... and the hostile text is there, as text the reader can see.
    assert HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in dumped.stdout

    shot = tmp_path / "shot.png"
    taken = chromium(tmp_path, f"--screenshot={shot}", page_file.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == WINDOW
        # A rendered page, not a blank one: the verdict banner and text make many colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50
