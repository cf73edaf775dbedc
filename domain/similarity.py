"""Semantic cache rules: the scope a prompt is compared within, the text embedded, and cosine."""

from __future__ import annotations

import hashlib
import json
import math
import operator
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SemanticScope:
    """Prompts are only compared with prompts of the same tenant, route and system prompt, and
    whose other fields (earlier turns, tools, sampling parameters) are identical."""

    tenant: str
    route: str
    system_digest: str  # sha256 of the canonical system/developer messages
    context_digest: str  # sha256 of everything but the last user turn's wording

    @classmethod
    def of(cls, *, tenant: str, route: str, system: bytes, context: bytes) -> SemanticScope:
        return cls(
            tenant=tenant,
            route=route,
            system_digest=hashlib.sha256(system).hexdigest(),
            context_digest=hashlib.sha256(context).hexdigest(),
        )

    @property
    def id(self) -> str:
        """An opaque id (sha256 hex) for index storage; equal scopes have equal ids."""
        parts = [self.tenant, self.route, self.system_digest, self.context_digest]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def semantic_text(messages: object) -> str | None:
    """The last turn's text when it is a user turn made only of text; None otherwise."""
    if not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    content = last.get("content")
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        if len(texts) != len(content) or any(p.get("type") != "text" for p in content):
            return None  # images, audio or files: the text alone does not say what was asked
        content = "\n".join(t for t in texts if isinstance(t, str))
    if not isinstance(content, str):
        return None
    text = " ".join(unicodedata.normalize("NFKC", content).split())
    return text or None


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    total: float = sum(map(operator.mul, a, b))
    return total


def unit(vector: Sequence[float]) -> tuple[float, ...] | None:
    """`vector` scaled to length 1; None for a zero or non-finite vector."""
    norm = math.sqrt(dot(vector, vector))
    if norm == 0.0 or not math.isfinite(norm):
        return None
    return tuple(v / norm for v in vector)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity in [-1, 1]; 0.0 when either vector is zero."""
    if len(a) != len(b):
        raise ValueError(f"vectors of different dimensions: {len(a)} and {len(b)}")
    norms = math.sqrt(dot(a, a) * dot(b, b))
    return dot(a, b) / norms if norms else 0.0
