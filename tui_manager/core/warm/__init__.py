"""Warm restarts (dev mode) and how a Python service starts: everything that knows about Python
entry points beyond "exec this argv".

    plan.py       whether a command can start warm, and how (one parser of python's options)
    templates.py  a template per service: an interpreter that imported its third-party modules
    zygote.py     the program a template runs (stdlib only, in the service's own interpreter)
    pool.py       the pool: builds templates, forks restarts from them, prepares them ahead
    reaper.py     the manager as a child subreaper: forked services are reparented to it
    bootstrap.py  how an AppProcess runs in its own process (cold, or forked warm)

The pool reaches the engine only through `WarmHost` (pool.py), which the Supervisor implements.
Nothing here is imported by the engine unless dev mode asks for it (bootstrap aside).
"""
