"""OpenAPI request bodies for handlers that read raw bytes (to forward them untouched).

Litestar documents a body only for a typed `data` parameter; these handlers take `body: bytes`,
so the schema comes from msgspec's JSON Schema of the wire Struct, converted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

_KEYWORDS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_items",
    "maxItems": "max_items",
    "minimum": "minimum",
    "maximum": "maximum",
    "enum": "enum",
    "required": "required",
    "title": "title",
    "description": "description",
    "default": "default",
}


def schema_of(struct_type: type[msgspec.Struct]) -> Schema:
    document = msgspec.json.schema(struct_type)
    return _convert(document, document.get("$defs", {}))


def json_body_operation(struct_type: type[msgspec.Struct]) -> type[Operation]:
    """An Operation class whose request body is `struct_type` as application/json."""
    body = RequestBody(
        content={"application/json": OpenAPIMediaType(schema=schema_of(struct_type))},
        required=True,
    )

    @dataclass
    class JsonBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return JsonBodyOperation


def _convert(node: dict[str, Any], defs: dict[str, Any]) -> Schema:
    if "$ref" in node:
        return _convert(defs[node["$ref"].rsplit("/", 1)[1]], defs)
    fields: dict[str, Any] = {
        target: node[source] for source, target in _KEYWORDS.items() if source in node
    }
    if "type" in node:
        fields["type"] = OpenAPIType(node["type"])
    if "anyOf" in node:
        fields["any_of"] = [_convert(option, defs) for option in node["anyOf"]]
    if "items" in node:
        fields["items"] = _convert(node["items"], defs)
    if "properties" in node:
        fields["properties"] = {k: _convert(v, defs) for k, v in node["properties"].items()}
    if isinstance(node.get("additionalProperties"), dict):
        fields["additional_properties"] = _convert(node["additionalProperties"], defs)
    return Schema(**fields)
