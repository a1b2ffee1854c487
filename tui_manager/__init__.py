"""autogpt-dev: a supervisord-style process manager with a Textual dashboard.

`AppProcess` and `run_processes` (the seed's API) are imported on first use, so `import
tui_manager` (and every CLI command) stays cheap.
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import AppProcess, listen_sockets, run_processes

__all__ = ["AppProcess", "__version__", "listen_sockets", "run_processes"]


def __getattr__(name: str) -> Any:
    if name in ("AppProcess", "listen_sockets", "run_processes"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
