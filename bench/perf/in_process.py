"""The gateway's own work per chat request, in process: no server, no network, no load generator.

The app as `tiergate serve` builds it (same settings, routing, admission, spend ledger, metrics,
request record) is driven through its ASGI interface, with the upstream HTTP client's transport
replaced by one that answers every call with the same recorded completion. What is left is
tiergate's per-request code: the number to watch when changing the hot path, steadier than
requests/s on a shared machine. It prints CPU microseconds per request (the fastest round).

    .venv/bin/python -m bench.perf.in_process --requests 4000 --rounds 5

`--instructions` counts machine instructions per request instead, under valgrind's callgrind
with collection switched on only around the measured requests: deterministic to ~0.1%, so a
change of 1% shows in one run (it needs valgrind, ~1 minute; it is ~50x slower than native).

`--full-collection` freezes the start-up heap as a served process does (infra/heap.py), serves
`--requests` requests, and reports what a full garbage collection then walks and how long it
takes: the objects requests leave behind (remembered request ids, memos, caches) set the
length of the pauses in the latency tail.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvloop
from dependency_injector import providers

from adapters.aiohttp_transport import whole_response
from adapters.httpx_upstream import UpstreamHttpClient
from app.chat_route import ChatRoute
from app.container import Container
from app.factory import create_app
from infra.config_loader import load_settings
from infra.heap import freeze_startup_heap
from infra.settings import Settings

BODY = (
    b'{"model":"auto","messages":[{"role":"system","content":"You are a concise assistant for a '
    b'customer-support team."},{"role":"user","content":"A customer says their invoice shows two '
    b"charges for the same order. Draft a short, friendly reply that explains what we will check "
    b'next."}]}'
)
COMPLETION = (
    b'{"id":"chatcmpl-bench","object":"chat.completion","created":1796292343,"model":"m",'
    b'"choices":[{"index":0,"message":{"role":"assistant","content":"We will check the order, '
    b'the payment provider and the refund queue, and write back within a day."},'
    b'"finish_reason":"stop"}],"usage":{"prompt_tokens":56,"completion_tokens":19,'
    b'"total_tokens":75}}'
)
STREAM_CHUNKS = 20


def _sse(payloads: list[bytes]) -> bytes:
    return b"".join(b"data: " + payload + b"\n\n" for payload in [*payloads, b"[DONE]"])


def _chunk(delta: bytes, finish: bytes = b"null", usage: bytes = b"null") -> bytes:
    return b"".join([
        b'{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1796292343,',
        b'"model":"m","choices":[{"index":0,"delta":', delta, b',"finish_reason":', finish,
        b'}],"usage":', usage, b"}",
    ])  # fmt: skip


# A zero-latency upstream's stream, as one read: a role chunk, the content chunks, the finish
# and the usage chunk, [DONE].
STREAMED = _sse(
    [
        _chunk(b'{"role":"assistant","content":""}'),
        *(_chunk(b'{"content":" word%d"}' % n) for n in range(STREAM_CHUNKS)),
        _chunk(b"{}", finish=b'"stop"'),
        _chunk(b"{}", usage=b'{"prompt_tokens":56,"completion_tokens":40,"total_tokens":96}'),
    ]
)
_ENVIRONMENT = {
    "TIERGATE_UPSTREAM_MODE": "http",
    "TIERGATE_UPSTREAM_BASE_URL": "http://upstream.invalid/v1",  # never dialled
    "TIERGATE_UPSTREAM_API_KEY": "bench",
    "OTEL_TRACES_EXPORTER": "none",
}
_READY, _DONE = "in_process: measuring", "in_process: measured"


class _RecordedUpstream:
    """Stands in for the aiohttp transport (its responses built the same way): every call gets
    the same completion or stream."""

    def __init__(self, *, streamed: bool) -> None:
        if streamed:
            self._content_type, self._body = b"text/event-stream", STREAMED
        else:
            self._content_type, self._body = b"application/json", COMPLETION

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = [(b"content-type", self._content_type)]
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(self._body))

    async def read_whole(self, request: httpx.Request) -> httpx.Response:
        return whole_response(200, ((b"content-type", self._content_type),), self._body)

    async def aclose(self) -> None:
        return None


async def _recorded_clients(
    settings: Settings, streamed: bool
) -> AsyncIterator[dict[str, UpstreamHttpClient]]:
    upstream = settings.upstreams[0]
    client = UpstreamHttpClient(
        transport=_RecordedUpstream(streamed=streamed),  # type: ignore[arg-type]
        base_url=upstream.base_url.rstrip("/") + "/",
    )
    yield {upstream.name: client}


class _Driver:
    def __init__(self, app: ChatRoute, body: bytes) -> None:
        self._app = app
        self._body = body
        self._scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/v1/chat/completions", "root_path": "", "query_string": b"",
            "raw_path": b"/v1/chat/completions", "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8080), "state": {},
            "headers": [
                (b"host", b"127.0.0.1:8080"), (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }  # fmt: skip
        self.statuses: dict[int, int] = {}
        self.body_bytes = 0

    async def request(self) -> None:
        message = {"type": "http.request", "body": self._body, "more_body": False}
        received = False

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:  # the client stays connected: a stream's hang-up watch waits here
                await asyncio.Future()
            received = True
            return message

        async def send(event: dict[str, Any]) -> None:
            if event["type"] == "http.response.start":
                self.statuses[event["status"]] = self.statuses.get(event["status"], 0) + 1
            else:
                self.body_bytes += len(event.get("body", b""))

        await self._app(dict(self._scope), receive, send)  # type: ignore[arg-type]

    async def run(self, requests: int, concurrency: int) -> None:
        async def client(count: int) -> None:
            for _ in range(count):
                await self.request()

        await asyncio.gather(*(client(requests // concurrency) for _ in range(concurrency)))


async def _lifespan(app: ChatRoute) -> tuple[asyncio.Queue[dict[str, str]], asyncio.Task[None]]:
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")
    return inbox, task


async def _measure(args: argparse.Namespace, body: bytes) -> None:
    os.environ.update(_ENVIRONMENT)
    settings = load_settings()
    container = Container(settings=settings)
    streamed = args.stream
    container.http_clients.override(providers.Resource(_recorded_clients, settings, streamed))
    app = create_app(container)
    inbox, lifespan = await _lifespan(app)
    driver = _Driver(app, _streaming(body) if streamed else body)
    await driver.run(400, args.concurrency)  # warm-up: lazily built state, caches, allocator
    if args.signal_file:
        await _between_signals(driver, args)
    elif args.full_collection:
        await _full_collection(driver, args)
    else:
        print(f"CPU per request: {await _fastest_round(driver, args):.1f} us")
    await inbox.put({"type": "lifespan.shutdown"})
    await lifespan
    if set(driver.statuses) != {200}:
        sys.exit(f"not every request succeeded: {driver.statuses}")
    answered = sum(driver.statuses.values())
    print(f"answers: {answered}, {driver.body_bytes / answered:.0f} body bytes each")


def _streaming(body: bytes) -> bytes:
    request = json.loads(body)
    request["stream"] = True
    return json.dumps(request).encode()


async def _fastest_round(driver: _Driver, args: argparse.Namespace) -> float:
    rounds: list[float] = []
    for _ in range(args.rounds):
        started = time.process_time()
        await driver.run(args.requests, args.concurrency)
        rounds.append((time.process_time() - started) / args.requests * 1e6)
    print("rounds (us per request):", " ".join(f"{r:.1f}" for r in rounds))
    return min(rounds)


async def _full_collection(driver: _Driver, args: argparse.Namespace) -> None:
    freeze_startup_heap()
    await driver.run(args.requests, args.concurrency)
    gc.collect()
    tracked = len(gc.get_objects())  # the frozen start-up heap is not in it
    pauses: list[float] = []
    for _ in range(5):
        started = time.perf_counter()
        gc.collect()
        pauses.append((time.perf_counter() - started) * 1e3)
    print(f"after {args.requests:,} requests: {tracked:,} objects tracked outside the frozen heap")
    print(f"full collection: {statistics.median(pauses):.2f} ms (median of 5)")


async def _between_signals(driver: _Driver, args: argparse.Namespace) -> None:
    """For `--instructions`: the parent switches collection on and off around the run."""
    signal = Path(args.signal_file)
    print(_READY, file=sys.stderr, flush=True)
    await asyncio.to_thread(_wait_until, signal, exists=True)
    await driver.run(args.requests, args.concurrency)
    print(_DONE, file=sys.stderr, flush=True)
    await asyncio.to_thread(_wait_until, signal, exists=False)


def _wait_until(signal: Path, *, exists: bool) -> None:
    # Polled, not blocked on: callgrind takes its on/off commands only while code runs.
    while signal.exists() != exists:
        time.sleep(0.1)


def _count_instructions(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        signal, log, out = (Path(scratch, name) for name in ("go", "stderr", "callgrind.out"))
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
            sys.executable, "-m", "bench.perf.in_process", "--requests", str(args.requests),
            "--concurrency", str(args.concurrency), "--signal-file", str(signal),
            *(["--stream"] if args.stream else []),
            *(["--body", args.body] if args.body else []),
        ]  # fmt: skip
        with log.open("w") as stderr:
            child = subprocess.Popen(command, stderr=stderr)
            try:
                _wait_for(log, _READY, child)
                _callgrind_control("on", child.pid)
                signal.touch()
                _wait_for(log, _DONE, child)
                _callgrind_control("off", child.pid)
                signal.unlink()
                child.wait()
            finally:
                if child.poll() is None:
                    child.kill()
        totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
        print(f"instructions per request: {int(totals[0].split()[1]) // args.requests:,}")


def _wait_for(log: Path, line: str, child: subprocess.Popen[bytes]) -> None:
    while line not in log.read_text():
        if child.poll() is not None:
            sys.exit(f"the measured process ended early:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


def _callgrind_control(switch: str, pid: int) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(pid)], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--body", help="a chat request body (default: a short support prompt)")
    parser.add_argument("--stream", action="store_true", help="streamed chat requests")
    parser.add_argument("--instructions", action="store_true", help="count, under callgrind")
    parser.add_argument(
        "--full-collection", action="store_true", help="time a full GC after the requests"
    )
    parser.add_argument("--signal-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions:
        _count_instructions(args)
    else:
        uvloop.run(_measure(args, Path(args.body).read_bytes() if args.body else BODY))


if __name__ == "__main__":
    main()
