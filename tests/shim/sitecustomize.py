"""The strict portable shim, for CI's second run of the suite (`.ci/run`): on PYTHONPATH, so every
Python of the session loads it, the manager and each child alike. With AUTOGPT_DEV_PORTABLE=1 it
takes Linux's extras away from our code, as a Mac would:

- `os.pidfd_open` and fcntl's pipe-size constants are deleted;
- an audit hook records every /proc open or listing, every `prctl` lookup and every `setpriv`
  run made from our own frames (tui_manager/, services/): the first frame outside the standard
  library that led to it. psutil's own reads of /proc stay allowed: on a Mac psutil reads the
  process table its own way.

A breach is appended to $AUTOGPT_DEV_SHIM_LOG and raised; tests/conftest.py fails the test that
caused it, whatever our code did with the exception.
"""

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_OURS = tuple(os.path.join(_ROOT, d) + os.sep for d in ("tui_manager", "services"))
# Where os.py lives is the standard library (in a venv, sysconfig's platstdlib is the venv's
# lib/pythonX.Y, which holds site-packages too).
_STDLIB = (os.path.dirname(os.__file__) + os.sep,)
_SELF = os.path.abspath(__file__)


def _culprit():
    """Our file that caused the event, or None (psutil's, the stdlib's, a test's...)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name != _SELF and not name.startswith(_STDLIB) and not name.startswith("<frozen"):
            return f"{name}:{frame.f_lineno}" if name.startswith(_OURS) else None
        frame = frame.f_back
    return None


def _breach(what):
    where = _culprit()
    if where is None:
        return
    line = f"{what} from {where} (pid {os.getpid()})"
    log = os.environ.get("AUTOGPT_DEV_SHIM_LOG")
    if log:
        with open(log, "a") as f:
            f.write(line + "\n")
    raise RuntimeError(f"portable shim: {line}")


def _is_proc(path):
    if isinstance(path, bytes):
        path = path.decode(errors="replace")
    return isinstance(path, str) and (path == "/proc" or path.startswith("/proc/"))


def _hook(event, args):
    if event == "open" and args and _is_proc(args[0]):
        _breach(f"open({args[0]!r})")
    elif event in ("os.listdir", "os.scandir") and args and _is_proc(args[0]):
        _breach(f"{event}({args[0]!r})")
    elif event == "ctypes.dlsym" and len(args) > 1 and args[1] == "prctl":
        _breach("a prctl lookup")
    elif event in ("subprocess.Popen", "os.posix_spawn", "os.exec") and len(args) > 1:
        argv = args[1] if isinstance(args[1], (list, tuple)) else [args[0]]
        if any(os.path.basename(str(a)) == "setpriv" for a in argv[:1]):
            _breach(f"running {argv[0]}")


if os.environ.get("AUTOGPT_DEV_PORTABLE") == "1":
    for _name in ("pidfd_open",):
        if hasattr(os, _name):
            delattr(os, _name)
    import fcntl

    for _name in ("F_SETPIPE_SZ", "F_GETPIPE_SZ"):
        if hasattr(fcntl, _name):
            delattr(fcntl, _name)
    sys.addaudithook(_hook)
