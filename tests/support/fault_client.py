"""A raw HTTP client for fault runs: one chat request in, what the caller saw out (`Outcome`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import msgspec

MESSAGES = [{"role": "user", "content": "Write two sentences about tide pools."}]
GLM = "THUDM/glm-4-plus"
MISTRAL = "mistralai/Mistral-Small-3.2-24B-Instruct"
LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
FLASH = "deepseek-ai/DeepSeek-V4-Flash"
PRO = "deepseek-ai/DeepSeek-V4-Pro"


def chat_body(
    model: str, *, stream: bool = False, usage_chunk: bool = False, marker: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": MESSAGES, "stream": stream}
    if stream and usage_chunk:
        body["stream_options"] = {"include_usage": True}
    if marker is not None:
        body["user"] = marker
    return body


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request as the caller saw it. `error` is set for every client-visible failure:
    an error status, an SSE error event, a stream without `[DONE]`, a broken connection."""

    status: int
    elapsed_s: float
    headers: dict[str, str]
    content: str = ""
    completion_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def model(self) -> str | None:
        return self.headers.get("x-tiergate-model")

    @property
    def attempts(self) -> int:
        return int(self.headers.get("x-tiergate-attempts", "0"))

    @property
    def fallback(self) -> bool:
        return self.headers.get("x-tiergate-fallback") == "true"

    @property
    def cost_usd(self) -> Decimal | None:
        cost = self.headers.get("x-tiergate-cost-usd")
        return Decimal(cost) if cost is not None else None


class _Delta(msgspec.Struct):
    content: str | None = None
    tool_calls: list[Any] | None = None


class _Message(msgspec.Struct):
    content: str | None = None
    tool_calls: list[Any] | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    message: _Message | None = None


class _Payload(msgspec.Struct):
    id: str | None = None
    choices: list[_Choice] = []
    error: dict[str, Any] | None = None


_payload = msgspec.json.Decoder(_Payload)


async def send(
    client: httpx.AsyncClient, body: dict[str, Any], *, headers: dict[str, str] | None = None
) -> Outcome:
    """POST one chat completion (streaming or not) and read it to the end."""
    started = time.perf_counter()
    seen: dict[str, str] = {}
    status = 0
    try:
        request = client.build_request(
            "POST", "/v1/chat/completions", json=body, headers=headers or {}
        )
        response = await client.send(request, stream=True)
        try:
            status, seen = response.status_code, dict(response.headers)
            if status != 200:
                await response.aread()
                return _failed(status, started, seen, _error_code(response.content))
            if body.get("stream"):
                return await _read_stream(response, started, seen)
            return _read_json(await response.aread(), started, seen)
        finally:
            await response.aclose()
    except httpx.HTTPError as exc:
        return _failed(status, started, seen, f"transport:{type(exc).__name__}")


async def _read_stream(
    response: httpx.Response, started: float, headers: dict[str, str]
) -> Outcome:
    parts: list[str] = []
    completion_id: str | None = None
    async for line in response.aiter_lines():
        if not line.startswith("data: "):
            continue
        data = line.removeprefix("data: ")
        if data == "[DONE]":
            elapsed = time.perf_counter() - started
            return Outcome(200, elapsed, headers, "".join(parts), completion_id)
        payload = _payload.decode(data)
        if payload.error is not None:
            code = str(payload.error.get("code"))
            return _failed(200, started, headers, f"sse:{code}", "".join(parts))
        completion_id = completion_id or payload.id
        for choice in payload.choices:
            delta = choice.delta
            if delta is not None:
                parts.append(delta.content or "")
                parts.extend("<tool>" for _ in delta.tool_calls or ())
    return _failed(200, started, headers, "stream ended without [DONE]", "".join(parts))


def _read_json(raw: bytes, started: float, headers: dict[str, str]) -> Outcome:
    payload = _payload.decode(raw)
    parts: list[str] = []
    for choice in payload.choices:
        message = choice.message
        if message is not None:
            parts.append(message.content or "")
            parts.extend("<tool>" for _ in message.tool_calls or ())
    elapsed = time.perf_counter() - started
    return Outcome(200, elapsed, headers, "".join(parts), payload.id)


def _failed(
    status: int, started: float, headers: dict[str, str], error: str, content: str = ""
) -> Outcome:
    return Outcome(status, time.perf_counter() - started, headers, content, error=error)


def _error_code(raw: bytes) -> str:
    try:
        error = _payload.decode(raw).error or {}
    except msgspec.DecodeError:
        return "unparseable error body"
    return str(error.get("code") or error.get("type"))
