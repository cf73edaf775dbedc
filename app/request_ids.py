"""Request ids: 128 random bits as 32 hex digits, drawn from the OS's CSPRNG in bulk.

`secrets.token_hex(16)` makes one `getrandom` system call per id, and in a served process that
call showed up as ~2% of a request's CPU (py-spy, docs/benchmarks.md). The same bytes read 4 KiB
at a time cost one call per 256 ids. A forked child starts with an empty pool, so no two
processes ever hand out ids from the same bytes.
"""

from __future__ import annotations

import os

_POOL_BYTES = 4096
_ID_BYTES = 16


class RequestIds:
    __slots__ = ("_pool", "_used")

    def __init__(self) -> None:
        self._pool = b""
        self._used = 0

    def next(self) -> str:
        if self._used >= len(self._pool):
            self._pool = os.urandom(_POOL_BYTES)
            self._used = 0
        start = self._used
        self._used = start + _ID_BYTES
        return self._pool[start : start + _ID_BYTES].hex()

    def forget(self) -> None:
        """Drop the unused bytes (a forked child must not reuse its parent's)."""
        self._pool = b""
        self._used = 0


request_ids = RequestIds()
os.register_at_fork(after_in_child=request_ids.forget)
