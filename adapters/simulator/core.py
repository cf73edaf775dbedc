"""The simulated upstream's core: request bytes in, a deterministic `Outcome` out."""

from __future__ import annotations

import hashlib
import itertools
import random
import time
from dataclasses import replace

import msgspec

from adapters.simulator.embeddings import as_base64, embed_text, estimate_tokens
from adapters.simulator.faults import NO_FAULTS, FaultBook, FaultKind, FaultSpec
from adapters.simulator.generation import Generated, empty_reply, generate, reasoning_only_reply
from adapters.simulator.latency import INSTANT, LatencyModel, Timing
from adapters.simulator.outcomes import Disruption, Failure, Outcome, Reply, StreamReply, failure
from adapters.simulator.render import Envelope, completion_body, stream_payloads
from adapters.simulator.text import estimate_prompt_tokens
from adapters.simulator.wire import (
    ChatRequest,
    Embedding,
    EmbeddingList,
    EmbeddingUsage,
    chat_request_decoder,
    embedding_request_decoder,
    encoder,
)
from domain.catalog import Catalog

_NO_ANSWER = frozenset({FaultKind.DOWN, FaultKind.RESET, FaultKind.HANG})
_MAX_CHOICES = 8
_CACHE_SIZE = 4096


class SimulatorCore:
    """Decides every reply: text, usage, latency and faults, all reproducible from `seed`.

    `faults` may be replaced at any time (`core.faults = FaultBook(...)`). Replies depend only
    on the seed and the request content; fault and latency draws come from one seeded
    `random.Random`, so their order follows the order requests arrive in.
    """

    def __init__(
        self,
        *,
        catalog: Catalog,
        seed: int = 0,
        latency: LatencyModel | None = None,
        faults: FaultBook | None = None,
        stream_chunks: int | None = None,
        reply_tokens: tuple[int, int] = (24, 160),
    ) -> None:
        self.catalog = catalog
        self.seed = seed
        self.latency = latency if latency is not None else LatencyModel()
        self.faults = faults if faults is not None else FaultBook()
        self.stream_chunks = stream_chunks
        self.reply_tokens = reply_tokens
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._seed_bytes = seed.to_bytes(16, "little", signed=True)
        self._generated: dict[bytes, tuple[Generated, ...]] = {}

    def chat(self, body: bytes, *, upstream: str, stream: bool | None = None) -> Outcome:
        """Answer one chat completions body; `stream` overrides the body's own flag."""
        request: ChatRequest | None = None
        try:
            request = chat_request_decoder.decode(body)
        except msgspec.DecodeError as exc:
            problem = str(exc)
        spec = self.faults.resolve(model=request.model if request else "", upstream=upstream)
        kind, status = self._draw(spec)
        if kind in _NO_ANSWER:
            return Disruption(kind)
        if request is None:
            return failure(400, f"Invalid request body: {problem}")
        timing = self._timing(spec, self.latency)
        if kind is FaultKind.ERROR:
            message = f"Simulated upstream error {status} for {request.model}"
            return failure(status, message, retry_after_s=spec.retry_after_s, delay_s=timing.ttft_s)
        model = self.catalog.find(request.model)
        if model is None:
            message = f"The model `{request.model}` does not exist or you do not have access to it."
            return failure(404, message, code="model_not_found", param="model")
        if not request.messages:
            return failure(400, "'messages' must contain at least one message", param="messages")
        if not 1 <= request.n <= _MAX_CHOICES:
            return failure(400, f"'n' must be between 1 and {_MAX_CHOICES}", param="n")
        prompt_tokens = estimate_prompt_tokens(request.messages)
        requested = request.max_completion_tokens or request.max_tokens
        if not model.fits(prompt_tokens, requested or 0):
            message = (
                f"This model's maximum context length is {model.context_window} tokens; "
                f"you requested {prompt_tokens + (requested or 0)} tokens."
            )
            return failure(400, message, code="context_length_exceeded", param="messages")
        limit = min(requested or model.max_output, model.max_output)
        choices = self._choices(request, limit)
        if kind is FaultKind.EMPTY:
            choices = tuple(empty_reply() for _ in choices)
        elif kind is FaultKind.REASONING_ONLY:
            choices = tuple(reasoning_only_reply(self._rng) for _ in choices)
        envelope = Envelope(
            completion_id=f"chatcmpl-sim{self.seed:x}x{next(self._ids):010x}",
            created=int(time.time()),
            model=model.id,
            prompt_tokens=prompt_tokens,
        )
        if not (request.stream if stream is None else stream):
            tokens = max(c.completion_tokens for c in choices)
            body = completion_body(envelope, choices)
            return Reply(body, delay_s=timing.total_s(tokens), cut=kind is FaultKind.CUT)
        return self._stream(request, envelope, choices, timing, cut=kind is FaultKind.CUT)

    def embed(self, body: bytes, *, upstream: str) -> Reply | Failure | Disruption:
        """Answer one `/v1/embeddings` body; any model name is accepted."""
        try:
            request = embedding_request_decoder.decode(body)
        except msgspec.DecodeError as exc:
            return failure(400, f"Invalid request body: {exc}")
        spec = self.faults.resolve(model=request.model, upstream=upstream)
        kind, status = self._draw(spec)
        if kind in _NO_ANSWER:
            return Disruption(kind)
        # Embedding models answer about ten times sooner than chat models start to.
        quick = replace(self.latency, ttft_median_s=self.latency.ttft_median_s / 10)
        timing = self._timing(spec, quick)
        if kind is FaultKind.ERROR:
            message = f"Simulated upstream error {status} for {request.model}"
            return failure(status, message, retry_after_s=spec.retry_after_s, delay_s=timing.ttft_s)
        texts = [request.input] if isinstance(request.input, str) else request.input
        if not texts:
            return failure(400, "'input' must not be empty", param="input")
        as_text = request.encoding_format == "float"
        data = [
            Embedding(index=i, embedding=list(vector) if as_text else as_base64(vector))
            for i, vector in enumerate(embed_text(t) for t in texts)
        ]
        tokens = sum(estimate_tokens(t) for t in texts)
        usage = EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
        body = encoder.encode(EmbeddingList(data=data, model=request.model, usage=usage))
        return Reply(body, delay_s=timing.ttft_s)

    def _stream(
        self,
        request: ChatRequest,
        envelope: Envelope,
        choices: tuple[Generated, ...],
        timing: Timing,
        *,
        cut: bool,
    ) -> StreamReply:
        include_usage = request.stream_options is not None and request.stream_options.include_usage
        payloads, tokens = stream_payloads(
            envelope, choices, include_usage=include_usage, content_chunks=self.stream_chunks
        )
        gaps: tuple[float, ...] = ()
        if timing.per_token_s > 0.0:
            gaps = tuple(t * timing.per_token_s for t in tokens[1:])
        cut_after = None
        if cut:
            # Keep the role chunk and at least one content chunk, never the end of the stream.
            cut_after = min(self._rng.randint(2, max(2, len(payloads) - 2)), len(payloads) - 1)
        return StreamReply(tuple(payloads), ttft_s=timing.ttft_s, gaps_s=gaps, cut_after=cut_after)

    def _choices(self, request: ChatRequest, limit: int) -> tuple[Generated, ...]:
        canonical = msgspec.structs.replace(request, stream=False, stream_options=None)
        key = hashlib.blake2b(
            encoder.encode(canonical), digest_size=16, key=self._seed_bytes
        ).digest() + limit.to_bytes(8, "little")
        cached = self._generated.get(key)
        if cached is not None:
            return cached
        base = int.from_bytes(key, "little")
        choices = tuple(
            generate(request, random.Random(base + i), limit=limit, reply_tokens=self.reply_tokens)
            for i in range(request.n)
        )
        if len(self._generated) >= _CACHE_SIZE:
            del self._generated[next(iter(self._generated))]
        self._generated[key] = choices
        return choices

    def _draw(self, spec: FaultSpec) -> tuple[FaultKind, int]:
        return (FaultKind.NONE, 0) if spec is NO_FAULTS else spec.draw(self._rng)

    def _timing(self, spec: FaultSpec, latency: LatencyModel) -> Timing:
        if latency.scale <= 0.0 and spec is NO_FAULTS:
            return INSTANT
        return latency.draw(
            self._rng,
            ttft_median_s=spec.ttft_median_s,
            ttft_sigma=spec.ttft_sigma,
            extra_s=spec.extra_latency_s,
        )
