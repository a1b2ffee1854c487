"""Modal screens: help, dependency view, log viewer, shutdown progress."""
