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
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port, fx, wait_until_sync
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


def test_the_web_dashboard_serves_the_stack_in_a_browser(write_config, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    path = write_config(f"""
[services.db]
command = {fx("ticker.py", 0.2)}
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["db"]
""")
    port = free_port()
    up = Up(path.parent, "--web", "--port", str(port))
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
    driver = None
    try:
        up.wait_ready("fg")
        wait_until_sync(lambda: f"web dashboard on http://127.0.0.1:{port}" in up.output(), 10)
        url = f"http://127.0.0.1:{port}/"
        wait_until_sync(lambda: serving(url), 20, "the web server to answer")
        driver = webdriver.Chrome(service=Service(DRIVER or ""), options=options)
        driver.get(url)
        assert "textual.js" in driver.page_source  # the textual-serve client page
        driver.find_element("css selector", "body").click()  # textual-serve: click to start
        wait_until_sync(lambda: bool(attach_sessions()), 20, "an attach session for the tab")
        time.sleep(3)  # let the dashboard draw its first frames
        # UPDATE_SCREENSHOTS=1 remakes screenshots/web.png from this very session.
        shot = (
            REPO / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
        ) / "web.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000  # a drawn dashboard, not a blank page
    finally:
        if driver is not None:
            driver.quit()
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish(30) == 0
    wait_until_sync(lambda: not attach_sessions(), 10, "the web sessions gone with the stack")
