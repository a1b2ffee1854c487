"""The default stack: six small, real AutoGPT-style services that talk to each other over HTTP
and a websocket. `autogpt-dev up` runs them from autogpt-dev.toml; `python -m services` runs the
same stack through the seed's Python API (services/app.py)."""
