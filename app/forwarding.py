"""Exact pass-through: decode the body as raw fields and rewrite only what the gateway owns."""

from __future__ import annotations

import msgspec

from app.schemas import ChatCompletionRequest
from domain.errors import InvalidRequest

_raw_fields_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_request_decoder = msgspec.json.Decoder(ChatCompletionRequest)
_encoder = msgspec.json.Encoder()
_INCLUDE_USAGE = msgspec.Raw(b'{"include_usage":true}')
_TRUE = msgspec.Raw(b"true")

RawFields = dict[str, msgspec.Raw]


def parse_chat_request(body: bytes) -> tuple[ChatCompletionRequest, RawFields]:
    """The typed view for decisions, and every top-level field as raw JSON for forwarding."""
    try:
        raw_fields = _raw_fields_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidRequest(_decode_message(exc)) from None
    try:
        request = _request_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc), param=_param_of(exc)) from None
    return request, raw_fields


def upstream_body(
    raw_fields: RawFields, *, model_id: str, stream: bool, output_limit: int | None = None
) -> bytes:
    """The request as the upstream sees it: the caller's fields untouched except `model`,
    the output cap the route imposes, and `stream`/`stream_options`.

    Streams always ask the upstream for the final usage chunk, because cost comes from it.
    """
    fields = dict(raw_fields)
    fields["model"] = msgspec.Raw(_encoder.encode(model_id))
    if output_limit is not None:
        field = "max_completion_tokens" if "max_completion_tokens" in fields else "max_tokens"
        fields[field] = msgspec.Raw(_encoder.encode(output_limit))
    if stream:
        fields["stream"] = _TRUE
        fields["stream_options"] = _INCLUDE_USAGE
    else:
        fields.pop("stream", None)
        fields.pop("stream_options", None)
    return _encoder.encode(fields)


def _decode_message(exc: msgspec.DecodeError) -> str:
    text = str(exc)
    if text.startswith("Expected `object`"):
        return "The request body must be a JSON object."
    return f"The request body is not valid JSON: {text}"


def _param_of(exc: msgspec.ValidationError) -> str | None:
    # msgspec ends its messages with "- at `$.messages[0].role`"; OpenAI's `param` is that path.
    marker = "- at `$."
    text = str(exc)
    if text.startswith("Object missing required field `"):
        return text.split("`")[1]
    start = text.rfind(marker)
    if start < 0:
        return None
    return text[start + len(marker) :].rstrip("`")
