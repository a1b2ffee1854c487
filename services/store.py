"""All SQL lives here (SQLite, WAL mode); swap this module to move to PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, nodes TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id), status TEXT NOT NULL,
    input TEXT, outputs TEXT, error TEXT, claimed_by TEXT,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS executions_status ON executions(status, created);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT, execution_id TEXT, kind TEXT NOT NULL,
    message TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id),
    every_seconds REAL NOT NULL, next_run REAL NOT NULL, runs INTEGER NOT NULL DEFAULT 0);
"""


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def _one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        row = self.db.execute(sql, args).fetchone()
        return _decode(dict(row)) if row else None

    def _all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [_decode(dict(r)) for r in self.db.execute(sql, args).fetchall()]

    # agents
    def create_agent(self, name: str, nodes: list[dict[str, Any]]) -> dict[str, Any]:
        aid = uuid.uuid4().hex[:12]
        self.db.execute(
            "INSERT INTO agents VALUES (?, ?, ?, ?)", (aid, name, json.dumps(nodes), time.time())
        )
        return self.get_agent(aid)  # type: ignore[return-value]

    def get_agent(self, agent_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM agents WHERE id = ?", agent_id)

    def list_agents(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM agents ORDER BY created")

    # executions
    def create_execution(self, agent_id: str, input: str = "") -> dict[str, Any]:
        eid = uuid.uuid4().hex[:12]
        now = time.time()
        self.db.execute(
            "INSERT INTO executions (id, agent_id, status, input, outputs, created, updated) "
            "VALUES (?, ?, 'queued', ?, '{}', ?, ?)",
            (eid, agent_id, input, now, now),
        )
        return self.get_execution(eid)  # type: ignore[return-value]

    def get_execution(self, execution_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM executions WHERE id = ?", execution_id)

    def list_executions(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM executions ORDER BY created DESC LIMIT ?", limit)

    def claim_execution(self, worker: str) -> dict[str, Any] | None:
        """Atomically take the oldest queued execution (or re-take our own, after a crash)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            row = self._one(
                "SELECT * FROM executions WHERE status = 'queued' ORDER BY created LIMIT 1"
            )
            if row is None:
                return None
            self.db.execute(
                "UPDATE executions SET status = 'running', claimed_by = ?, "
                "updated = ? WHERE id = ?",
                (worker, time.time(), row["id"]),
            )
        return self.get_execution(row["id"])

    def requeue_running(self) -> int:
        """At start: executions a dead execution manager was running go back to the queue."""
        return self.db.execute(
            "UPDATE executions SET status = 'queued', claimed_by = NULL WHERE status = 'running'"
        ).rowcount

    def finish_execution(
        self, execution_id: str, status: str, outputs: dict[str, Any], error: str | None = None
    ) -> dict[str, Any] | None:
        self.db.execute(
            "UPDATE executions SET status = ?, outputs = ?, error = ?, updated = ? WHERE id = ?",
            (status, json.dumps(outputs), error, time.time(), execution_id),
        )
        return self.get_execution(execution_id)

    # notifications
    def add_notification(self, execution_id: str | None, kind: str, message: str) -> dict[str, Any]:
        cur = self.db.execute(
            "INSERT INTO notifications (execution_id, kind, message, created) VALUES (?, ?, ?, ?)",
            (execution_id, kind, message, time.time()),
        )
        return self._one("SELECT * FROM notifications WHERE id = ?", cur.lastrowid)  # type: ignore[return-value]

    def list_notifications(self, execution_id: str | None = None) -> list[dict[str, Any]]:
        if execution_id:
            return self._all(
                "SELECT * FROM notifications WHERE execution_id = ? ORDER BY id", execution_id
            )
        return self._all("SELECT * FROM notifications ORDER BY id DESC LIMIT 100")

    # schedules
    def create_schedule(self, agent_id: str, every_seconds: float) -> dict[str, Any]:
        sid = uuid.uuid4().hex[:12]
        self.db.execute(
            "INSERT INTO schedules (id, agent_id, every_seconds, next_run) VALUES (?, ?, ?, ?)",
            (sid, agent_id, every_seconds, time.time() + every_seconds),
        )
        return self._one("SELECT * FROM schedules WHERE id = ?", sid)  # type: ignore[return-value]

    def list_schedules(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM schedules ORDER BY next_run")

    def due_schedules(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM schedules WHERE next_run <= ?", time.time())

    def schedule_ran(self, schedule_id: str) -> None:
        self.db.execute(
            "UPDATE schedules SET runs = runs + 1, next_run = ? + every_seconds WHERE id = ?",
            (time.time(), schedule_id),
        )


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("nodes", "outputs"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row
