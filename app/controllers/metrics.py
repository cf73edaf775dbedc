"""GET /metrics: the Prometheus text format."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from infra.metrics import CONTENT_TYPE, GatewayMetrics


class MetricsController(Controller):
    tags = ["operations"]

    @get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics(self, metrics: NamedDependency[GatewayMetrics]) -> Response[bytes]:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)
