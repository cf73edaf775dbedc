"""Incremental server-sent-events parsing over raw byte chunks (only `data:` fields matter here)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

DONE = b"[DONE]"


async def sse_batches(chunks: AsyncIterable[bytes]) -> AsyncIterator[list[bytes]]:
    """Yield the data of the events each network read completed, together (never an empty
    list). Multi-line data is joined with newlines, as the spec says."""
    buffer = b""
    data_lines: list[bytes] = []
    async for chunk in chunks:
        buffer += chunk
        batch: list[bytes] = []
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line = buffer[:end].rstrip(b"\r")
            buffer = buffer[end + 1 :]
            if line:
                if line.startswith(b"data:"):
                    data_lines.append(line[6:] if line[5:6] == b" " else line[5:])
                continue
            if data_lines:
                batch.append(b"\n".join(data_lines))
                data_lines = []
        if batch:
            yield batch
    if data_lines:
        yield [b"\n".join(data_lines)]
