"""Semantic cache rules: the scope a prompt is compared within, the text embedded, and cosine."""

from __future__ import annotations

import hashlib
import json
import math
import operator
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# A number is a run of digits, wherever it stands ("60", "#4512", "INV-2231", "gpt4", "45-year"),
# with comma-separated thousands groups ("1,000") and one decimal part ("3.5"). A "-" right
# before it is a minus sign unless it follows a letter or digit ("-5", but not INV-2231 or 10-20).
_NUMBER = re.compile(r"(?:(?<!\w)-)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class SemanticScope:
    """Prompts are only compared with prompts of the same tenant, route and system prompt, and
    whose other fields (earlier turns, tools, sampling parameters) are identical and, unless
    switched off, whose last user turn holds the same numbers (`numbers_in`)."""

    tenant: str
    route: str
    system_digest: str  # sha256 of the canonical system/developer messages
    context_digest: str  # sha256 of everything but the last user turn's wording
    numbers: tuple[str, ...] = ()  # the last user turn's numbers, in order

    @classmethod
    def of(
        cls,
        *,
        tenant: str,
        route: str,
        system: bytes,
        context: bytes,
        numbers: Sequence[str] = (),
    ) -> SemanticScope:
        return cls(
            tenant=tenant,
            route=route,
            system_digest=hashlib.sha256(system).hexdigest(),
            context_digest=hashlib.sha256(context).hexdigest(),
            numbers=tuple(numbers),
        )

    @property
    def id(self) -> str:
        """An opaque id (sha256 hex) for index storage; equal scopes have equal ids."""
        parts: list[object] = [self.tenant, self.route, self.system_digest, self.context_digest]
        if self.numbers:  # without numbers the id stays what it was before numbers counted
            parts.append(list(self.numbers))
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def numbers_in(text: str) -> tuple[str, ...]:
    """The numbers in `text` as written, in order, thousands separators dropped: "A train at
    1,200 m and -3.5 km, ticket #4512" gives ("1200", "-3.5", "4512")."""
    return tuple(number.replace(",", "") for number in _NUMBER.findall(text))


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
