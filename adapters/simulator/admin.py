"""The simulator server's `/_sim/*` admin endpoints and `/healthz`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from adapters.simulator.asgi import Receive, Scope, Send, read_body, send_bytes
from adapters.simulator.core import SimulatorCore
from adapters.simulator.faults import FaultBook
from adapters.simulator.stats import SimulatorStats

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class AdminRoutes:
    """Runtime fault changes, counters, the last chat request, and a stats reset."""

    def __init__(self, core: SimulatorCore, stats: SimulatorStats, *, name: str) -> None:
        self._core = core
        self._stats = stats
        self._health = msgspec.json.encode({"status": "ok", "name": name})

    def routes(self) -> dict[tuple[str, str], Handler]:
        return {
            ("GET", "/healthz"): self._healthz,
            ("GET", "/_sim/faults"): self._get_faults,
            ("PUT", "/_sim/faults"): self._put_faults,
            ("DELETE", "/_sim/faults"): self._delete_faults,
            ("GET", "/_sim/stats"): self._get_stats,
            ("GET", "/_sim/last-request"): self._last_request,
            ("POST", "/_sim/reset"): self._reset,
        }

    async def _healthz(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_bytes(send, 200, self._health)

    async def _get_faults(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_bytes(send, 200, self._core.faults.to_json())

    async def _put_faults(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            book = FaultBook.from_json(await read_body(receive))
        except msgspec.DecodeError as exc:
            error = {"error": {"message": str(exc), "type": "invalid_request_error"}}
            await send_bytes(send, 400, msgspec.json.encode(error))
            return
        self._core.faults = book
        await send_bytes(send, 200, book.to_json())

    async def _delete_faults(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._core.faults = FaultBook()
        await send_bytes(send, 200, self._core.faults.to_json())

    async def _get_stats(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_bytes(send, 200, self._stats.to_json())

    async def _last_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        last = self._stats.last_request
        if last is None:
            error = {"error": {"message": "no chat request yet", "type": "invalid_request_error"}}
            await send_bytes(send, 404, msgspec.json.encode(error))
            return
        await send_bytes(send, 200, last.to_json())

    async def _reset(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._stats.reset()
        await send_bytes(send, 200, self._stats.to_json())
