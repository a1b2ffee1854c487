"""Read a compose file as docker compose does, into plain service tables: YAML with anchors and
`<<:` merge keys, `include`, `extends` (same file or another, chained, merged by the Compose
Specification's rules), `x-` fields dropped. Interpolation is left to the importer, which knows
which fields are typed; every scalar here is still the exact text the user wrote (`off`, `no`,
`on` stay strings: a service named `on` stays `on`, an env value `off` stays `off`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError


class _TextLoader(yaml.SafeLoader):
    """SafeLoader without the bool/int/float/timestamp resolvers: scalars stay text; null and
    the `<<` merge key keep their meaning."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.endswith((":null", ":merge"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# The names `docker compose` finds by itself, in its order.
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")

# Sequences that the later file replaces instead of appending to (Compose merge rules).
REPLACED = {"command", "entrypoint"}
# Sequences of unique resources, keyed (ports by their text, volumes by their target).
UNIQUE = {"ports", "volumes", "secrets", "configs", "expose"}
# Written as a list or a mapping; merged in the mapping form.
MAPPING_OR_LIST = {"environment", "labels", "extra_hosts", "sysctls", "depends_on"}
# Never inherited through `extends`. Compose's docs add depends_on, but Compose v2 has always
# inherited and merged it (docker/compose#10905; 2.32.1 dropped it as a bug, fixed since), and
# projects rely on it: the AutoGPT platform's start order lives in the file it extends.
NOT_SHARED = {"volumes_from"}


@dataclass
class Service:
    name: str
    body: dict[str, Any]
    origin: Path  # the file it is declared in: its relative paths are relative to that file


@dataclass
class Project:
    path: Path
    name: str | None
    services: dict[str, Service] = field(default_factory=dict)


