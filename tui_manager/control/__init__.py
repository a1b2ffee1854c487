"""The control socket: a unix socket with newline-delimited JSON, and its CLI client."""
