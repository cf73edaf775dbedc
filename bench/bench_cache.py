"""Cache-hit latency against the bare gateway path, over real sockets. Prints numbers.

Starts `tiergate serve` twice in subprocesses on the zero-latency in-process simulator: once with
caching off (the bare path: routing, pricing, metrics, upstream adapter) and once with caching on,
where every timed request is an exact hit. One client, sequential requests, medians.

Run: .venv/bin/python bench/bench_cache.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BODY = {
    "model": "auto",
    "temperature": 0,
    "messages": [{"role": "user", "content": "Name three uses of copper."}],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(cache_enabled: bool, *, latency_scale: str = "0") -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    config = Path(tempfile.mkdtemp()) / "bench.yaml"
    config.write_text(f"cache: {{enabled: {str(cache_enabled).lower()}}}\n", encoding="utf-8")
    env = {
        **os.environ,
        "TIERGATE_SIM_LATENCY_SCALE": latency_scale,
        "TIERGATE_SERVER_PORT": str(port),
    }
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/tiergate"),
            "serve",
            "--config",
            str(config),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the gateway did not start")


def _timed(url: str, requests: int) -> tuple[list[float], str]:
    timings: list[float] = []
    cache_state = ""
    with httpx.Client(base_url=url) as client:
        for _ in range(200):  # warm-up: connections, JIT-free caches, the cache entry itself
            client.post("/v1/chat/completions", json=BODY)
        for _ in range(requests):
            start = time.perf_counter()
            response = client.post("/v1/chat/completions", json=BODY)
            timings.append(time.perf_counter() - start)
            cache_state = response.headers["x-tiergate-cache"]
    return timings, cache_state


def _report(label: str, timings: list[float], cache_state: str) -> float:
    timings.sort()
    median = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99)] * 1000
    print(
        f"{label:<28} median {median:6.3f} ms  p99 {p99:6.3f} ms  (x-tiergate-cache: {cache_state})"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    medians = {}
    for label, enabled in (("bare path (cache off)", False), ("cache hit", True)):
        process, url = _serve(enabled)
        try:
            medians[label] = _report(label, *_timed(url, args.requests))
        finally:
            process.terminate()
            process.wait(timeout=10)
    added = medians["cache hit"] - medians["bare path (cache off)"]
    print(f"a hit adds {added:+.3f} ms at the median over the bare path (target: at most +1 ms)")
    sys.exit(0)


if __name__ == "__main__":
    main()
