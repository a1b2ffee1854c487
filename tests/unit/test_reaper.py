"""The subreaper reaps orphans reparented to the manager, and never a child someone else waits
for. In a subprocess: becoming a subreaper is for the life of the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.linux_only  # warm restarts and the subreaper need Linux

PROGRAM = textwrap.dedent("""
    import os, subprocess, time
    from tui_manager.platform.procfs import process_state
    from tui_manager.core.warm.reaper import OrphanReaper
    from tui_manager.platform import become_subreaper

    def wait_zombie(pid):
        end = time.monotonic() + 10
        while process_state(pid) != "Z":
            assert time.monotonic() < end, f"{pid} never exited"
            time.sleep(0.01)

    assert become_subreaper()
    hold_r, hold_w = os.pipe()
    tell_r, tell_w = os.pipe()
    child = os.fork()
    if child == 0:  # double fork: the grandchild outlives its parent
        grandchild = os.fork()
        if grandchild == 0:
            os.close(hold_w)
            os.read(hold_r, 1)  # until the test lets go
            os._exit(0)
        os.write(tell_w, str(grandchild).encode())
        os._exit(0)
    os.waitpid(child, 0)
    orphan = int(os.read(tell_r, 32))
    owned = subprocess.Popen(["true"])
    os.close(hold_w)  # the orphan exits and is our zombie now
    wait_zombie(orphan)
    wait_zombie(owned.pid)
    reaper = OrphanReaper(lambda: {owned.pid})
    reaper.sweep()
    assert process_state(orphan) == "Z"  # one period of grace: an owner may be about to wait
    reaper.sweep()
    assert reaper.reaped == 1 and process_state(orphan) is None, process_state(orphan)
    assert owned.wait(5) == 0  # the owned child's status was left for its owner
    print("ok")
""")


def test_orphans_are_reaped_after_a_period_and_owned_children_never():
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr
