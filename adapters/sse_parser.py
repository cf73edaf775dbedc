"""Incremental server-sent-events parsing over raw byte chunks (only `data:` fields matter here)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

DONE = b"[DONE]"


async def sse_batches(chunks: AsyncIterable[bytes]) -> AsyncIterator[list[bytes]]:
    """Yield the data of the events each network read completed, together (never an empty
    list). Multi-line data is joined with newlines, as the spec says."""
    pending = b""  # the start of a line the next read completes
    data_lines: list[bytes] = []
    async for chunk in chunks:
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        batch: list[bytes] = []
        for line in lines:
            line = line.rstrip(b"\r")
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
