"""Textual's terminal driver with an input thread that sleeps until there is input.

Textual's LinuxDriver (macOS uses it too) polls its input every 0.1 s, which is most of an idle
dashboard's CPU, and on quit it joins that thread, which notices the exit only at its next
poll and then waits another 0.1 s for nothing: up to 0.2 s of every quit. This one blocks on
the terminal and a wake-up pipe, polls only while an escape sequence is half-read (the parser
then has a deadline to give a lone ESC its meaning), and is woken at once to stop.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import termios
from codecs import getincrementaldecoder
from typing import Any

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

try:  # (Textual's own parser and clock: private modules, so the stock driver where they moved)
    from textual._time import get_time
    from textual._xterm_parser import XTermParser

    OWN_LOOP = True
except ImportError:  # pragma: no cover
    OWN_LOOP = False


def _until(parser: Any) -> float | None:
    """Seconds to wait for input: until the parser's deadline, forever without one (0.1 s,
    as Textual, where the parser does not say)."""
    deadline = getattr(parser, "_timeout_time", False)
    if deadline is False:
        return 0.1
    return None if deadline is None else max(0.0, deadline - get_time())


class WakeableDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_r, self._wake_w = os.pipe()

    def run_input_thread(self) -> None:
        if not OWN_LOOP:  # pragma: no cover
            super().run_input_thread()
            return
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        with selectors.DefaultSelector() as selector:
            selector.register(self.fileno, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self.exit_event.is_set():
                for key, _ in selector.select(_until(parser)):
                    if key.fd == self.fileno:
                        text = decode(os.read(self.fileno, 4096))
                        for event in parser.feed(text) if text else ():
                            self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        for _ in parser.feed(""):  # (the end: whatever was half-read is dropped, as Textual)
            pass

    def close(self) -> None:
        super().close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def disable_input(self) -> None:
        """As Textual's, but the input thread is woken instead of waited for."""
        try:
            if self.exit_event.is_set():
                return
            signal.signal(signal.SIGWINCH, signal.SIG_DFL)
            self._disable_mouse_support()
            self.exit_event.set()
            os.write(self._wake_w, b"x")
            if self._key_thread is not None:
                self._key_thread.join()
            os.read(self._wake_r, 64)
            self.exit_event.clear()
            with contextlib.suppress(termios.error):
                termios.tcflush(self.fileno, termios.TCIFLUSH)
        except Exception:  # (as Textual: the terminal may be gone already)
            pass


def for_terminal(stock: type[Driver]) -> type[Driver]:
    """Ours where Textual would use its LinuxDriver (Linux, macOS); Windows or TEXTUAL_DRIVER:
    as Textual chose."""
    return WakeableDriver if stock is LinuxDriver else stock
