"""The soak's checks and its report: every figure and every conclusion comes from the run."""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from bench import machine

if TYPE_CHECKING:
    from scripts.soak import Soak, Stack

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"
RSS_LIMIT_MB = 2.0


def respawned(events: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Every restart (control, dev-mode reload, restart cascade, crash policy) is followed by
    a spawn of a new pid of that service before the manager stops. (count, the ones not)."""
    last_pid: dict[str, int] = {}
    pending: dict[str, tuple[int, str]] = {}
    count, broken = 0, []
    for e in events:
        svc, kind = e.get("service"), e["event"]
        if kind == "manager_stop":
            break
        if svc is None:
            continue
        if kind == "spawn":
            if svc in pending:
                old, why = pending.pop(svc)
                if e["pid"] == old:
                    broken.append(f"{svc} {why} at {e['ts']:.0f}: spawn kept pid {old}")
            last_pid[svc] = e["pid"]
        elif kind == "restart":  # a reload restarts too (its own event is a summary after)
            count += 1
            pending[svc] = (last_pid.get(svc, -1), kind)
    broken += [f"{svc} {why}: no spawn followed" for svc, (_, why) in pending.items()]
    return count, broken


def kills_answered(kills: list[tuple[str, int, float]], events: list[dict[str, Any]]) -> list[str]:
    """Each SIGKILLed service came back with a new pid."""
    bad = []
    for svc, pid, at in kills:
        if not any(
            e["event"] == "spawn" and e.get("service") == svc and e["ts"] >= at and e["pid"] != pid
            for e in events
        ):
            bad.append(f"{svc} (pid {pid})")
    return bad


def edits_reloaded(edits: list[tuple[str, float]], events: list[dict[str, Any]]) -> list[str]:
    """Each dev-mode edit of services/<svc>.py reloaded <svc> within 30 s."""
    reloads = [e for e in events if e["event"] == "reload"]
    return [
        f"{svc} at {at:.0f}"
        for svc, at in edits
        if not any(e.get("service") == svc and at <= e["ts"] <= at + 30 for e in reloads)
    ]


def claims(log_text: str) -> Counter[str]:
    return Counter(re.findall(r"execution (\S+) claimed", log_text))


def write_report(
    soak: Soak,
    stack: Stack,
    final: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    commit: str,
    started: datetime.datetime,
    down_code: int,
    up_code: int | None,
    line_chart: Callable[[str, str, list[tuple[float, float]], Path], Path],
) -> bool:
    events = stack.events()
    restarts, not_respawned = respawned(events)
    kills_bad = kills_answered(soak.kills, events)
    edits_bad = edits_reloaded(soak.edits, events)
    reloads = [e for e in events if e["event"] == "reload"]
    kinds = Counter(e.get("kind", "?") for e in reloads)
    warm_s = sorted(e["seconds"] for e in reloads if e.get("kind") == "warm" and "seconds" in e)
    cold_s = sorted(e["seconds"] for e in reloads if e.get("kind") == "cold" and "seconds" in e)
    submitted = len(soak.executions)
    status = Counter(final.get(e, {}).get("status", "unknown") for e in soak.executions)
    lost = [e for e in soak.executions if status_of(final, e) not in ("completed", "failed")]
    wrong = [
        e
        for e, text in soak.executions.items()
        if status_of(final, e) == "completed"
        and f'"{text.upper()}"' not in str(final[e].get("outputs", {}).get("up", ""))
    ]
    claimed = claims(stack.log_text("execution_manager"))
    twice = sorted(e for e in soak.executions if claimed[e] > 1)
    ws_seen = sum(1 for e in soak.executions if sum(soak.subscriber.finished[e].values()))
    ws_twice = sorted(e for e in soak.executions if sum(soak.subscriber.finished[e].values()) > 1)
    leftovers = [
        p.pid
        for p in psutil.process_iter(["environ"])
        if (p.info["environ"] or {}).get("AUTOGPT_DEV_STATE_DIR") == str(stack.state)
    ]
    first, last = soak.samples[0], soak.samples[-1]
    # The last hour (the second half of a shorter run): a manager left running all week must
    # level off, so that window may grow by RSS_LIMIT_MB at most.
    window = min(3600.0, last[0] / 2)
    tail = [s for s in soak.samples if s[0] >= last[0] - window]
    tail_growth = max(s[3] for s in tail) - tail[0][3] if tail else 0.0
    # The log rings are capped (5,000 lines or 2 MiB a service), but a quiet service fills
    # its ring for hours, a line at a time: that growth is counted apart, never as a leak.
    ring_growth = tail[-1][5] - tail[0][5] if tail else 0.0
    beyond = max(s[3] - s[5] for s in tail) - (tail[0][3] - tail[0][5]) if tail else 0.0
    levels_off = beyond <= RSS_LIMIT_MB
    checks = [
        ("every restart followed by a spawn of a new pid", restarts, not_respawned),
        ("every SIGKILLed service came back", len(soak.kills), kills_bad),
        ("every dev-mode edit reloaded its service", len(soak.edits), edits_bad),
        ("no execution lost (completed or failed by the end)", submitted, lost),
        ("completed executions carry the right output", status["completed"], wrong),
        ("no execution claimed twice (execution_manager log)", submitted, twice),
        ("no completion delivered twice on the websocket", ws_seen, ws_twice),
        ("every answered flood request is in the log file", sum(n for _, n in soak.floods),
         [f"{soak.flood_missing} lines missing"] if soak.flood_missing else []),
        ("the stack was ready again within 60 s after every action",
         sum(soak.actions.values()), soak.unrecovered),
        ("`down` exit 0 and `up` exit 0", 2,
         [] if down_code == 0 and up_code == 0 else [f"down {down_code}, up {up_code}"]),
        ("no process left after `down`", 1, [str(p) for p in leftovers]),
        (f"RSS levels off (the last {window / 60:.0f} min grow {RSS_LIMIT_MB:g} MB at most "
         "beyond the log rings)", 1,
         [] if levels_off else [f"+{beyond:.1f} MB beyond the rings in the last "
                                f"{window / 60:.0f} min"]),
    ]  # fmt: skip
    ok = all(not bad for _, _, bad in checks)
    day = started.date().isoformat()
    report = args.report or RESULTS / f"soak-{day}.md"
    charts = {
        "rss": ("manager RSS", "MB", 3),
        "fds": ("manager open fds", "fds", 1),
        "threads": ("manager threads", "threads", 2),
        "procs": ("processes under the manager", "processes", 4),
    }
    names = {}
    for key, (title, unit, col) in charts.items():
        path = report.with_name(f"{report.stem}-{key}.svg")  # beside the report, named after it
        line_chart(title, unit, [(s[0], float(s[col])) for s in soak.samples], path)
        names[key] = path.name
    rec = sorted(soak.recoveries)
    lines = [
        f"# Soak: {args.duration / 3600:.2g} h of the default stack in dev mode, under chaos",
        "",
        f"Written by `python scripts/soak.py --duration {args.duration:.0f}` at commit `{commit}`,"
        f" started {started:%Y-%m-%d %H:%M} UTC, Python {platform.python_version()} on "
        f"{psutil.cpu_count()} cores. Seed {args.seed}, one action every {args.interval:g} s "
        "plus the wait for recovery. Nothing below was edited by hand.",
        "",
        f"Machine: {machine.describe(soak.loads[0], soak.loads[-1])} (highest 1-minute load "
        f"sampled: {max(x[0] for x in soak.loads):.2f}"
        f"{'; busy at some sample' if machine.busy(soak.loads) else ''}). Another soak or "
        "bench of this project cannot run meanwhile (bench/machine.py).",
        "",
        f"**Result: {'every check passed' if ok else 'FAILED'}.**",
        "",
        "## Checks",
        "",
        "| check | cases | failures | first failures |",
        "|---|---|---|---|",
        *(
            f"| {name} | {n} | {len(bad)} | {'; '.join(bad[:3]) or '-'} |"
            for name, n, bad in checks
        ),
        "",
        "## Figures",
        "",
        f"- actions: {dict(sorted(soak.actions.items()))}",
        f"- restarts in events.jsonl (control, reload, crash policy): {restarts}; "
        f"SIGKILLs: {len(soak.kills)}; dev-mode edits: {len(soak.edits)}",
        f"- reloads: {dict(kinds)}; write to ready, warm: {summary(warm_s)}; "
        f"cold: {summary(cold_s)}",
        f"- executions: {submitted} submitted ({soak.not_submitted} refused while "
        f"agent_server restarted), {dict(status)}; lost: {len(lost)}; claimed twice: "
        f"{len(twice)}; completion seen on the websocket: {ws_seen} "
        f"({soak.subscriber.reconnects} reconnects)",
        f"- flood: {len(soak.floods)} floods, {sum(n for _, n in soak.floods)} requests "
        f"answered, {soak.flood_missing} missing from the log",
        f"- recovery after an action (all ready again): {summary(rec)}",
        f"- manager at the start / the end: RSS {first[3]:.1f} / {last[3]:.1f} MB, "
        f"fds {first[1]} / {last[1]}, threads {first[2]} / {last[2]}, "
        f"processes under it {first[4]} / {last[4]}",
        f"- RSS in the last {window / 60:.0f} min: +{tail_growth:.1f} MB, of which the log rings "
        f"+{ring_growth:.1f} MB (they hold {last[5]:.1f} MB at the end; the C heap in use "
        f"{tail[0][6] if tail else 0:.1f} -> {last[6]:.1f} MB, in free chunks "
        f"{tail[0][7] if tail else 0:.1f} -> {last[7]:.1f} MB)",
        "",
        *memory_section(soak.memory),
        "## Charts",
        "",
        *(f"![{k}]({n})" for k, n in names.items()),
        "",
        "## Samples (every 10 minutes)",
        "",
        "| t (min) | RSS MB | of it, log rings MB | C heap in use MB | C heap free MB | open fds"
        " | threads | processes |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {s[0] / 60:.0f} | {s[3]:.1f} | {s[5]:.1f} | {s[6]:.1f} | {s[7]:.1f} | {s[1]} "
            f"| {s[2]} | {s[4]} |"
            for i, s in enumerate(soak.samples)
            if i % 20 == 0 or s is last
        ),
    ]
    text = "\n".join(lines) + "\n"
    report.write_text(text)
    print(text)
    print(f"written to {report}", file=sys.stderr)
    return ok


def memory_section(memory: list[tuple[float, dict[str, Any]]]) -> list[str]:
    """What the manager said of its memory: at the baseline and the end, and (traced) what
    grew most between them, by traceback."""
    if len(memory) < 2:
        return []
    (t0, base), (t1, end) = memory[0], memory[-1]
    lines = [
        "## Where the memory went",
        "",
        f"The manager's `memory` answers at {t0 / 60:.0f} and {t1 / 60:.0f} min: RSS "
        f"{base.get('rss', 0) / 2**20:.1f} -> {end.get('rss', 0) / 2**20:.1f} MB, Python "
        f"objects {base.get('gc_objects', '?')} -> {end.get('gc_objects', '?')}",
    ]
    before, after = Counter(base.get("types", {})), Counter(end.get("types", {}))
    if grew := (after - before).most_common(8):
        lines[-1] += "; the types that gained most: " + ", ".join(f"{t} +{n}" for t, n in grew)
    if end.get("tracing"):
        lines[-1] += (
            f", traced {base.get('traced', 0) / 2**20:.2f} -> {end.get('traced', 0) / 2**20:.2f}"
            " MB. What grew most between them (tracemalloc, by traceback, newest frame first):"
        )
        lines += ["", "| grew | blocks | now | where |", "|---|---|---|---|"]
        for g in end.get("growth", []):
            frames = " < ".join(f.split("/tui_manager/")[-1] for f in reversed(g["traceback"][-4:]))
            lines.append(
                f"| {g['size_diff'] / 1024:+.0f} KiB | {g['count_diff']:+d} | "
                f"{g['size'] / 1024:.0f} KiB | {frames} |"
            )
    return [*lines, ""]


def status_of(final: dict[str, dict[str, Any]], eid: str) -> str:
    return str(final.get(eid, {}).get("status", "unknown"))


def summary(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"median {statistics.median(values):.2f} s, "
        f"p90 {values[int(0.9 * (len(values) - 1))]:.2f} s, max {values[-1]:.2f} s"
    )
