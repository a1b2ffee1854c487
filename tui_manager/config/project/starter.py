"""The config `init` writes where it recognises nothing: one example service that runs, and the
keys a user reaches for first, commented."""

from __future__ import annotations

HELLO = "hello from autogpt-dev: put your own services in autogpt-dev.toml"

STARTER = f"""\
# Written by `autogpt-dev init`. It recognised nothing to import here (no compose file or
# Procfile, no run_processes(...) call, no Django, FastAPI, Flask or Celery app), so this is a
# starting point: `autogpt-dev up` runs the example below. Every key: docs/configuration.md.
#
# A stack, as you might write it:
#
# [services.db]                                    # one table per service, named as you like
# command = "postgres -D .data/pg -p 5432"         # split like a shell; or a list (no shell)
# ready = {{ tcp = "127.0.0.1:5432" }}               # up when: http, tcp, exec (exits 0) or log
#
# [services.api]
# command = "python -m uvicorn app.main:app --port 8000"
# depends_on = ["db"]                              # starts once db is ready, stops before it
# ready = {{ http = "http://127.0.0.1:8000/health" }}
# env = {{ DATABASE_URL = "postgresql://127.0.0.1:5432/app" }}   # .env beside this file too
#
# [services.worker]
# command = "python -m app.worker"
# depends_on = {{ db = "ready", api = "started" }}
# foreground = true                                # the stack lives as long as this one runs
#
# `autogpt-dev up --dev` restarts exactly the services whose Python code changed.

[services.hello]
command = ["python", "-c", "import time; print({HELLO!r}, flush=True); time.sleep(1e9)"]
ready = {{ log = "hello from autogpt-dev" }}
"""
