"""Warm = cold: a warm restart behaves as the cold start of the same command would. One test per
rule, each with its cold control in the same test: the same command run by python itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PY, wait_until_sync
from tests.integration.test_cli import Up, cli

pytestmark = pytest.mark.linux_only  # warm restarts need Linux


class WarmProject:
    """A project (proj/) and a third-party site dir outside it (site/, on PYTHONPATH as a
    venv's site-packages is), run by `up --headless --dev`."""

    def __init__(
        self,
        tmp: Path,
        files: dict[str, str],
        site: dict[str, str],
        extra: dict[str, str] | None = None,  # more environment for every service
        **svcs: str,
    ):
        self.root, self.site = tmp / "proj", tmp / "site"
        for base, tree in ((self.root, files), (self.site, site)):
            for rel, text in tree.items():
                (base / rel).parent.mkdir(parents=True, exist_ok=True)
                (base / rel).write_text(textwrap.dedent(text))
        self.env = {"PYTHONPATH": str(self.site), **(extra or {})}
        env = ", ".join(f'{k} = "{v}"' for k, v in self.env.items())
        config = f'[services.keeper]\ncommand = ["{PY}", "-c", "import time; time.sleep(300)"]\n'
        config += "foreground = true\n"  # the stack lives on while one-shot services come and go
        for name, module in svcs.items():
            config += f'[services.{name}]\ncommand = "{PY} -m {module}"\nrestart = "no"\n'
            config += f"env = {{ {env} }}\nstop_timeout = 1\n"
        (self.root / "autogpt-dev.toml").write_text(config)
        self.up = Up(self.root, "--dev")

    def __enter__(self) -> WarmProject:
        wait_until_sync(lambda: "watching" in self.up.output(), 20, "the watcher armed")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.up.proc.poll() is None:
            self.up.proc.send_signal(signal.SIGTERM)
            assert self.up.finish() == 0

    def cold(self, module: str) -> str:
        """The control: python itself runs the command, in the same place and environment."""
        env = {**os.environ, **self.env}
        out = subprocess.run(
            [PY, "-m", module], cwd=self.root, env=env, capture_output=True, text=True, timeout=30
        )
        return out.stdout + out.stderr

    def status(self, name: str) -> dict[str, Any]:
        answer = json.loads(cli("status", "--json", cwd=self.root).stdout)
        return next(s for s in answer["services"] if s["name"] == name)

    def template_ready(self, name: str) -> None:
        wait_until_sync(
            lambda: (self.status(name)["warm"] or {}).get("state") == "ready",
            30,
            f"{name}'s template ready:\n{self.up.output()}",
        )

    def log(self, name: str) -> bytes:
        path = self.root / ".autogpt-dev" / "logs" / f"{name}.log"
        return path.read_bytes() if path.exists() else b""

    def events(self, kind: str, name: str) -> list[dict[str, Any]]:
        path = self.root / ".autogpt-dev" / "logs" / "events.jsonl"
        rows = [json.loads(x) for x in path.read_text().splitlines()]
        return [e for e in rows if e["event"] == kind and e["service"] == name]

    def restart_by_edit(
        self, name: str, rel: str, text: str, one_shot: bool = True
    ) -> tuple[dict[str, Any], str]:
        """Edit a file and wait for the restart (and, for a one-shot program, its exit):
        (the reload event, what that start printed)."""
        before, logged = len(self.events("reload", name)), len(self.log(name))
        (self.root / rel).write_text(textwrap.dedent(text))
        wait_until_sync(lambda: len(self.events("reload", name)) > before, 20, "the reload")
        if one_shot:
            spawned = self.events("spawn", name)[-1]["pid"]
            wait_until_sync(
                lambda: any(e["pid"] == spawned for e in self.events("exit", name)), 20, "its exit"
            )
        return self.events("reload", name)[-1], self.log(name)[logged:].decode()


ONE_SHOT = """
    import os
    os.environ["PROJ_MODE"] = "x"
    from app import settings
    import extlib
    print("mode", settings.MODE, "ext", extlib.MODE, "v", {v}, flush=True)
"""


def test_what_the_entry_does_before_its_imports_happens_first(tmp_path):
    # The Django settings pattern: the entry sets the environment, then imports what reads it
    # (project code, and a third-party module that reads it at import).
    files = {
        "app/__init__.py": "",
        "app/settings.py": "import os\nMODE = os.environ.get('PROJ_MODE', 'unset')\n",
        "app/solo.py": ONE_SHOT.format(v=1),
    }
    site = {"extlib/__init__.py": "import os\nMODE = os.environ.get('PROJ_MODE', 'unset')\n"}
    with WarmProject(tmp_path, files, site, solo="app.solo") as p:
        p.up.wait_ready("solo")
        assert p.cold("app.solo") == "mode x ext x v 1\n"  # the control
        p.template_ready("solo")
        reload, out = p.restart_by_edit("solo", "app/solo.py", ONE_SHOT.format(v=2))
        assert reload["kind"] == "warm"
        assert out == "mode x ext x v 2\n"


def test_a_module_that_fails_to_import_shows_the_cold_traceback_once(tmp_path):
    broken = """
        print("importing broken", flush=True)
        CONFIG = {}
        VALUE = CONFIG["missing_setting"]
    """
    files = {
        "app/__init__.py": "",
        "app/broken.py": "print('importing broken', flush=True)\nVALUE = 1\n",
        "app/solo.py": "from app import broken\nprint('value', broken.VALUE, flush=True)\n",
    }
    with WarmProject(tmp_path, files, {}, solo="app.solo") as p:
        p.up.wait_ready("solo")
        p.template_ready("solo")
        reload, out = p.restart_by_edit("solo", "app/broken.py", broken)
        assert reload["kind"] == "warm"
        cold = p.cold("app.solo")  # the control, with the same broken file
        assert "KeyError: 'missing_setting'" in cold and out.count("importing broken") == 1
        assert out == cold  # the same lines, the same frames: nothing of ours in between
        assert "zygote" not in out and "<string>" not in out and "tui_manager" not in out
        assert p.status("solo")["warm"]["ahead"] == "KeyError while importing ahead"


def test_output_printed_while_importing_comes_once_and_in_order(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/chatty.py": "print('chatty imported', flush=True)\nX = 1\n",
        "app/solo.py": "from app import chatty\nprint('main ran', chatty.X, flush=True)\n",
    }
    with WarmProject(tmp_path, files, {}, solo="app.solo") as p:
        p.up.wait_ready("solo")
        p.template_ready("solo")
        reload, out = p.restart_by_edit(
            "solo", "app/chatty.py", "print('chatty imported', flush=True)\nX = 2\n"
        )
        assert reload["kind"] == "warm"
        assert out == p.cold("app.solo") == "chatty imported\nmain ran 2\n"


GEVENT = """
    def patch_all():
        import socket
        socket.PATCHED = True
"""


def test_a_program_that_monkey_patches_at_start_restarts_cold_saying_why(tmp_path):
    patched = "from gevent import monkey\nmonkey.patch_all()\nimport time\ntime.sleep(300)\n"
    plain = "import json, time\nprint('plain', flush=True)\ntime.sleep(300)\n"
    files = {"app/__init__.py": "", "app/patched.py": patched, "app/plain.py": plain}
    site = {"gevent/__init__.py": "", "gevent/monkey.py": GEVENT}
    with WarmProject(tmp_path, files, site, patched="app.patched", plain="app.plain") as p:
        p.template_ready("plain")  # the control: the same stack restarts `plain` warm
        reload, _ = p.restart_by_edit("plain", "app/plain.py", plain + "X = 1\n", False)
        assert reload["kind"] == "warm"
        reload, _ = p.restart_by_edit("patched", "app/patched.py", patched + "X = 1\n", False)
        assert (reload["kind"], reload["why"]) == ("cold", "it monkey-patches at start (gevent)")
        assert p.status("patched")["warm"]["state"] == "none"  # no template was ever built


def test_forks_do_not_share_what_a_cold_start_seeds_afresh(tmp_path):
    numpy = pytest.importorskip("numpy")
    del numpy
    draw = (
        "import random, numpy.random\nprint(random.random(), numpy.random.randint(1 << 30), {v})\n"
    )
    files = {"app/__init__.py": "", "app/solo.py": draw.format(v=0)}
    with WarmProject(tmp_path, files, {}, solo="app.solo") as p:
        p.up.wait_ready("solo")
        cold = {p.cold("app.solo").split()[1] for _ in range(2)}
        assert len(cold) == 2  # the control: two cold starts draw differently
        p.template_ready("solo")
        draws = []
        for v in (1, 2):
            reload, out = p.restart_by_edit("solo", "app/solo.py", draw.format(v=v))
            assert reload["kind"] == "warm"
            draws.append(out.split()[:2])
        assert draws[0][0] != draws[1][0] and draws[0][1] != draws[1][1], draws


SLOW_STOP = """
    import os, signal, time
    with open(os.environ["RAN_FILE"], "a") as f:
        f.write(f"{{os.getpid()}}\\n")  # the entry point ran
    signal.signal(signal.SIGTERM, lambda *a: None)  # stops take stop_timeout (1 s)
    print("slow up", {v}, flush=True)
    while True:
        time.sleep(1)
"""


def test_a_superseded_prepared_process_exits_without_running_the_entry(tmp_path):
    ran = tmp_path / "ran.txt"
    files = {"app/__init__.py": "", "app/slow.py": SLOW_STOP.format(v=0)}
    with WarmProject(tmp_path, files, {}, {"RAN_FILE": str(ran)}, slow="app.slow") as p:
        p.template_ready("slow")
        forks = p.status("slow")["warm"]["forks"]
        (p.root / "app/slow.py").write_text(textwrap.dedent(SLOW_STOP.format(v=1)))
        # While the old process takes its second to stop, a newer edit supersedes the restart
        # and the process prepared for it.
        wait_until_sync(lambda: "stopping slow (reload)" in p.up.output(), 10)
        (p.root / "app/slow.py").write_text(textwrap.dedent(SLOW_STOP.format(v=2)))
        wait_until_sync(lambda: "slow up 2" in p.up.output(), 20, "the newest code running")
        assert p.status("slow")["warm"]["forks"] >= forks + 2  # both prepared ahead
        spawned = {e["pid"] for e in p.events("spawn", "slow")}
        ran_pids = [int(x) for x in ran.read_text().split()]
        assert len(ran_pids) == 2 and set(ran_pids) <= spawned  # no other process ran it
        assert "slow up 1" not in p.up.output()


FORK_FAILS = """
    import errno, os, sys
    FLAG = os.environ.get("FORK_FAIL_FLAG", "")
    def hook(event, args):
        if event == "os.fork" and FLAG and os.path.exists(FLAG):
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
    sys.addaudithook(hook)
"""


def test_a_fork_that_fails_in_the_template_gives_a_cold_start(tmp_path):
    flag = tmp_path / "no-more-forks"
    svc = "import time\nprint('svc up', {v}, flush=True)\ntime.sleep(300)\n"
    files = {"app/__init__.py": "", "app/svc.py": svc.format(v=0)}
    site = {"sitecustomize.py": FORK_FAILS}  # loaded by every python of the service: the template
    with WarmProject(tmp_path, files, site, {"FORK_FAIL_FLAG": str(flag)}, svc="app.svc") as p:
        p.template_ready("svc")
        reload, _ = p.restart_by_edit("svc", "app/svc.py", svc.format(v=1), False)
        assert reload["kind"] == "warm"  # the control: forks work
        flag.touch()  # from now on every fork in the template fails with EAGAIN
        reload, _ = p.restart_by_edit("svc", "app/svc.py", svc.format(v=2), False)
        assert reload["kind"] == "cold" and "the fork failed" in reload["why"], reload
        wait_until_sync(lambda: "svc up 2" in p.up.output(), 10, "the new code running")


def test_the_fork_check_sees_forks_and_whose_they_are():
    # The control of conftest's `the_manager_never_forks`: a fork is seen, and named ours
    # only when it comes from tui_manager/.
    from tests.conftest import FORKS, TUI_DIR, fork_culprit

    before = len(FORKS)
    with warnings.catch_warnings():  # (3.12+ warns about forking a threaded pytest)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    assert FORKS[before:] == [("os.fork", None)]
    ns: dict[str, Any] = {}
    exec(compile("import sys\nframe = sys._getframe()", TUI_DIR + "fake.py", "exec"), ns)
    assert fork_culprit(ns["frame"]) == TUI_DIR + "fake.py"
