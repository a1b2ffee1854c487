"""The warm template: run by the manager as `python [options] -c <this file> FD MANAGER_PID
LINUX_HELPERS` (the path of platform/child.py) in a service's own interpreter, cwd and
environment (so: standard library only, and Python 3.8 syntax, whatever interpreter the service
uses).

It imports the third-party modules the service's code imports (the manager sends the list),
checks that no thread is alive, reports, and then forks a service process per request:

    template --fork--> A --fork--> B (the service);  A exits at once.

B is reparented to the manager (a child subreaper) and only once it is the manager's child does
it set its parent-death signal, take its own session, install the pipes it was sent (SCM_RIGHTS),
the cwd and environment of the request, and run the entry (`-m module` or a script path) as
`__main__`, the way `python` would: so the manager reaps it, signals its group and reads its
output exactly as for a cold start. The template never runs project code and never forks while
a thread is alive: a Python thread refuses the warm start; native threads get one settle fork,
which stops pools that have fork handlers (OpenBLAS), and refuse if any remain.

Messages are JSON over a SOCK_SEQPACKET socket, one per datagram.
"""

from __future__ import annotations  # annotations stay strings: 3.8 runs this file too

import array
import contextlib
import fcntl
import gc
import importlib
import json
import os
import signal
import socket
import sys
import time
from typing import Any

MAX_MSG = 1 << 20
MAX_FDS = 64  # stdio, the go-ahead pipes and a service's held sockets


def send(sock: socket.socket, obj: object) -> None:
    sock.send(json.dumps(obj).encode())


