"""A real redis-server on a free 127.0.0.1 port, in a temp dir, that tests can kill and restart."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.processes import free_port


def require_redis_server() -> str:
    """The redis-server executable, or skip the test with how to install it."""
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip("redis-server is not on PATH (scripts/install_test_deps.sh installs it)")
    return path


class RedisServer:
    """One redis-server process without persistence; `kill` and `start` keep the same port."""

    def __init__(self, executable: str, directory: str) -> None:
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", self.directory]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10.0
        while not self._pings():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.01)

    def kill(self) -> None:
        """SIGKILL, as a crashed or evicted pod would die; waits until the port is closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10.0)

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing answers (a hung Redis)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def _pings(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """Start redis-server (or skip the test), and stop it by PID at the end."""
    executable = require_redis_server()
    with tempfile.TemporaryDirectory(prefix="tiergate-redis-") as directory:
        server = RedisServer(executable, directory)
        server.start()
        try:
            yield server
        finally:
            if server.process is not None and server.process.poll() is None:
                server.resume()  # a stopped process ignores SIGTERM until continued
                server.process.terminate()
                try:
                    server.process.wait(timeout=10.0)
                except subprocess.TimeoutExpired:
                    server.kill()
