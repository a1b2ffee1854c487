"""`python -m bench`: every scenario against autogpt-dev and every peer found on this machine,
then the command-cost and dashboard sections; prints each table and writes them all, with the
commit measured, to bench/results/<date>.md (and an SVG chart per scenario).

Each tool gets one untimed warm-up run per scenario in the same directory (bytecode, page cache,
our validation cache: what a developer re-running a command has), then `--repeat` timed runs,
the tools interleaved run by run so the machine's noise falls on all of them alike. Every row
shows the ratio to the best peer. Installs nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import machine
from .plot import bar_chart
from .scenarios import NOTES, SCENARIOS, UNITS, baseline_flood
from .tools import ALL, Tool

PY = sys.executable
REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
OURS = "autogpt-dev"

SECTIONS = [
    ("bench.commands", "Command costs: end to end, as a shell sees them", ["--runs", "20"]),
    ("bench.tui", "Dashboard in a real terminal (tmux), vs mprocs", ["--seconds", "20"]),
]
MORE_SECTIONS = [
    ("bench.stack", "Default stack: cold start, stop, executions end to end", ["--runs", "3"]),
    ("bench.reload", "Dev mode: file write to the new code answering", ["--runs", "8"]),
]


@dataclass
class Result:
    seconds: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, list[float]] = field(default_factory=dict)


def commit() -> str:
    def git(*args: str) -> str:
        r = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return r.stdout.strip()

    sha = git("rev-parse", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return sha + (" with uncommitted changes" if dirty else "")


def empty(work: Path) -> None:
    """Remove a run's output, keep the directory (the same config path every run)."""
    for p in work.iterdir():
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def run_scenario(key: str, tools: list[Tool], repeat: int) -> dict[str, Result]:
    _, fn = SCENARIOS[key]
    results = {t.name: Result() for t in tools}
    dirs = {t.name: Path(tempfile.mkdtemp(prefix=f"bench-{key}-")) for t in tools}
    try:
        for rep in range(repeat + 1):  # run 0 warms up and is not counted
            for tool in tools:
                work = dirs[tool.name]
                empty(work)
                try:
                    value, extra = fn(tool, work)
                except RuntimeError as e:
                    if rep:
                        results[tool.name].notes.append(str(e))
                    continue
                if rep:
                    r = results[tool.name]
                    r.seconds.append(value)
                    for k, v in extra.items():
                        r.extra.setdefault(k, []).append(v)
    finally:
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)
    return results


def best_peer(results: dict[str, Result]) -> tuple[str, float] | None:
    peers = {n: statistics.median(r.seconds) for n, r in results.items() if n != OURS and r.seconds}
    if not peers:
        return None
    name = min(peers, key=lambda n: peers[n])
    return name, peers[name]


def ratio(value: float, best: tuple[str, float] | None) -> str:
    if best is None:
        return "no peer"
    return f"{value / best[1]:.2f}x" if best[1] else "peer 0"


def table(key: str, title: str, results: dict[str, Result]) -> list[str]:
    best = best_peer(results)
    extra_keys = sorted({k for r in results.values() for k in r.extra})
    columns = ["tool", "median", "min", "max", "vs best peer", *extra_keys]
    head = "| " + " | ".join(columns) + " |"
    rows = [f"## {key}: {title}", "", head, "|" + "---|" * len(columns)]
    for name, r in results.items():
        if not r.seconds:
            failed = [name, f"failed: {'; '.join(sorted(set(r.notes)))}"]
            rows.append("| " + " | ".join(failed + ["-"] * (len(columns) - 2)) + " |")
            continue
        med = statistics.median(r.seconds)
        extras = [
            f"{statistics.median(r.extra[k]):.1f}" if k in r.extra else "-" for k in extra_keys
        ]
        cells = [name, f"{med:.3f}", f"{min(r.seconds):.3f}", f"{max(r.seconds):.3f}"]
        cells += [ratio(med, best), *extras]
        rows.append("| " + " | ".join(cells) + " |")
    return [*rows, ""]


def summary_row(key: str, results: dict[str, Result]) -> str:
    ours = results.get(OURS)
    if not ours or not ours.seconds:
        return f"| {key} | failed | - | - |"
    med = statistics.median(ours.seconds)
    best = best_peer(results)
    peer = f"{best[0]} {best[1]:.3f}" if best else "-"
    return f"| {key} | {med:.3f} | {peer} | {ratio(med, best)} |"


def main(argv: list[str] | None = None) -> int:
    with machine.alone("python -m bench"):
        return bench(argv)


def bench(argv: list[str] | None) -> int:
    # The peers installed in this venv (honcho, supervisord, hupper...) are found whether or not
    # it is activated, as `uv run` would: its bin/ first on PATH, for every section too.
    os.environ["PATH"] = f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=list(SCENARIOS))
    ap.add_argument("--tools", nargs="*", default=[t.name for t in ALL])
    ap.add_argument("--out", type=Path, default=None, help="results file (default: dated)")
    ap.add_argument("--no-sections", action="store_true", help="only the scenarios")
    ap.add_argument("--all", action="store_true", help="also the default stack and dev mode")
    args = ap.parse_args(argv)
    out = args.out or RESULTS / f"{time.strftime('%Y-%m-%d')}.md"
    charts = out.parent  # beside the results file: a partial run never redraws the published
    load_start = machine.load()
    tools = [t for t in ALL if t.name in args.tools and t.available()]
    missing = [t.name for t in ALL if t.name in args.tools and not t.available()]
    lines = [
        f"# autogpt-dev benchmarks, {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        f"Commit measured: {commit()}.",
        "",
        f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}. "
        f"Timed runs per cell: {args.repeat}, after one warm-up. Tools: "
        + ", ".join(t.version() for t in tools)
        + (f". Not installed: {', '.join(missing)}" if missing else "")
        + ".",
        "",
    ]
    if "flood-1x1M" in args.only:
        with tempfile.TemporaryDirectory() as d:
            base = statistics.median(baseline_flood(Path(d), 1_000_000) for _ in range(3))
        lines += [f"Baseline: the flood child alone, into a file: {base:.3f} s.", ""]
    summary = [
        "## Summary: ours against the best peer",
        "",
        "| scenario | autogpt-dev | best peer | ratio |",
        "|---|---|---|---|",
    ]
    body: list[str] = []
    for key in args.only:
        title, _ = SCENARIOS[key]
        results = run_scenario(key, tools, args.repeat)
        section = table(key, title, results)
        summary.append(summary_row(key, results))
        medians = {name: statistics.median(r.seconds) for name, r in results.items() if r.seconds}
        if medians:
            svg = bar_chart(f"{key}: {title}", UNITS.get(key, "s"), medians, charts / f"{key}.svg")
            section += [f"![{key}]({svg.name})", ""]
        if key in NOTES:
            section += [NOTES[key], ""]
        body += section
        print("\n".join(section), flush=True)
    sections = [] if args.no_sections else SECTIONS + (MORE_SECTIONS if args.all else [])
    for module, title, extra in sections:
        if module == "bench.reload":
            extra = [*extra, "--charts", str(charts)]
        r = subprocess.run([PY, "-m", module, *extra], capture_output=True, text=True, cwd=REPO)
        part = [f"## {title}", "", r.stdout.strip() or f"failed: {r.stderr.strip()[-300:]}", ""]
        body += part
        print("\n".join(part), flush=True)
    lines[3:3] = [f"Machine: {machine.describe(load_start, machine.load())}.", ""]
    lines += [*summary, "", *body]
    out.write_text("\n".join(lines) + "\n")
    print(f"\nwritten to {out}")
    return 0
