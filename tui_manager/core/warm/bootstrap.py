"""How an AppProcess runs in its own process, started by exec (never by fork from the manager,
which has threads): `python -m tui_manager.core.warm.bootstrap PAYLOAD`.

The payload file (mode 0600, removed once read) holds multiprocessing's preparation data (so a
class defined in the user's `__main__` script unpickles, exactly as with the `spawn` and
`forkserver` start methods) and then the pickled process object. This is upstream AutoGPT's
contract: the object must be picklable when started, and a script defining one needs an
`if __name__ == "__main__":` guard.
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        pickle.dump(prep, f)
        f.write(body)


def read_payload(path: Path) -> tuple[Any, bool]:
    """Child side: prepare __main__ as multiprocessing does, then unpickle the process."""
    import pickle
    from multiprocessing import spawn

    with path.open("rb") as f:
        prep = pickle.load(f)
        spawn.prepare(prep)
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
    sys.exit(main(sys.argv))
