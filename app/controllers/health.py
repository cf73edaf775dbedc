"""Liveness and readiness probes."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency

from app.readiness import Readiness


class HealthStatus(msgspec.Struct):
    status: str
    checks: dict[str, str] = {}


class HealthController(Controller):
    tags = ["health"]

    @get("/healthz", summary="Liveness: the process serves HTTP")
    async def healthz(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get("/readyz", summary="Readiness: config loaded and dependencies reachable")
    async def readyz(self, readiness: NamedDependency[Readiness]) -> Response[HealthStatus]:
        checks = await readiness.check()
        ready = all(value == "ok" for value in checks.values())
        return Response(
            HealthStatus(status="ready" if ready else "not ready", checks=checks),
            status_code=200 if ready else 503,
        )
