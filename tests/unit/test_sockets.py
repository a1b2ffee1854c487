"""Known servers' command lines: where they listen, and how they are told to use fds 3.."""

from __future__ import annotations

import socket

import pytest

from services.settings import free_port
from tui_manager.config.spec import listen_address
from tui_manager.core.sockets import bind, server_line, with_sockets

PY = "/venv/bin/python"


@pytest.mark.parametrize(
    ("argv", "addresses", "rewritten"),
    [
        (
            ["uvicorn", "app.main:app", "--port", "8006", "--reload-dir", "x"],
            ["127.0.0.1:8006"],
            ["uvicorn", "app.main:app", "--reload-dir", "x", "--fd", "3"],
        ),
        (
            [PY, "-m", "uvicorn", "app:app", "--host=0.0.0.0", "--port=9000"],
            ["0.0.0.0:9000"],
            [PY, "-m", "uvicorn", "app:app", "--fd", "3"],
        ),
        (
            [PY, "-X", "dev", "-m", "uvicorn", "app:app", "--host", "::1"],
            ["[::1]:8000"],
            [PY, "-X", "dev", "-m", "uvicorn", "app:app", "--fd", "3"],
        ),
        (
            ["gunicorn", "-b", "127.0.0.1:8001", "-w", "2", "app:app"],
            ["127.0.0.1:8001"],
            ["gunicorn", "-b", "127.0.0.1:8001", "-w", "2", "app:app"],  # reads LISTEN_FDS
        ),
        (["gunicorn", "app:app"], ["127.0.0.1:8000"], ["gunicorn", "app:app"]),
        (
            ["hypercorn", "-b", "0.0.0.0:7000", "--bind=127.0.0.1:7001", "app:app"],
            ["0.0.0.0:7000", "127.0.0.1:7001"],
            ["hypercorn", "app:app", "--bind", "fd://3", "--bind", "fd://4"],
        ),
    ],
)
def test_known_servers_and_their_fd_flags(argv, addresses, rewritten):
    line = server_line(argv)
    assert line is not None and line.addresses == addresses
    assert with_sockets(argv, len(addresses)) == rewritten


@pytest.mark.parametrize(
    "argv",
    [
        ["uvicorn", "app:app", "--uds", "/tmp/app.sock"],
        ["uvicorn", "app:app", "--fd", "3"],
        ["gunicorn", "-b", "unix:/tmp/g.sock", "app:app"],
        [PY, "-m", "http.server", "8000"],
        [PY, "app.py", "--port", "8000"],
        ["node", "server.js"],
    ],
)
def test_other_command_lines_hold_nothing(argv):
    assert server_line(argv) is None
    assert with_sockets(argv, 1) == argv


def test_listen_addresses():
    assert listen_address("8006") == ("127.0.0.1", 8006)
    assert listen_address("0.0.0.0:80") == ("0.0.0.0", 80)
    assert listen_address("[::1]:8006") == ("::1", 8006)
    for bad in ("x", "host:", ":80", "h:0", "h:70000", "h:p"):
        with pytest.raises(ValueError):
            listen_address(bad)


def test_a_held_socket_lets_accepted_connections_skip_nagle():
    # uvicorn takes fd 3 for a unix socket and never sets TCP_NODELAY on what it accepts:
    # accepted connections inherit it from the listener, so the manager sets it there.
    port = free_port()
    sock = bind(f"127.0.0.1:{port}")
    try:
        with socket.create_connection(("127.0.0.1", port)):
            conn, _ = sock.accept()
            with conn:
                assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()
