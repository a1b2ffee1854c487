"""Container hostnames, mapped to this machine. In a compose project a service reaches another
by its name (`redis://cache:6379/0`, `DB_HOST=db`): names that only resolve on the project's
container network. Run here, every one of them is 127.0.0.1, on the port the other service
listens on here:

- a service that runs here natively listens on its own port: a project's own program keeps the
  one it always listens on; a known image run natively listens on its published port (P);
- a service that stays in Docker is reached at its published host port (`"6399:6379"`: 6399),
  since `docker compose up -d cache` publishes it there.

A reference is the service's name, its `container_name`, `hostname` or a network alias, as a
whole host: a bare value, `host:port` (in a list too) or the host of a URL; never a part of
another word (`cachet`, `my-cache`, `cache.example.com`, a path's `/cache/`). A bare value is
a host in a variable named like one (`DB_HOST=db`, not `SERVICE=api`); in a command a bare
word is a host only after a host option (`--host db`, `-h db`, `--redis-host=cache`): `python -m
api` runs the module api, whatever the service of that name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# What may come right before a host, and right after it.
_BEFORE = r"(?:^|(?<=[@,;=\s\"'])|(?<=//))"
_AFTER = r"(?=$|[/,;?#\s\"'])"
# An environment variable whose bare value is a host (DB_HOST=db), not a name (SERVICE=api).
_HOST_KEY = re.compile(r"HOST|ADDR|SERVER|URL|URI|DSN|ENDPOINT|BROKER|NODES|PEERS", re.IGNORECASE)
_HOST_OPTION = re.compile(r"(?:^|\s)--?[\w-]*host(?:name)?[= ]?$", re.IGNORECASE)


@dataclass
class Reachable:
    """One service, as the others reach it here."""

    name: str
    names: set[str]  # the service's name, container_name, hostname, network aliases
    ports: dict[str, str] = field(default_factory=dict)  # its port -> the port here
    how: str = ""  # for the header comment


class HostMap:
    def __init__(self, services: list[Reachable]) -> None:
        self.by_name: dict[str, Reachable] = {}
        for s in services:
            for n in s.names:
                self.by_name.setdefault(n, s)
        names = sorted(self.by_name, key=len, reverse=True)
        self._pattern = (
            re.compile(
                _BEFORE
                + r"(?P<host>"
                + "|".join(re.escape(n) for n in names)
                + r")(?::(?P<port>\d+))?"
                + _AFTER
            )
            if names
            else None
        )
        self.used: dict[str, str] = {}  # reference -> what it became (the header's lines)
        self.reached: set[str] = set()  # services an enabled service reaches by name
        self._counting = False

    def rewrite(self, text: str, bare: bool = True, after_option: bool = False) -> str:
        """`text` with every reference to a service replaced by 127.0.0.1 and its port here.
        `bare`: a name alone is a host too (an environment value); otherwise only with a port,
        in a URL, or after a host option (a command's words)."""
        if self._pattern is None:
            return text

        def one(m: re.Match[str]) -> str:
            before = text[: m.start()]
            a_host = bare or m["port"] or before.endswith(("//", "@"))
            a_host = a_host or (after_option and not before) or _HOST_OPTION.search(before)
            if not a_host:
                return m[0]
            target = self.by_name[m["host"]]
            port = m["port"]
            local = target.ports.get(port, port) if port else None
            new = f"127.0.0.1:{local}" if local else "127.0.0.1"
            self.used[m[0]] = new + (f" ({target.how})" if target.how else "")
            if self._counting:
                self.reached.add(target.name)
            return new

        return self._pattern.sub(one, text)

    def rewrite_table(self, table: dict[str, Any], enabled: bool = True) -> None:
        """A service table's command and env values, in place (`enabled`: what it reaches
        counts for `reached`)."""
        self._counting = enabled
        command = table.get("command")
        if isinstance(command, str):
            table["command"] = self.rewrite(command, bare=False)
        elif isinstance(command, list):
            words = [str(a) for a in command]
            table["command"] = [
                self.rewrite(w, False, i > 0 and bool(_HOST_OPTION.search(words[i - 1])))
                for i, w in enumerate(words)
            ]
        env = table.get("env")
        if isinstance(env, dict):
            table["env"] = {
                k: self.rewrite(str(v), bare=bool(_HOST_KEY.search(k))) for k, v in env.items()
            }

    def header(self) -> list[str]:
        """One line per reference that was mapped, for the file's header comment."""
        return [f"{ref} -> {new}" for ref, new in sorted(self.used.items())]


def names_of(name: str, body: dict[str, Any]) -> set[str]:
    """Every name a service answers to on its project's networks."""
    names = {name}
    for key in ("container_name", "hostname"):
        if isinstance(body.get(key), str) and body[key]:
            names.add(str(body[key]))
    networks = body.get("networks")
    if isinstance(networks, dict):
        for net in networks.values():
            if isinstance(net, dict):
                names.update(str(a) for a in net.get("aliases") or [] if a)
    return names
