"""Mapping the wire request onto the domain's PromptShape."""

from __future__ import annotations

from app.schemas import ChatCompletionRequest, ChatMessage
from domain.features import PromptShape

_IMAGE_PARTS = frozenset({"image_url", "image", "input_image"})
_AUDIO_PARTS = frozenset({"input_audio", "audio"})


def prompt_shape(request: ChatCompletionRequest, *, tier_header: str | None) -> PromptShape:
    texts: list[str] = []
    last_user = ""
    system: list[str] = []
    has_images = has_audio = False
    for message in request.messages:
        text, images, audio = _read(message)
        texts.append(text)
        has_images = has_images or images
        has_audio = has_audio or audio
        if message.role == "user":
            last_user = text
        elif message.role in ("system", "developer"):
            system.append(text)
    response_type = request.response_format.type if request.response_format else None
    return PromptShape(
        texts=tuple(texts),
        last_user_text=last_user,
        system_text="\n".join(system),
        has_images=has_images,
        has_audio=has_audio,
        wants_tools=bool(request.tools),
        wants_json=response_type in ("json_object", "json_schema"),
        requested_output=request.output_limit,
        tier_hint=tier_header or (request.metadata or {}).get("tier"),
    )


def _read(message: ChatMessage) -> tuple[str, bool, bool]:
    content = message.content
    if content is None:
        return "", False, False
    if isinstance(content, str):
        return content, False, False
    kinds = {part.type for part in content}
    text = "\n".join(part.text for part in content if part.text)
    return text, bool(kinds & _IMAGE_PARTS), bool(kinds & _AUDIO_PARTS)
