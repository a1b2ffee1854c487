"""Remake screenshots/ from the real app running the default stack (never drawn by hand).

    python scripts/screenshots.py        # needs the stack extra: pip install -e '.[stack]'

(screenshots/web.png, the browser view, comes from `UPDATE_SCREENSHOTS=1 python -m pytest
tests/ui/test_web.py`.)

It starts the six services of autogpt-dev.toml on free ports with a throw-away state dir, runs an
agent through them so the panes show real traffic, and saves SVGs of the main screen, the
dependency view, the help screen and a search.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "screenshots"


def post(url: str, body: dict[str, object]) -> dict[str, object]:
    req = urllib.request.Request(
        url, json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        result: dict[str, object] = json.load(r)
        return result


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="autogpt-dev-shots-"))
    sys.path.insert(0, str(REPO))
    from services.settings import SERVICES, isolated_env

    os.environ.update(isolated_env(tmp / "state"))
    ports = {s: int(os.environ[f"{s.upper()}_PORT"]) for s in SERVICES}
    from tui_manager.config import load
    from tui_manager.core.supervisor import Supervisor
    from tui_manager.ui.app import Dashboard

    sup = Supervisor(load(REPO / "autogpt-dev.toml"))
    app = Dashboard(sup)
    OUT.mkdir(exist_ok=True)
    async with app.run_test(size=(150, 44)) as pilot:
        await sup.start()  # (what the runner does)
        deadline = time.monotonic() + 30
        while not all(s.state == "ready" for s in sup.services.values()):
            assert time.monotonic() < deadline, {n: s.state for n, s in sup.services.items()}
            await pilot.pause(0.1)
        api = f"http://127.0.0.1:{ports['agent_server']}"
        agent = await asyncio.to_thread(
            post,
            f"{api}/agents",
            {
                "name": "shout",
                "nodes": [
                    {"id": "hello", "type": "text", "config": {"text": "hello"}},
                    {"id": "loud", "type": "uppercase", "inputs": ["hello"]},
                    {"id": "fetch", "type": "http_get", "inputs": ["loud"]},
                    {"id": "tell", "type": "notify", "inputs": ["fetch"]},
                ],
            },
        )
        for _ in range(3):
            await asyncio.to_thread(post, f"{api}/agents/{agent['id']}/execute", {})
        await pilot.pause(2.5)
        await pilot.press("4")  # agent_server
        await pilot.pause(0.5)
        app.save_screenshot("dashboard.svg", str(OUT))
        await pilot.press("d")
        await pilot.pause(0.3)
        app.save_screenshot("dependencies.svg", str(OUT))
        await pilot.press("escape", "question_mark")
        await pilot.pause(0.3)
        app.save_screenshot("help.svg", str(OUT))
        await pilot.press("escape", "0", "slash", *"execution", "enter")
        await pilot.pause(0.5)
        app.save_screenshot("search-all-services.svg", str(OUT))
        await pilot.press("q")
        deadline = time.monotonic() + 20
        while not sup.finished and time.monotonic() < deadline:
            await pilot.pause(0.1)
    print("\n".join(str(p.relative_to(REPO)) for p in sorted(OUT.glob("*.svg"))))


if __name__ == "__main__":
    asyncio.run(main())
