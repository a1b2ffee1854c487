"""Benchmarks: autogpt-dev against the peers installed on this machine (see bench/README.md)."""
