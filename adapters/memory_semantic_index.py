"""`SemanticIndex` in process memory: bounded per scope and in total, entries expire by TTL."""

from __future__ import annotations

from array import array
from collections import OrderedDict
from dataclasses import dataclass

from domain.ports import SemanticMatch
from domain.similarity import dot, unit


@dataclass(frozen=True, slots=True)
class _Entry:
    expires_at: float
    vector: array[float]  # unit length, float32: a quarter of a tuple's memory


class MemorySemanticIndex:
    """Brute-force cosine over each scope's entries (at most `max_entries_per_scope`).

    Past `max_entries` in total, the oldest entries of the least recently used scopes go first.
    Memory is about `max_entries * dimensions * 4` bytes.
    """

    def __init__(self, *, max_entries: int = 10_000, max_entries_per_scope: int = 256) -> None:
        if max_entries < 1 or max_entries_per_scope < 1:
            raise ValueError("entry bounds must be at least 1")
        self.max_entries = max_entries
        self.max_entries_per_scope = max_entries_per_scope
        self._scopes: OrderedDict[str, OrderedDict[str, _Entry]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    async def add(
        self, scope: str, vector: tuple[float, ...], key: str, *, ttl_s: float, now: float
    ) -> None:
        normalised = unit(vector)
        if normalised is None or ttl_s <= 0:
            return
        entries = self._scopes.get(scope)
        if entries is None:
            entries = self._scopes[scope] = OrderedDict()
        self._scopes.move_to_end(scope)
        self._size -= len(entries)
        _drop_expired(entries, now)
        entries.pop(key, None)
        entries[key] = _Entry(expires_at=now + ttl_s, vector=array("f", normalised))
        while len(entries) > self.max_entries_per_scope:
            entries.popitem(last=False)
        self._size += len(entries)
        self._evict_over_total()

    async def nearest(
        self, scope: str, vector: tuple[float, ...], *, threshold: float, now: float
    ) -> SemanticMatch | None:
        entries = self._scopes.get(scope)
        query = unit(vector)
        if entries is None or query is None:
            return None
        self._scopes.move_to_end(scope)
        self._size -= len(entries)
        _drop_expired(entries, now)
        self._size += len(entries)
        best: SemanticMatch | None = None
        for key, entry in entries.items():
            if len(entry.vector) != len(query):
                continue  # stored by another embedding model
            similarity = dot(query, entry.vector)
            if similarity >= threshold and (best is None or similarity > best.similarity):
                best = SemanticMatch(key=key, similarity=similarity)
        return best

    def _evict_over_total(self) -> None:
        # Scopes emptied by expiry count too, so that the number of scopes stays bounded.
        while self._size > self.max_entries or len(self._scopes) > self.max_entries:
            scope, entries = next(iter(self._scopes.items()))
            if entries:
                entries.popitem(last=False)
                self._size -= 1
            if not entries:
                del self._scopes[scope]


def _drop_expired(entries: OrderedDict[str, _Entry], now: float) -> None:
    for key in [key for key, entry in entries.items() if entry.expires_at <= now]:
        del entries[key]
