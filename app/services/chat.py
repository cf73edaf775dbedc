"""The chat completions use case: resolve, call upstream, price, report."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from app import sse
from app.call_context import CallContext
from app.completions import StreamTally, decode_chunk, summarize_completion
from app.forwarding import parse_chat_request, upstream_body
from app.response_headers import CallReport, cost_headers, report_headers
from app.services.results import ChatReply, ChatStream
from app.schemas import ChatCompletionRequest
from domain.catalog import Catalog, Model
from domain.completion import is_empty_completion
from domain.errors import EmptyCompletion, ModelNotFound, StreamInterrupted, UpstreamError
from domain.ports import ChatUpstream, UpstreamCall, UpstreamStream
from domain.pricing import Cost, cost_of


class ChatService:
    def __init__(
        self,
        *,
        catalog: Catalog,
        baseline: Model,
        upstream: ChatUpstream,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog = catalog
        self._baseline = baseline
        self._upstream = upstream
        self._clock = clock

    async def handle(self, body: bytes, ctx: CallContext) -> ChatReply | ChatStream:
        request, raw_fields = parse_chat_request(body)
        model = self._resolve(request)
        call = UpstreamCall(
            model=model.id,
            body=upstream_body(raw_fields, model_id=model.id, stream=request.stream),
            timeout_s=max(ctx.deadline - self._clock(), 0.001),
            headers=(("traceparent", ctx.traceparent),) if ctx.traceparent else (),
        )
        report = CallReport(
            request_id=ctx.request_id, model=model.id, route=model.id, tier="pinned",
            reason=f"pinned: the caller asked for {request.model}",
        )
        if request.stream:
            stream = await self._upstream.open_stream(call)
            return ChatStream(
                events=self._relay(stream, request, model), headers=report_headers(report)
            )
        reply = await self._upstream.complete(call)
        summary = summarize_completion(reply.body)
        if is_empty_completion(summary):
            raise EmptyCompletion(f"{model.id} returned an empty completion.", status=200)
        cost = cost_of(model, summary.usage, baseline=self._baseline)
        return ChatReply(body=reply.body, headers=report_headers(report) | cost_headers(cost))

    def _resolve(self, request: ChatCompletionRequest) -> Model:
        model = self._catalog.find(request.model)
        if model is None:
            raise ModelNotFound(
                f"The model `{request.model}` does not exist or you do not have access to it.",
                param="model",
            )
        return model

    async def _relay(
        self, stream: UpstreamStream, request: ChatCompletionRequest, model: Model
    ) -> AsyncIterator[bytes]:
        tally = StreamTally()
        try:
            async for payload in stream.events():
                chunk = decode_chunk(payload)
                tally.add(chunk)
                if chunk.usage is not None and not chunk.choices:
                    if request.wants_usage_chunk:
                        yield sse.event(sse.with_cost(payload, self._cost(model, tally)))
                    continue
                yield sse.event(payload)
            yield sse.DONE
        except UpstreamError as exc:
            failure = StreamInterrupted(f"The upstream stream failed: {exc.message}")
            yield sse.error_event(failure.message, error_type="server_error", code=failure.code)
        finally:
            await stream.aclose()

    def _cost(self, model: Model, tally: StreamTally) -> Cost:
        if tally.usage is None:
            return Cost()
        return cost_of(model, tally.usage, baseline=self._baseline)
