"""SseBatches: events are the same however the network splits the bytes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.sse_parser import SseBatches

STREAM = (
    b": a comment line\n"
    b'data: {"a":1}\n\n'
    b"event: ignored\r\n"
    b'data:{"b":2}\r\n\r\n'
    b"data: first line\n"
    b"data: second line\n\n"
    b"data: [DONE]\n\n"
)
EVENTS = [b'{"a":1}', b'{"b":2}', b"first line\nsecond line", b"[DONE]"]


async def _reads(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _batches(*pieces: bytes) -> list[list[bytes]]:
    async def collect() -> list[list[bytes]]:
        return [batch async for batch in SseBatches(_reads(*pieces))]

    return asyncio.run(collect())


def test_one_read_gives_one_batch_of_every_event() -> None:
    assert _batches(STREAM) == [EVENTS]


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_a_read_boundary_anywhere_changes_only_the_batching(cut: int) -> None:
    batches = _batches(STREAM[:cut], STREAM[cut:])

    assert [event for batch in batches for event in batch] == EVENTS
    assert all(batches)


def test_byte_by_byte_reads_give_each_event_when_its_blank_line_arrives() -> None:
    batches = _batches(*(STREAM[i : i + 1] for i in range(len(STREAM))))

    assert batches == [[event] for event in EVENTS]


def test_data_without_a_closing_blank_line_is_still_delivered_at_the_end() -> None:
    assert _batches(b"data: tail\n") == [[b"tail"]]
