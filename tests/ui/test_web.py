"""`up --web` in a real headless Chromium (Debian's chromium + chromium-driver, via selenium).

textual-serve draws the terminal on a canvas, so the text is not in the DOM: the test checks
what is observable instead. The page is served, opening it starts an `autogpt-dev attach`
session against this stack, and the screenshot is a real picture (UPDATE_SCREENSHOTS=1 saves it to
screenshots/web.png).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.conftest import PY, free_port, fx, wait_until_sync
from tests.integration.test_cli import Up

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver"
)
REPO = Path(__file__).resolve().parents[2]


def serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def attach_sessions() -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if "tui_manager" in cmd and "attach" in cmd:
            out.append(p)
    return out


def browser() -> object:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1400,900",
    ):
        options.add_argument(flag)
    options.binary_location = CHROMIUM or ""
    return webdriver.Chrome(service=Service(DRIVER or ""), options=options)


def open_dashboard(driver: Any, url: str, shot: Path) -> None:
    """Open the page, start the session, and wait until a dashboard is drawn on the canvas."""
    driver.get(url)
    assert "textual.js" in driver.page_source  # the textual-serve client page
    driver.find_element("css selector", "body").click()  # textual-serve: click to start

    def drawn() -> bool:  # textual-serve draws on a canvas: a drawn one is a big picture
        driver.save_screenshot(str(shot))
        return shot.stat().st_size > 20_000

    wait_until_sync(drawn, 30, "the dashboard drawn in the browser")


def test_the_web_dashboard_serves_the_stack_and_survives_a_closed_tab(write_config, tmp_path):
    path = write_config(f"""
[services.db]
command = {fx("ticker.py", 0.05)}
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["db"]
""")
    port = free_port()
    up = Up(path.parent, "--web", "--port", str(port))
    drivers: list[Any] = []
    try:
        up.wait_ready("fg")
        wait_until_sync(lambda: f"web dashboard on http://127.0.0.1:{port}" in up.output(), 10)
        url = f"http://127.0.0.1:{port}/"
        wait_until_sync(lambda: serving(url), 20, "the web server to answer")
        drivers.append(browser())
        # UPDATE_SCREENSHOTS=1 remakes screenshots/web.png from this very session.
        shots = REPO / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
        open_dashboard(drivers[0], url, shots / "web.png")
        first = attach_sessions()
        assert len(first) == 1  # one tab, one attach session on this stack
        # The tab goes away mid-stream (the ticker keeps the dashboard drawing).
        drivers.pop().quit()
        wait_until_sync(lambda: not any(p.is_running() for p in first), 20, "its session ended")
        assert up.proc.poll() is None and serving(url)  # the stack and the server live on
        status = subprocess.run(
            [PY, "-m", "tui_manager", "status"], cwd=path.parent, capture_output=True, text=True
        )
        assert status.returncode == 0 and "ready" in status.stdout
        drivers.append(browser())  # and a new tab works
        open_dashboard(drivers[0], url, tmp_path / "again.png")
        assert len(attach_sessions()) == 1
    finally:
        for d in drivers:
            d.quit()
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish(30) == 0
    wait_until_sync(lambda: not attach_sessions(), 10, "the web sessions gone with the stack")
