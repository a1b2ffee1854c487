"""The seed's `backend/app.py` main(), on the fixed API: six tiny AppProcess services.

python examples/seed_app.py          # Ctrl+C stops them in reverse dependency order
"""

from __future__ import annotations

import logging
import os
import time

from tui_manager import AppProcess, run_processes


class _Ticker(AppProcess):
    every = 1.0

    def run(self) -> None:
        logging.basicConfig(
            level=os.environ.get("LOG_LEVEL", "INFO"), format="%(levelname)s %(message)s"
        )
        log = logging.getLogger(self.service_name)
        print(f"{self.service_name} started (pid {os.getpid()})", flush=True)
        n = 0
        while True:
            n += 1
            log.info("%s tick %d", self.service_name, n)
            if n % 5 == 0:
                log.warning("%s heartbeat %d", self.service_name, n)
            time.sleep(self.every)


class DatabaseManager(_Ticker):
    ready = {"log": "DatabaseManager started"}


class Scheduler(_Ticker):
    depends_on = ["DatabaseManager"]


class NotificationManager(_Ticker):
    depends_on = ["DatabaseManager"]


class WebsocketServer(_Ticker):
    depends_on = ["DatabaseManager"]


class AgentServer(_Ticker):
    depends_on = ["DatabaseManager"]


class ExecutionManager(_Ticker):
    """The foreground process: the app lives exactly as long as it does."""

    depends_on = [
        "DatabaseManager",
        "Scheduler",
        "NotificationManager",
        "WebsocketServer",
        "AgentServer",
    ]
    every = 0.5


def main(**kwargs: object) -> int:
    return run_processes(
        DatabaseManager().set_log_level("warning"),
        Scheduler(),
        NotificationManager(),
        WebsocketServer(),
        AgentServer(),
        ExecutionManager(),
        **kwargs,
    )


if __name__ == "__main__":
    raise SystemExit(main())
