"""The seed's `backend/app.py` main(), rewritten on the fixed `run_processes`/`AppProcess` API:
the same six services as autogpt-dev.toml, without the TOML.

    python -m services            # Ctrl+C stops them in reverse dependency order
"""

from __future__ import annotations

from typing import Any

from dotenv import load_dotenv

from tui_manager import AppProcess, run_processes

from . import settings


def _probe(service: str) -> dict[str, Any]:
    return {"http": f"{settings.url(service)}/health", "interval": 0.1}


def _listen(service: str) -> list[str]:
    """The manager holds the socket: a restart queues requests instead of refusing them."""
    return [f"127.0.0.1:{settings.port(service)}"]


class DatabaseManager(AppProcess):
    service_name = "database_manager"

    def __init__(self) -> None:
        super().__init__()
        self.ready = _probe(self.service_name)
        self.listen = _listen(self.service_name)

    def run(self) -> None:
        from .database_manager import main

        main()


class _NeedsDatabase(AppProcess):
    depends_on = ["database_manager"]

    def __init__(self) -> None:
        super().__init__()
        self.ready = _probe(self.service_name)
        self.listen = _listen(self.service_name)

    def run(self) -> None:
        import importlib

        importlib.import_module(f"services.{self.service_name}").main()


class Scheduler(_NeedsDatabase):
    service_name = "scheduler"
    depends_on = ["database_manager", "agent_server"]


class NotificationManager(_NeedsDatabase):
    service_name = "notification_manager"


class WebsocketServer(_NeedsDatabase):
    service_name = "websocket_server"


class AgentServer(_NeedsDatabase):
    service_name = "agent_server"
    depends_on = ["database_manager", "websocket_server"]


class ExecutionManager(_NeedsDatabase):
    service_name = "execution_manager"
    depends_on = ["database_manager", "websocket_server", "notification_manager"]


def main(**kwargs: Any) -> int:
    """Run all the processes required for the AutoGPT-server (REST and WebSocket APIs)."""
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
    load_dotenv()  # before anything else, as in the seed
    raise SystemExit(main())
