"""How an AppProcess runs in its own process, started by exec (never by fork from the manager,
which has threads): `python -m tui_manager.core.warm.bootstrap PAYLOAD`.

The payload file (mode 0600, removed once read) holds multiprocessing's preparation data and
then the pickled process object. When the object needs something of the user's `__main__`
script (its class is defined there), the child runs that script first, as `__mp_main__`, exactly
as the `spawn` and `forkserver` start methods do; otherwise (AutoGPT's app.py imports its
classes from their modules) the script is not run again at all. This is upstream AutoGPT's
contract: the object must be picklable when started. A script that defines its class and starts
processes without an `if __name__ == "__main__":` guard would start them again in each child:
that start is refused with one line saying so (multiprocessing raises a RuntimeError there).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any, NamedTuple


class Target(NamedTuple):
    """An AppProcess to run as a service (any picklable object with execute_run_command)."""

    process: object
    silent: bool = False


MODULE = "tui_manager.core.warm.bootstrap"
# Started with these blocked (process.spawn, zygote.become_service): a stop that comes before
# main() has its handlers waits for them instead of killing the process before cleanup().
BLOCKED = frozenset({signal.SIGTERM, signal.SIGINT})


_OURS = str(Path(__file__).resolve().parents[2]) + os.sep  # the tui_manager package
_MAIN_KEYS = ("init_main_from_path", "init_main_from_name")
# The script being run again as __mp_main__ (only while it is): a start from it is refused.
importing_main: str | None = None


class UnguardedStart(RuntimeError):
    """A process started by the user's script while a service's process imports it."""


def refuse_start_while_importing_main() -> None:
    """AppProcess.start() and run_processes() call this first (in every process)."""
    if importing_main is not None:
        raise UnguardedStart(
            f"{importing_main} starts processes when it is imported, and each service's process"
            " imports it again to find its class: put that code under"
            ' `if __name__ == "__main__":`'
        )


def print_user_traceback(e: BaseException) -> None:
    """The traceback from the first frame of the user's own code: the frames of autogpt-dev
    that called run() or cleanup() are nobody's business (nor the project frame)."""
    import traceback

    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OURS):
        tb = tb.tb_next
    traceback.print_exception(type(e), e, tb or e.__traceback__)


def argv(payload: Path) -> list[str]:
    return [sys.executable, "-m", MODULE, str(payload)]


def write_payload(process: object, path: Path, silent: bool = False) -> None:
    """Manager side. Raises TypeError/pickle errors for an object that cannot be pickled."""
    import pickle  # here: the manager needs it only for an AppProcess service
    from multiprocessing import spawn

    prep = spawn.get_preparation_data(getattr(process, "service_name", "app"))
    for key in ("dir", "orig_dir", "authkey", "log_to_stderr", "log_level", "start_method"):
        prep.pop(key, None)  # our cwd, logging and signals are the service's, not the parent's
    body = pickle.dumps((process, silent))
    if b"__main__" not in body:  # nothing of the script's own: the child need not run it
        for key in _MAIN_KEYS:
            prep.pop(key, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        pickle.dump(prep, f)
        f.write(body)


def read_payload(path: Path) -> tuple[Any, bool]:
    """Child side: prepare __main__ as multiprocessing does, then unpickle the process."""
    import pickle
    from multiprocessing import spawn

    global importing_main
    with path.open("rb") as f:
        prep = pickle.load(f)
        script = prep.get("init_main_from_path") or prep.get("init_main_from_name")
        importing_main = os.path.relpath(script) if prep.get("init_main_from_path") else script
        try:
            spawn.prepare(prep)
        finally:
            importing_main = None
        process, silent = pickle.load(f)
    path.unlink(missing_ok=True)
    return process, bool(silent)


def main(argv: list[str]) -> int:
    # A stop can come while we are still unpickling and importing: record it from the first
    # line, so that it ends the service the same way as later (cleanup once, exit 0).
    early: list[int] = []
    for sig in BLOCKED:
        signal.signal(sig, lambda number, frame: early.append(number))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, BLOCKED)  # one that came already: handled now
    try:
        process, silent = read_payload(Path(argv[1]))
    except UnguardedStart as e:
        print(f"autogpt-dev: {e}", file=sys.stderr, flush=True)
        return 1
    except BaseException as e:  # the user's module failed to import, or to unpickle
        print_user_traceback(e)
        return 1
    if early:
        process._shutting_down = True
        process.cleanup()
        return 0
    code = process.execute_run_command(silent)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    # Run as `-m`, this file is __main__; the api imports it by name. One module, one state
    # (importing_main), so the one imported by name does the work.
    from tui_manager.core.warm import bootstrap

    sys.exit(bootstrap.main(sys.argv))
