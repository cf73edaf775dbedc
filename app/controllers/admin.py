"""GET /admin/upstreams: upstream health and circuit-breaker states, for operators."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from app.upstream_status import UpstreamStatus


class BreakerView(msgspec.Struct, kw_only=True):
    upstream: str
    model: str
    state: str


class UpstreamsView(msgspec.Struct, kw_only=True):
    upstreams: dict[str, dict[str, bool | float | None]]
    breakers: list[BreakerView]


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]

    @get("/upstreams", summary="Upstream health and circuit-breaker states")
    async def upstreams(self, upstream_status: NamedDependency[UpstreamStatus]) -> UpstreamsView:
        return UpstreamsView(
            upstreams=upstream_status.health(),
            breakers=[
                BreakerView(upstream=upstream, model=model, state=state)
                for (upstream, model), state in sorted(upstream_status.breaker_states().items())
            ],
        )