def recv(sock: socket.socket) -> tuple[Any, list[int]]:
    fds = array.array("i")
    msg, anc, _flags, _addr = sock.recvmsg(MAX_MSG, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not msg:
        return None, []
    return json.loads(msg.decode()), list(fds)


def load_linux(path: str) -> Any:
    """platform/child.py of the manager's install: the Linux calls, kept in the platform layer."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_autogpt_dev_linux", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LINUX: Any = None  # set by main()


def task_count() -> int:
    return int(LINUX.task_count())


def python_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t is not threading.main_thread()]


def threads_problem(after: str) -> str | None:
    """None if only this thread is alive (after a settle fork for native pools), else why."""
    names = python_threads()
    if names:
        return "threads alive in the template after importing {}: {}".format(
            after, ", ".join(names)
        )
    if task_count() > 1:
        pid = os.fork()  # fork handlers (pthread_atfork) stop native pools such as OpenBLAS'
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        if task_count() > 1:
            extra = task_count() - 1
            return f"{extra} native threads alive in the template after importing {after}"
    return None


def preload(names: list[str]) -> tuple[list[str] | None, str | None]:
    """Import each module; the first to start a thread is named. ImportError: skipped (the
    service meets the same error cold); anything else: the template cannot be used."""
    skipped: list[str] = []
    culprit = None
    for name in names:
        before = task_count()
        try:
            importlib.import_module(name)
        except ImportError:
            skipped.append(name)
            continue
        except BaseException as e:  # the report names it, the manager goes cold
            return None, f"importing {name}: {type(e).__name__}: {e}"
        if culprit is None and task_count() > before:
            culprit = name
    return skipped, culprit


def wait_for_parent(manager: int) -> None:
    deadline = time.monotonic() + 5
    while os.getppid() != manager:
        if time.monotonic() > deadline:
            os._exit(70)  # never reparented to the manager: it is gone
        time.sleep(0.0002)


def become_service(sock: socket.socket, req: Any, fds: list[int]) -> object:
    """In B: the process a cold `python ...` would have been. Returns the exit code."""
    os.close(sock.detach())  # the template's socket is not the service's (detach: no later close)
    # A stop may come at any moment from now on: it waits (blocked) until the program can act
    # on it, as it would in a process that has just been exec'd.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    manager = req["manager"]
    wait_for_parent(manager)
    LINUX.set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != manager:  # the manager died before that took effect
        os._exit(70)
    os.setsid()
    # Every fd received moves above the ones it is going to: stdio, then the held sockets at
    # 3, 4, ... (systemd's protocol); the go-ahead pipes stay up there.
    received, fds = fds, [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in fds]
    for fd in received:
        os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    held = 4 if req.get("hold") else 2
    go, ready = (fds[2], fds[3]) if req.get("hold") else (-1, -1)
    for i, fd in enumerate(fds[held : held + req.get("listen", 0)]):
        os.dup2(fd, 3 + i)  # (inheritable, as systemd hands them)
    for fd in set(fds) - {go, ready}:
        os.close(fd)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    if req.get("listen"):
        os.environ["LISTEN_PID"] = str(os.getpid())
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh interpreter has it
    reseed()
    import runpy

    args = req["args"]
    sys.argv = [req["target"], *args]  # for -m, runpy sets [0] to the module's file
    script = ""
    if req["mode"] == "module":
        sys.path[0] = os.getcwd()  # as `python -m` does
    else:
        script = os.path.abspath(req["target"])
        sys.path[0] = os.path.dirname(os.path.realpath(script))  # as `python script.py`
    if go >= 0:
        hold(go, ready, req.get("prepare"))
    if not req.get("blocked"):  # (an AppProcess's bootstrap unblocks them itself)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    main = fresh_main()  # never this file's globals: the program's own, as a new interpreter's
    try:
        if req["mode"] == "module":  # exactly what `python -m` runs, frames included
            runpy._run_module_as_main(req["target"], alter_argv=True)  # type: ignore[attr-defined]
        else:
            main.__file__ = script
            with open(script, "rb") as f:
                code = compile(f.read(), script, "exec")
            exec(code, main.__dict__)
    except SystemExit as e:
        return e.code
    except BaseException as e:  # what the interpreter does with an uncaught error
        e.__traceback__ = program_frames(e.__traceback__, req["mode"])  # (what gets printed)
        sys.excepthook(type(e), e, e.__traceback__)
        if isinstance(e, KeyboardInterrupt):  # as python does: die of the signal
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        return 1
    return 0


def fresh_main() -> Any:
    """An empty __main__ module, as the interpreter makes one before it runs the program."""
    import types

    main = types.ModuleType("__main__")
    main.__builtins__ = __builtins__  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    return main


def program_frames(tb: Any, mode: str) -> Any:
    """The traceback from the first frame a cold start would show: runpy's own entry for -m,
    the script itself otherwise. The template's frames (this file runs as <string>) go."""
    first = tb
    while tb is not None:
        code = tb.tb_frame.f_code
        if mode == "module" and code.co_name == "_run_module_as_main":
            return tb
        if mode != "module" and code.co_filename != "<string>" and code.co_name == "<module>":
            return tb
        tb = tb.tb_next
    return first


def reseed() -> None:
    """What a cold start seeds afresh and a fork would share. Python reseeds `random` itself
    (at fork); numpy's legacy global generator, seeded when the template imported it, is not."""
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        with contextlib.suppress(Exception):
            np_random.seed()


def hold(go: int, ready: int, prepare: Any) -> None:
    """A restart prepared while the old process stops: run ahead what the cold start would run
    first (prepare), say whether that went cleanly on `ready`, then wait for the word on `go`.
    EOF on `go`: the manager did not need this process after all. Output or an error while
    preparing means this process is not used (a plain fork does the start, as cold would)."""
    why = prepare_quietly(prepare) if prepare else None
    os.write(ready, b"1" if why is None else b"0" + why.encode()[:400])
    os.close(ready)
    if why is not None:
        os._exit(0)
    try:
        word = os.read(go, 1)
    except OSError:
        word = b""
    if not word:
        os._exit(0)
    os.close(go)


def prepare_quietly(prepare: Any) -> str | None:
    """Run `prepare` with the output held back; None if it ran cleanly and printed nothing."""
    sys.stdout.flush()
    sys.stderr.flush()
    held = os.memfd_create("autogpt-dev-prepare")
    saved = [os.dup(1), os.dup(2)]
    os.dup2(held, 1)
    os.dup2(held, 2)
    why = None
    try:
        run_ahead(prepare)
    except BaseException as e:  # an ImportError, a SyntaxError, a SystemExit at import...
        why = f"{type(e).__name__} while importing ahead"
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
    if why is None and os.fstat(held).st_size:
        why = "it printed while importing ahead"
    os.close(held)
    return why


def run_ahead(prepare: Any) -> None:
    """What a cold start does first, nothing more: import the launcher's target module, or run
    the entry's leading statements that only import and define (core/prelude.py)."""
    if prepare["kind"] == "import":
        importlib.import_module(prepare["module"])
        return
    import ast
    import builtins
    import zlib

    path = prepare["path"]
    with open(path, "rb") as f:
        source = f.read()
    if zlib.crc32(source) != prepare["crc"]:
        raise RuntimeError("the entry changed again")
    if prepare.get("package"):
        importlib.import_module(prepare["package"])  # as runpy imports the parent first
    tree = ast.parse(source, path)
    tree.body = tree.body[: prepare["statements"]]
    namespace = {"__name__": "__main__", "__file__": path, "__builtins__": builtins}
    namespace["__package__"] = prepare.get("package")
    exec(compile(tree, path, "exec"), namespace)


def fork_service(sock: socket.socket, req: Any, fds: list[int]) -> tuple[str, object] | None:
    """In the template: A and B, B's pid back to the manager. Returns B's exit code in B."""
    problem = threads_problem("the last request")
    if problem:
        send(sock, {"refused": problem})
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    try:
        a = os.fork()
    except OSError as e:  # EAGAIN, ENOMEM: this start is cold, the template stays
        for fd in [r, w, *fds]:
            os.close(fd)
        send(sock, {"refused": f"the fork failed ({e.strerror or e})"})
        return None
    if a == 0:  # A
        try:
            b = os.fork()
        except OSError:
            os._exit(0)  # nothing written: the template reports the fork failed
        if b == 0:  # B
            os.close(r)
            os.close(w)
            return ("service", become_service(sock, req, fds))
        os.write(w, str(b).encode())
        os._exit(0)
    os.close(w)
    os.waitpid(a, 0)
    data = b""
    while True:
        chunk = os.read(r, 64)
        if not chunk:
            break
        data += chunk
    os.close(r)
    for fd in fds:
        os.close(fd)
    send(sock, {"pid": int(data)} if data else {"refused": "the fork failed"})
    return None


def main() -> object:
    global LINUX
    sock = socket.socket(fileno=int(sys.argv[1]))
    manager = int(sys.argv[2])
    LINUX = load_linux(sys.argv[3])
    req, _ = recv(sock)
    if req is None:
        return 0
    started = time.monotonic()
    skipped, culprit = preload(["ctypes", "runpy", "ast", "zlib"] + req["preload"])  # B's own
    if skipped is None:
        send(sock, {"failed": culprit})
        return 1
    problem = threads_problem(culprit or "its modules")
    if problem:
        send(sock, {"refused": problem})
        return 1
    gc.collect()
    gc.freeze()  # the forks share these pages instead of copying them at the first collection
    site = sorted({p for p in sys.path if p.endswith(("site-packages", "dist-packages"))})
    send(
        sock,
        {
            "ready": True,
            "seconds": time.monotonic() - started,
            "modules": len(sys.modules),
            "skipped": skipped,
            "site": site,
        },
    )
    while True:
        req, fds = recv(sock)
        if req is None:
            return 0  # the manager closed the socket (or is gone)
        if req.get("manager") != manager:
            send(sock, {"refused": "bad request"})
            continue
        out = fork_service(sock, req, fds)
        if out is not None:
            return out[1]


if __name__ == "__main__":
    raise SystemExit(main())  # in B: the service's exit, with the interpreter's own finalization
