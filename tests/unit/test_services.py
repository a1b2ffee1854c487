"""The default stack's own logic, without the network: the store, node validation, scheduling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.agent_server import validate_nodes
from services.settings import database_path, isolated_env
from services.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(tmp_path / "db.sqlite")
    yield db
    db.close()


def test_agents_and_executions_round_trip(store: Store):
    agent = store.create_agent("a", [{"id": "x", "type": "text"}])
    assert store.get_agent(agent["id"])["nodes"] == [{"id": "x", "type": "text"}]
    ex = store.create_execution(agent["id"], "hi")
    assert ex["status"] == "queued" and ex["outputs"] == {}
    done = store.finish_execution(ex["id"], "completed", {"x": "HI"})
    assert done is not None and done["status"] == "completed" and done["outputs"] == {"x": "HI"}


def test_claim_takes_the_oldest_queued_once(store: Store):
    agent = store.create_agent("a", [])
    first = store.create_execution(agent["id"])
    store.create_execution(agent["id"])
    claimed = store.claim_execution("w1")
    assert claimed is not None and claimed["id"] == first["id"] and claimed["status"] == "running"
    assert store.claim_execution("w2")["id"] != first["id"]  # type: ignore[index]
    assert store.claim_execution("w3") is None


def test_requeue_running_after_a_crash(store: Store):
    agent = store.create_agent("a", [])
    ex = store.create_execution(agent["id"])
    store.claim_execution("w")
    assert store.requeue_running() == 1
    assert store.get_execution(ex["id"])["status"] == "queued"  # type: ignore[index]


def test_committed_data_survives_reopening(tmp_path: Path):
    path = tmp_path / "db.sqlite"
    first = Store(path)
    agent = first.create_agent("kept", [])
    first.close()
    again = Store(path)
    assert again.get_agent(agent["id"])["name"] == "kept"  # type: ignore[index]
    again.close()


def test_schedules_come_due_and_move_on(store: Store):
    agent = store.create_agent("a", [])
    sched = store.create_schedule(agent["id"], every_seconds=1)
    assert store.due_schedules() == []
    store.db.execute(
        "UPDATE schedules SET next_run = ? WHERE id = ?", (time.time() - 1, sched["id"])
    )
    assert [s["id"] for s in store.due_schedules()] == [sched["id"]]
    store.schedule_ran(sched["id"])
    assert store.due_schedules() == [] and store.list_schedules()[0]["runs"] == 1


def test_notifications_by_execution(store: Store):
    store.add_notification("e1", "completed", "done")
    store.add_notification("e2", "failed", "oops")
    assert [n["message"] for n in store.list_notifications("e1")] == ["done"]
    assert len(store.list_notifications()) == 2


@pytest.mark.parametrize(
    "nodes,error",
    [
        ([], "non-empty"),
        ([{"id": "a", "type": "teleport"}], "type must be one of"),
        ([{"id": "a", "type": "text", "inputs": ["b"]}], "is not an earlier node"),
        ([{"id": "a", "type": "text"}, {"id": "a", "type": "text"}], "duplicate node id"),
        ([{"type": "text"}], "string id"),
    ],
)
def test_agent_graphs_are_validated(nodes: list[dict[str, object]], error: str):
    with pytest.raises(ValueError, match=error):
        validate_nodes(nodes)


def test_settings_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    assert database_path() == tmp_path / "x.db"
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("AUTOGPT_DEV_STATE_DIR", str(tmp_path))
    assert database_path() == tmp_path / "autogpt.db"
    env = isolated_env(tmp_path / "s")
    ports = [v for k, v in env.items() if k.endswith("_PORT")]
    assert len(ports) == len(set(ports)) == 6
