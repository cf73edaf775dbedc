"""Incremental server-sent-events parsing over raw byte chunks (only `data:` fields matter here)."""

from __future__ import annotations

from collections.abc import AsyncIterable

DONE = b"[DONE]"


class SseBatches:
    """The data of the events each network read completed, together (never an empty list).
    Multi-line data is joined with newlines, as the spec says.

    An iterator class rather than an async generator: a relay stops reading at `[DONE]`, often
    before the byte source has ended, and an async generator left suspended is closed later by
    the event loop in a task of its own (one per generator in the chain below it)."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = aiter(chunks)
        self._pending = b""  # the start of a line the next read completes
        self._data_lines: list[bytes] = []

    def __aiter__(self) -> SseBatches:
        return self

    async def __anext__(self) -> list[bytes]:
        async for chunk in self._chunks:
            if batch := self._completed_by(chunk):
                return batch
        if self._data_lines:
            batch = [b"\n".join(self._data_lines)]
            self._data_lines = []
            return batch
        raise StopAsyncIteration

    def _completed_by(self, chunk: bytes) -> list[bytes]:
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        data_lines = self._data_lines
        batch: list[bytes] = []
        for line in lines:
            line = line.rstrip(b"\r")
            if line:
                if line.startswith(b"data:"):
                    data_lines.append(line[6:] if line[5:6] == b" " else line[5:])
                continue
            if data_lines:
                batch.append(b"\n".join(data_lines))
                data_lines = self._data_lines = []
        return batch
