"""Shared fixtures. The autouse `no_leftover_processes` fails any test that leaves a child alive."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from services.settings import free_port as free_port  # re-exported for the tests

FIXTURES = Path(__file__).parent / "fixtures"
PY = sys.executable
SESSION_VAR = "AUTOGPT_DEV_TEST_SESSION"
SESSION = uuid.uuid4().hex
# Every process a test starts inherits this, so leftovers can be found whoever their parent is.
os.environ[SESSION_VAR] = SESSION
os.environ.pop("NO_COLOR", None)


def session_processes() -> list[psutil.Process]:
    """Every live process this test session started, whoever its parent is now (psutil: the
    same on Linux and macOS)."""
    me = os.getpid()
    out = []
    for p in psutil.process_iter(["environ"], ad_value=None):
        env = p.info.get("environ")
        if p.pid == me or not env or env.get(SESSION_VAR) != SESSION:
            continue
        with contextlib.suppress(psutil.Error):
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
    return out


@pytest.fixture(autouse=True, scope="session")
def private_validation_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # The config cache (config/cache.py) of this session's thousands of tmp configs stays here,
    # not in the user's ~/.cache; every process a test starts inherits it.
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


from tui_manager.platform import CAPS  # noqa: E402 (after the session variable is set)

PORTABLE = CAPS.portable  # macOS, or Linux with AUTOGPT_DEV_PORTABLE=1
# The strict shim (tests/shim/sitecustomize.py) records every Linux-only call of our code here.
SHIM_LOG = os.environ.get("AUTOGPT_DEV_SHIM_LOG")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not PORTABLE:
        return
    skip = pytest.mark.skip(reason="Linux only (warm restarts): this run is portable")
    for item in items:
        if "linux_only" in item.keywords:
            item.add_marker(skip)


# The manager never forks (it has threads: a fork could copy a held lock), on every Python we
# run: an audit hook sees every os.fork and os.forkpty of this process. Subprocesses are
# spawned with fork+exec in C (no such event). 3.12+ would also warn; 3.11 would not.
TUI_DIR = str(Path(__file__).resolve().parents[1] / "tui_manager") + os.sep
FORKS: list[tuple[str, str | None]] = []  # (event, our file that asked for it, or None)


def fork_culprit(frame: object) -> str | None:
    """The file of ours (tui_manager/) nearest to the frame that forked, else None."""
    while frame is not None:
        name: str = frame.f_code.co_filename  # type: ignore[attr-defined]
        if name.startswith(TUI_DIR):
            return name
        frame = frame.f_back  # type: ignore[attr-defined]
    return None


def _fork_hook(event: str, args: tuple[object, ...]) -> None:
    if event in ("os.fork", "os.forkpty"):
        FORKS.append((event, fork_culprit(sys._getframe(1))))


sys.addaudithook(_fork_hook)


@pytest.fixture(autouse=True)
def the_manager_never_forks() -> Iterator[None]:
    before = len(FORKS)
    yield
    ours = [f for f in FORKS[before:] if f[1] is not None]
    if ours:
        pytest.fail(f"the manager forked: {ours}")


@pytest.fixture(autouse=True)
def no_linux_only_calls() -> Iterator[None]:
    """In the portable run, a test whose code made a Linux-only call fails."""
    if SHIM_LOG is None:
        yield
        return
    log = Path(SHIM_LOG)
    before = log.stat().st_size if log.exists() else 0
    yield
    if log.exists() and log.stat().st_size > before:
        with log.open() as f:
            f.seek(before)
            pytest.fail("Linux-only calls in portable mode:\n" + f.read())


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 3
    left = session_processes()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = session_processes()
    if left:
        desc = [f"{p.pid} {' '.join(p.cmdline())[:100]}" for p in left if p.is_running()]
        for p in left:
            with contextlib.suppress(psutil.Error):
                p.kill()
        if desc:
            pytest.fail("test left processes alive:\n" + "\n".join(desc))


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write an autogpt-dev.toml into tmp_path; {py} and {fx} expand to python and fixtures/."""

    def write(text: str) -> Path:
        body = textwrap.dedent(text).replace("{py}", PY).replace("{fx}", str(FIXTURES))
        path = tmp_path / "autogpt-dev.toml"
        path.write_text(body)
        return path

    return write


def fx(name: str, *args: object) -> str:
    """A TOML array literal running a fixture script."""
    items = [PY, str(FIXTURES / name), *map(str, args)]
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


async def wait_until(cond: Callable[[], bool], timeout: float = 10, what: str = "") -> None:
    """Poll a condition with a deadline (tests never sleep-and-hope)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or cond}")
        await asyncio.sleep(0.02)


def wait_until_sync(cond: Callable[[], bool], timeout: float = 10, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or cond}")
        time.sleep(0.02)


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
