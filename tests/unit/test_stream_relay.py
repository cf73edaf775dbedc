"""How the chat service relays an upstream stream: events that arrived together leave together."""

from __future__ import annotations

import json
import time

from app import sse
from app.call_context import CallContext
from app.services.chat import ChatService
from app.services.executor import PlanExecutor
from app.services.results import ChatStream
from domain.retry_policy import RetryBudget, RetryPolicy
from tests.fakes import FakeStream, FakeUpstream, stream_payloads
from tests.unit.routing_fixtures import bundled

MODEL = "Qwen/Qwen3-8B"


def service_over(upstream: FakeUpstream) -> ChatService:
    catalog, policy = bundled()
    executor = PlanExecutor(
        upstream=upstream, retry_policy=RetryPolicy(), retry_budget=RetryBudget()
    )
    return ChatService(
        catalog=catalog, policy=policy, baseline=next(iter(catalog)), executor=executor
    )


def streaming_request() -> bytes:
    request = {
        "model": MODEL,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
    }
    return json.dumps(request).encode()


def context() -> CallContext:
    return CallContext(
        request_id="r", tenant="t", cache_scope="t", feature="f", deadline=time.monotonic() + 30
    )


async def relayed(stream: FakeStream) -> list[bytes]:
    outcome = await service_over(FakeUpstream(script=[stream])).handle(
        streaming_request(), context()
    )
    assert isinstance(outcome, ChatStream)
    return [write async for write in outcome.events]


async def test_events_read_together_are_written_together() -> None:
    payloads = stream_payloads(MODEL, "hello") + stream_payloads(MODEL, "again")[:1]
    writes = await relayed(FakeStream(payloads, together=True, done_apart=True))
    assert writes[-1] == b"data: [DONE]\n\n"
    (batch,) = writes[:-1]  # one write for the four events, not four
    events = batch.split(b"\n\n")[:-1]
    assert len(events) == 4
    usage = json.loads(events[2].removeprefix(b"data: "))["usage"]
    assert usage["cost"] > 0  # the usage chunk still carries the cost


async def test_the_events_read_with_done_leave_with_it_in_one_write() -> None:
    payloads = stream_payloads(MODEL, "hello")
    writes = await relayed(FakeStream(payloads, together=True))
    (write,) = writes
    assert write.endswith(b"\n\ndata: [DONE]\n\n")
    assert write.count(b"data: ") == len(payloads) + 1


async def test_events_read_one_by_one_are_written_one_by_one() -> None:
    payloads = [*stream_payloads(MODEL, "hello")[:1], *stream_payloads(MODEL, "again")]
    writes = await relayed(FakeStream(payloads))
    # Tokens paced by the model leave as they come: batching never delays an event. The last
    # read came with [DONE] and leaves with it.
    assert [w.count(b"data: ") for w in writes] == [1, 1, 1, 2]
    assert writes[-1].endswith(b"data: [DONE]\n\n")


def test_payloads_framed_together_read_as_the_same_events_framed_one_by_one() -> None:
    payloads = [b'{"a":1}', b"", b'{"b":"x\\ny"}']
    assert sse.events(payloads) == b"".join(map(sse.event, payloads))
    assert sse.events([]) == b""
