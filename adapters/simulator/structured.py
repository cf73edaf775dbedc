"""Plausible JSON instances of a JSON Schema, for JSON mode and tool-call arguments."""

from __future__ import annotations

import random
from typing import Any

_MAX_DEPTH = 6
_PHRASES = (
    "a short answer",
    "use the cheaper model",
    "it depends on the input",
    "see the attached example",
    "all checks passed",
    "retry after a short delay",
)


class SchemaFaker:
    """Walks a schema (properties, items, enum, anyOf, $ref to $defs) and invents values."""

    def __init__(self, root: dict[str, Any], rng: random.Random, topics: list[str]) -> None:
        self._root = root
        self._rng = rng
        self._topics = topics

    def value(self, schema: dict[str, Any], depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            return None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self._rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf", "allOf"):
            options = [o for o in schema.get(key, ()) if self._resolve(o).get("type") != "null"]
            if options:
                return self.value(options[0], depth + 1)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        return self._by_type(kind, schema, depth)

    def _by_type(self, kind: str, schema: dict[str, Any], depth: int) -> Any:
        rng = self._rng
        if kind == "object":
            properties: dict[str, Any] = schema.get("properties") or {}
            if not properties:
                return {"result": self._phrase()}
            return {name: self.value(sub, depth + 1) for name, sub in properties.items()}
        if kind == "array":
            low = int(schema.get("minItems", 1))
            high = max(low, min(int(schema.get("maxItems", 3)), low + 3))
            items = schema.get("items") or {"type": "string"}
            return [self.value(items, depth + 1) for _ in range(rng.randint(low, high))]
        if kind == "integer":
            return rng.randint(int(schema.get("minimum", 0)), int(schema.get("maximum", 100)))
        if kind == "number":
            bottom, top = float(schema.get("minimum", 0.0)), float(schema.get("maximum", 1.0))
            return round(rng.uniform(bottom, top), 3)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "null":
            return None
        text = self._phrase()
        return text[: int(schema["maxLength"])] if "maxLength" in schema else text

    def _phrase(self) -> str:
        if self._topics and self._rng.random() < 0.5:
            return self._rng.choice(self._topics)
        return self._rng.choice(_PHRASES)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        node: Any = self._root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}


def invent_json(schema: dict[str, Any] | None, rng: random.Random, topics: list[str]) -> Any:
    """An instance of `schema`; without a schema, a small generic answer object."""
    if not schema:
        schema = {
            "type": "object",
            "properties": {
                "answer": {"type": "string"},
                "confidence": {"type": "number"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        }
    return SchemaFaker(schema, rng, topics).value(schema)
