"""A tiny stand-in service: logs a line a second at LOG_LEVEL; with a port, answers /health."""

from __future__ import annotations

import http.server
import logging
import os
import sys
import threading
import time

name = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "info").upper(), format=f"%(levelname)s {name}: %(message)s"
)
log = logging.getLogger(name)


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


if port:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"{name} started (pid {os.getpid()})", flush=True)
n = 0
while True:
    n += 1
    log.info("tick %d", n)
    if n % 10 == 0:
        log.warning("heartbeat %d", n)
    time.sleep(1)
