"""`Embedder` over the upstream's OpenAI `/v1/embeddings`, failing open to None."""

from __future__ import annotations

import base64
import struct

import msgspec

from adapters.cache_guard import FAILED, CacheStats, ErrorHook, FailOpenGuard
from domain.ports import ChatUpstream, Embedding, UpstreamCall, UpstreamReply


class _Item(msgspec.Struct):
    embedding: list[float] | str  # a base64 string when an upstream ignores encoding_format


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0


class _EmbeddingList(msgspec.Struct):
    data: list[_Item]
    model: str = ""
    usage: _Usage | None = None


_decoder = msgspec.json.Decoder(_EmbeddingList)
_encoder = msgspec.json.Encoder()


class UpstreamEmbedder:
    """Embeds one text with `model` through `upstream`, within `timeout_s`.

    Any upstream error, timeout or malformed answer gives None and is counted in `stats.errors`:
    the request then simply skips the semantic cache.
    """

    def __init__(
        self,
        *,
        upstream: ChatUpstream,
        model: str,
        timeout_s: float = 0.3,
        on_error: ErrorHook | None = None,
    ) -> None:
        self.upstream = upstream
        self.model = model
        self.timeout_s = timeout_s
        self.stats = CacheStats()
        self._guard = FailOpenGuard(
            name=f"embedder ({model})", timeout_s=timeout_s, stats=self.stats, on_error=on_error
        )

    async def embed(self, text: str) -> Embedding | None:
        embedding = await self._guard.run("embed", lambda: self._embed(text))
        return None if embedding is FAILED else embedding

    async def _embed(self, text: str) -> Embedding:
        body = _encoder.encode({"model": self.model, "input": text, "encoding_format": "float"})
        call = UpstreamCall(model=self.model, body=body, timeout_s=self.timeout_s)
        reply: UpstreamReply = await self.upstream.embed(call)
        answer = _decoder.decode(reply.body)
        if len(answer.data) != 1:
            raise ValueError(f"expected one embedding, got {len(answer.data)}")
        usage = answer.usage.prompt_tokens if answer.usage else 0
        return Embedding(
            vector=_vector(answer.data[0].embedding),
            model=answer.model or self.model,
            input_tokens=usage,
        )


def _vector(embedding: list[float] | str) -> tuple[float, ...]:
    if isinstance(embedding, list):
        vector = tuple(embedding)
    else:
        raw = base64.b64decode(embedding, validate=True)
        if len(raw) % 4:
            raise ValueError("a base64 embedding must hold whole float32 values")
        vector = struct.unpack(f"<{len(raw) // 4}f", raw)
    if not vector:
        raise ValueError("empty embedding")
    return vector
