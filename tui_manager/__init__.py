"""autogpt-dev: a supervisord-style process manager with a Textual dashboard."""

from ._version import __version__

__all__ = ["__version__"]
