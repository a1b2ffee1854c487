"""The dependency DAG: validation, cycles spelled out, start waves, reverse stop order.

Pure logic over `name -> set of dependency names`; no processes, no config models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class GraphError(ValueError):
    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service
        self.message = message


def unknown_dependencies(edges: Mapping[str, Iterable[str]]) -> list[GraphError]:
    errors = []
    for name, deps in edges.items():
        for dep in deps:
            if dep == name:
                errors.append(GraphError(name, f"depends on itself: {name} -> {name}"))
            elif dep not in edges:
                known = ", ".join(sorted(edges))
                errors.append(GraphError(name, f"unknown dependency {dep!r} (known: {known})"))
    return errors


def find_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every elementary cycle found by DFS, each once, as a path `a -> b -> a`."""
    color: dict[str, int] = dict.fromkeys(edges, 0)  # 0 new, 1 on stack, 2 done
    stack: list[str] = []
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        color[node] = 1
        stack.append(node)
        for dep in edges[node]:
            if dep not in edges or dep == node:
                continue
            if color[dep] == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    cycles.append(cycle)
            elif color[dep] == 0:
                visit(dep)
        stack.pop()
        color[node] = 2

    for node in edges:
        if color[node] == 0:
            visit(node)
    return cycles


def start_waves(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Services grouped by the wave in which they can start (all deps in earlier waves).

    Assumes a valid DAG; dependencies outside `edges` count as already met.
    """
    remaining = {n: {d for d in deps if d in edges and d != n} for n, deps in edges.items()}
    waves: list[list[str]] = []
    done: set[str] = set()
    while remaining:
        wave = [n for n, deps in remaining.items() if deps <= done]
        if not wave:
            raise GraphError(next(iter(remaining)), "dependency cycle")
        waves.append(wave)
        done.update(wave)
        for n in wave:
            del remaining[n]
    return waves


def dependents(edges: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """The reverse edges: name -> the services that depend on it."""
    rev: dict[str, set[str]] = {n: set() for n in edges}
    for name, deps in edges.items():
        for dep in deps:
            if dep in rev:
                rev[dep].add(name)
    return rev


def closure(edges: Mapping[str, Iterable[str]], roots: Iterable[str]) -> set[str]:
    """The roots plus everything they depend on, transitively."""
    out: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in out or n not in edges:
            continue
        out.add(n)
        todo.extend(edges[n])
    return out
