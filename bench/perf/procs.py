"""Servers under test: start pinned (taskset), wait until ready, read CPU and RSS, stop by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (uvicorn's worker processes, LiteLLM's helpers)."""
    tree = _children()
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(tree.get(pid, []))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes, in seconds."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
    return ticks / CLK_TCK


def rss_mib(pids: list[int]) -> float:
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


@dataclass
class Service:
    """One started server: its process (a new session, so its workers share its group)."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def pids(self) -> list[int]:
        return process_tree(self.proc.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pids())

    def rss_mib(self) -> float:
        return rss_mib(self.pids())

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace_s: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        pids = self.pids()
        _signal_group(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            print(f"  {self.name} ignored SIGTERM for {grace_s:.0f}s: SIGKILL", flush=True)
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        for pid in pids[1:]:  # workers that outlived their parent
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The group id is the PID of the process we started (start_new_session=True).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class ServiceGroup:
    """Everything this run started; `close()` stops each by its PID, newest first."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.services: list[Service] = []

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        cpus: str,
        ready_url: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout_s: float = 90.0,
    ) -> Service:
        log_path = self.run_dir / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                ["taskset", "-c", cpus, *argv],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        service = Service(name=name, proc=proc, log_path=log_path)
        self.services.append(service)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{service.log_tail()}")
            if _answers(ready_url):
                return service
            time.sleep(0.2)
        self.stop(service)
        raise RuntimeError(f"{name} not ready after {timeout_s:.0f}s:\n{service.log_tail()}")

    def stop(self, service: Service) -> None:
        service.stop()
        if service in self.services:
            self.services.remove(service)

    def close(self) -> None:
        for service in reversed(list(self.services)):
            self.stop(service)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