def problem(path: Path, where: str, message: str) -> ConfigError:
    return ConfigError([f"{path}: {where}: {message}" if where else f"{path}: {message}"])


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM is not part of the file
    except OSError as e:
        raise problem(path, "", f"cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise problem(path, "", "not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_TextLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        why = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise problem(path, where, f"invalid YAML: {why}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise problem(path, "", "a compose file is a mapping (services: ...)")
    return data


def as_mapping(value: Any, what: str, path: Path, where: str) -> dict[str, Any]:
    """`environment`-like fields: a mapping, or a list of KEY=VALUE / KEY (pass-through)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if not isinstance(item, str):
                raise problem(path, where, f"{what} entries must be strings, got {item!r}")
            key, sep, val = item.partition("=" if what != "depends_on" else "\0")
            if what == "depends_on":
                out[item] = {"condition": "service_started"}
            elif what == "extra_hosts" and not sep:
                key, _, val = item.partition(":")
                out[key] = val
            else:
                out[key] = val if sep else None  # `- TZ`: passed through from the environment
        return out
    raise problem(path, where, f"{what} must be a mapping or a list")


def merge(base: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
    """`local` over `base`, as the Compose Specification merges service definitions."""
    out = copy.deepcopy(base)
    for key, value in local.items():
        old = out.get(key)
        if key in REPLACED or old is None or value is None:
            out[key] = copy.deepcopy(value)
        elif key == "healthcheck" and isinstance(old, dict) and isinstance(value, dict):
            out[key] = {**old, **value}  # `test` is replaced, the rest merged
        elif key in MAPPING_OR_LIST or (isinstance(old, dict) and isinstance(value, dict)):
            a = old if isinstance(old, dict) else as_mapping(old, key, Path(), key)
            b = value if isinstance(value, dict) else as_mapping(value, key, Path(), key)
            out[key] = merge(a, b) if key not in MAPPING_OR_LIST else {**a, **b}
        elif isinstance(old, list) and isinstance(value, list):
            merged = [*old, *value]
            if key in UNIQUE:
                seen: dict[str, Any] = {}
                for item in merged:
                    seen[_unique_key(key, item)] = item  # the later definition wins
                merged = list(seen.values())
            out[key] = merged
        else:
            out[key] = copy.deepcopy(value)
    return out


def _unique_key(key: str, item: Any) -> str:
    if key == "volumes":
        if isinstance(item, dict):
            return str(item.get("target"))
        parts = str(item).split(":")
        return parts[1] if len(parts) > 1 else parts[0]
    return str(item)


def load_project(path: Path) -> Project:
    data = read_yaml(path)
    project = Project(path, data.get("name") if isinstance(data.get("name"), str) else None)
    for item in _includes(data, path):
        for name, svc in load_project(item).services.items():
            if name in project.services:
                raise problem(item, f"services.{name}", "defined in two included files")
            project.services[name] = svc
    raw = data.get("services") or {}
    if not isinstance(raw, dict):
        raise problem(path, "services", "must be a mapping of service names")
    for name in raw:
        if name in project.services:
            raise problem(path, f"services.{name}", "also defined in an included file")
        project.services[str(name)] = Service(
            str(name), resolve(path, raw, str(name), ()), path.resolve()
        )
    return project


def _includes(data: dict[str, Any], path: Path) -> list[Path]:
    items = data.get("include") or []
    out = []
    for item in items if isinstance(items, list) else [items]:
        ref = item.get("path") if isinstance(item, dict) else item
        for one in ref if isinstance(ref, list) else [ref]:
            if not isinstance(one, str):
                raise problem(path, "include", f"expected a file path, got {one!r}")
            out.append((path.parent / one).resolve())
    return out


def _extends(body: dict[str, Any], path: Path, name: str) -> tuple[Path, str] | None:
    ext = body.get("extends")
    if ext is None:
        return None
    if isinstance(ext, str):
        return path, ext
    if not isinstance(ext, dict) or not isinstance(ext.get("service"), str):
        raise problem(path, f"services.{name}.extends", "needs `service:` (and maybe `file:`)")
    file = ext.get("file")
    return ((path.parent / file).resolve() if file else path), ext["service"]


def resolve(
    path: Path, services: dict[str, Any], name: str, chain: tuple[tuple[Path, str], ...]
) -> dict[str, Any]:
    """The service's definition with its `extends` chain merged in."""
    body = services[name]
    if body is None:
        body = {}  # an empty service body: valid YAML, nothing to run
    if not isinstance(body, dict):
        raise problem(path, f"services.{name}", "must be a mapping")
    here = (path.resolve(), name)
    if here in chain:
        cycle = " -> ".join(n for _, n in (*chain, here))
        raise problem(path, f"services.{name}.extends", f"extends itself: {cycle}")
    parent = _extends(body, path, name)
    local = {k: v for k, v in body.items() if k != "extends" and not k.startswith("x-")}
    if parent is None:
        return local
    file, base_name = parent
    base_services = services if file == path else (read_yaml(file).get("services") or {})
    if base_name not in base_services:
        raise problem(path, f"services.{name}.extends", f"no service {base_name!r} in {file}")
    base = resolve(file, base_services, base_name, (*chain, here))
    base = {k: v for k, v in base.items() if k not in NOT_SHARED}
    if file != path:  # relative paths of the base stay relative to the base's own file
        base = _rebase(base, file.parent, path.parent)
    return merge(base, local)


def _rebase(body: dict[str, Any], base_dir: Path, here: Path) -> dict[str, Any]:
    """Make the base's relative host paths (env_file, build, bind mounts) valid from `here`."""
    out = dict(body)

    def moved(p: str) -> str:
        if p.startswith(("/", "~", "$")) or re.match(r"^[a-z]+://", p):
            return p
        full = (base_dir / p).resolve()
        try:
            return str(full.relative_to(here.resolve()))
        except ValueError:
            return str(full)

    env_file = out.get("env_file")
    if isinstance(env_file, str):
        out["env_file"] = moved(env_file)
    elif isinstance(env_file, list):
        out["env_file"] = [
            moved(e) if isinstance(e, str) else {**e, "path": moved(str(e.get("path", "")))}
            for e in env_file
        ]
    build = out.get("build")
    if isinstance(build, str):
        out["build"] = moved(build)
    elif isinstance(build, dict) and isinstance(build.get("context"), str):
        out["build"] = {**build, "context": moved(build["context"])}
    volumes = out.get("volumes")
    if isinstance(volumes, list):
        out["volumes"] = [
            moved(v.split(":", 1)[0]) + ":" + v.split(":", 1)[1]
            if isinstance(v, str) and v.startswith(".") and ":" in v
            else v
            for v in volumes
        ]
    return out
