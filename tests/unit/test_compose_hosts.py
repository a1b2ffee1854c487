"""Container hostnames mapped to this machine: whole host tokens only, each on the port the
service listens on here."""

from __future__ import annotations

import pytest

from tui_manager.config.compose_hosts import HostMap, Reachable, names_of


@pytest.fixture
def hosts() -> HostMap:
    return HostMap(
        [
            Reachable("cache", {"cache", "redis-cache"}, {"6379": "6399"}, "runs here: redis"),
            Reachable("db", {"db"}, {"5432": "5433"}, "in docker"),
            Reachable("api", {"api", "backend"}, {}, "runs here"),
            Reachable("kong", {"kong"}, {"8000": "8000"}, "in docker"),
        ]
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("REDIS_URL", "redis://cache:6379/0", "redis://127.0.0.1:6399/0"),
        ("REDIS_URL", "redis://:secret@redis-cache:6379", "redis://:secret@127.0.0.1:6399"),
        ("DATABASE_URL", "postgresql://u:p@db:5432/app?sslmode=disable",
         "postgresql://u:p@127.0.0.1:5433/app?sslmode=disable"),
        ("DB_HOST", "db", "127.0.0.1"),
        ("CACHE_HOST", "cache", "127.0.0.1"),
        ("SUPABASE_URL", "http://kong:8000", "http://127.0.0.1:8000"),
        ("BROKERS", "cache:6379,db:5432", "127.0.0.1:6399,127.0.0.1:5433"),
        ("API_URL", "http://backend:8080/v1", "http://127.0.0.1:8080/v1"),
        ("ALLOWED", "api", "api"),  # a name, in a variable that is not a host's
        ("SERVICE", "api", "api"),
        ("PUBLIC_URL", "https://cache.example.com/x", "https://cache.example.com/x"),
        ("CDN_URL", "http://localhost:9000/cache/db", "http://localhost:9000/cache/db"),
        ("HOST", "cachet", "cachet"),
        ("HOST", "my-cache", "my-cache"),
        ("DB_HOST", "${DB_HOST:-db}", "${DB_HOST:-db}"),  # (resolved at run time: left as is)
    ],
)  # fmt: skip
def test_env_values(hosts: HostMap, key: str, value: str, expected: str) -> None:
    table = {"env": {key: value}}
    hosts.rewrite_table(table)
    assert table["env"][key] == expected


def test_commands_map_hosts_but_never_module_or_subcommand_names(hosts: HostMap) -> None:
    table = {"command": ["python", "-m", "api", "--redis", "redis://cache:6379", "--host", "db"]}
    hosts.rewrite_table(table)
    assert table["command"] == [
        "python", "-m", "api", "--redis", "redis://127.0.0.1:6399", "--host", "127.0.0.1",
    ]  # fmt: skip
    text = {"command": "celery -A api worker --broker=redis://cache:6379/0 --db-host=db"}
    hosts.rewrite_table(text)
    assert text["command"] == (
        "celery -A api worker --broker=redis://127.0.0.1:6399/0 --db-host=127.0.0.1"
    )


def test_a_service_that_stays_in_docker_is_reached_at_its_published_port(hosts: HostMap):
    assert hosts.rewrite("db:5432", bare=False) == "127.0.0.1:5433"
    assert hosts.rewrite("db:6000", bare=False) == "127.0.0.1:6000"  # (not published: as is)
    assert hosts.header() == [
        "db:5432 -> 127.0.0.1:5433 (in docker)",
        "db:6000 -> 127.0.0.1:6000 (in docker)",
    ]


def test_names_include_container_name_hostname_and_aliases() -> None:
    body = {
        "container_name": "rabbitmq",
        "hostname": "mq-host",
        "networks": {"app": {"aliases": ["broker"]}, "other": None},
    }
    assert names_of("queue", body) == {"queue", "rabbitmq", "mq-host", "broker"}
