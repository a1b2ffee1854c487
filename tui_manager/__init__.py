"""autogpt-dev: a supervisord-style process manager with a Textual dashboard."""

from ._version import __version__
from .api import AppProcess, run_processes

__all__ = ["AppProcess", "__version__", "run_processes"]
