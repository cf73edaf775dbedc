"""Semantic cache: both indexes (memory, real Redis) with the simulator's embeddings."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.aiocache_response_cache import AiocacheResponseCache
from adapters.memory_semantic_index import MemorySemanticIndex
from adapters.redis_semantic_index import RedisSemanticIndex
from adapters.simulator import LatencyModel, SimulatorCore, default_sim_catalog
from adapters.simulator.embeddings import embed_text
from adapters.simulator.inprocess import SimulatedChatUpstream
from adapters.upstream_embedder import UpstreamEmbedder
from domain.cache_directives import NO_DIRECTIVES
from domain.cache_policy import CacheKeyPolicy, CacheRequest, SemanticLookup
from domain.errors import UpstreamHTTPError
from domain.ports import CachedAnswer, SemanticIndex
from tests.fakes import FakeUpstream, completion_body
from tests.support.redis_server import RedisServer, running_redis

NOW = 1_700_000_000.0
SYSTEM = {"role": "system", "content": "You are a helpful support agent."}
POLICY = CacheKeyPolicy(semantic=True)
IndexFactory = Callable[..., SemanticIndex]


def lookup(
    question: str, *, tenant: str = "acme", route: str = "economy", system: str | None = None
) -> SemanticLookup:
    messages = [{"role": "system", "content": system} if system else SYSTEM]
    messages.append({"role": "user", "content": question})
    fields = {"messages": json.dumps(messages).encode(), "temperature": b"0"}
    request = CacheRequest.of(tenant=tenant, route=route, fields=fields)
    found = POLICY.decide(request, tier="economy", directives=NO_DIRECTIVES).semantic
    assert found is not None
    return found


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_index(request: pytest.FixtureRequest) -> AsyncIterator[IndexFactory]:
    """Builds indexes of one kind; Redis ones share one server and a per-test key prefix."""
    opened: list[RedisSemanticIndex] = []
    prefix = f"test:{uuid.uuid4().hex}:"

    def make(**options: Any) -> SemanticIndex:
        if request.param == "memory":
            return MemorySemanticIndex(**options)
        options.pop("max_entries", None)
        server: RedisServer = request.getfixturevalue("redis_server")
        index = RedisSemanticIndex.from_url(server.url, prefix=prefix, **options)
        opened.append(index)
        return index

    yield make
    for index in opened:
        await index.aclose()


async def test_a_paraphrase_finds_the_stored_prompt(make_index: IndexFactory) -> None:
    index = make_index()
    stored, asked = lookup("How do I reset my password?"), lookup("how can I reset my password")
    assert stored.scope == asked.scope
    await index.add(stored.scope.id, embed_text(stored.text), "key-1", ttl_s=60, now=NOW)
    match = await index.nearest(
        asked.scope.id, embed_text(asked.text), threshold=asked.threshold, now=NOW
    )
    assert match is not None and match.key == "key-1"
    assert match.similarity >= 0.92


async def test_an_unrelated_prompt_is_not_a_match(make_index: IndexFactory) -> None:
    index = make_index()
    stored, asked = lookup("How do I reset my password?"), lookup("How do I reset my router?")
    await index.add(stored.scope.id, embed_text(stored.text), "key-1", ttl_s=60, now=NOW)
    vector = embed_text(asked.text)
    assert await index.nearest(asked.scope.id, vector, threshold=0.92, now=NOW) is None
    loose = await index.nearest(asked.scope.id, vector, threshold=0.3, now=NOW)
    assert loose is not None and loose.similarity < 0.92  # it was the threshold that said no


async def test_the_closest_entry_wins(make_index: IndexFactory) -> None:
    index = make_index()
    scope = lookup("x").scope.id
    for key, text in [("router", "reset my router"), ("password", "reset my password")]:
        await index.add(scope, embed_text(text), key, ttl_s=60, now=NOW)
    match = await index.nearest(scope, embed_text("resetting passwords"), threshold=0.3, now=NOW)
    assert match is not None and match.key == "password"


async def test_scopes_isolate_tenants_routes_and_system_prompts(make_index: IndexFactory) -> None:
    index = make_index()
    question = "How do I reset my password?"
    home = lookup(question)
    await index.add(home.scope.id, embed_text(question), "acme-key", ttl_s=60, now=NOW)
    others = [
        lookup(question, tenant="globex"),
        lookup(question, route="premium"),
        lookup(question, system="You are a pirate."),
    ]
    assert len({home.scope.id, *(o.scope.id for o in others)}) == 4
    for other in others:
        found = await index.nearest(other.scope.id, embed_text(question), threshold=0.5, now=NOW)
        assert found is None


async def test_entries_expire_at_their_ttl(make_index: IndexFactory) -> None:
    index = make_index()
    scope, vector = lookup("q").scope.id, embed_text("reset my password")
    await index.add(scope, vector, "k", ttl_s=10, now=NOW)
    assert await index.nearest(scope, vector, threshold=0.9, now=NOW + 9.9) is not None
    assert await index.nearest(scope, vector, threshold=0.9, now=NOW + 10.0) is None


async def test_each_scope_keeps_at_most_its_bound(make_index: IndexFactory) -> None:
    index = make_index(max_entries_per_scope=3)
    scope = lookup("q").scope.id
    topics = ["password", "router", "invoice", "refund", "shipping"]
    for i, topic in enumerate(topics):  # later entries also expire later
        await index.add(scope, embed_text(f"reset my {topic}"), topic, ttl_s=60 + i, now=NOW)
    found = [
        await index.nearest(scope, embed_text(f"reset my {topic}"), threshold=0.99, now=NOW)
        for topic in topics
    ]
    assert [match.key if match else None for match in found] == [
        None,
        None,
        "invoice",
        "refund",
        "shipping",
    ]


async def test_vectors_of_another_dimension_are_skipped(make_index: IndexFactory) -> None:
    index = make_index()
    scope = lookup("q").scope.id
    await index.add(scope, (1.0, 0.0, 0.0), "small", ttl_s=60, now=NOW)
    assert await index.nearest(scope, (1.0, 0.0), threshold=0.0, now=NOW) is None
    assert await index.nearest(scope, (2.0, 0.0, 0.0), threshold=0.99, now=NOW) is not None


async def test_memory_index_is_bounded_in_total_across_scopes() -> None:
    index = MemorySemanticIndex(max_entries=4, max_entries_per_scope=3)
    for scope in ("a", "b", "c"):
        for i in range(2):
            await index.add(scope, (1.0, float(i)), f"{scope}{i}", ttl_s=60, now=NOW)
    assert len(index) == 4
    assert await index.nearest("a", (1.0, 0.0), threshold=0.0, now=NOW) is None  # oldest scope
    assert await index.nearest("c", (1.0, 0.0), threshold=0.99, now=NOW) is not None


@pytest.mark.redis
async def test_redis_index_is_shared_by_two_pods(redis_server: RedisServer) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    pod_a = RedisSemanticIndex.from_url(redis_server.url, prefix=prefix)
    pod_b = RedisSemanticIndex.from_url(redis_server.url, prefix=prefix)
    try:
        stored, asked = lookup("How do I reset my password?"), lookup("Resetting my passwords?")
        await pod_a.add(stored.scope.id, embed_text(stored.text), "from-a", ttl_s=60, now=NOW)
        match = await pod_b.nearest(asked.scope.id, embed_text(asked.text), threshold=0.92, now=NOW)
        assert match is not None and match.key == "from-a"
    finally:
        await pod_a.aclose()
        await pod_b.aclose()


@pytest.mark.redis
async def test_redis_index_fails_open_and_recovers_after_a_restart() -> None:
    with running_redis() as server:
        index = RedisSemanticIndex.from_url(server.url, timeout_s=0.05)
        try:
            scope, vector = lookup("q").scope.id, embed_text("reset my password")
            await index.add(scope, vector, "k", ttl_s=60, now=NOW)
            server.kill()
            started = time.perf_counter()
            assert await index.nearest(scope, vector, threshold=0.5, now=NOW) is None
            await index.add(scope, vector, "k2", ttl_s=60, now=NOW)
            assert time.perf_counter() - started < 1.0
            assert index.stats.errors == 2

            server.start()  # empty, and without the Lua script loaded
            await index.add(scope, vector, "k3", ttl_s=60, now=NOW)
            match = await index.nearest(scope, vector, threshold=0.5, now=NOW)
            assert match is not None and match.key == "k3"
        finally:
            await index.aclose()


def test_a_text_decoding_client_is_refused() -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisSemanticIndex(client=client)


# The embedder, and the whole semantic path


@pytest.fixture
def simulated() -> SimulatedChatUpstream:
    core = SimulatorCore(catalog=default_sim_catalog(), latency=LatencyModel.zero())
    return SimulatedChatUpstream(core)


async def test_embedder_returns_the_upstream_vector(simulated: SimulatedChatUpstream) -> None:
    embedder = UpstreamEmbedder(upstream=simulated, model="text-embedding-3-small")
    embedding = await embedder.embed("How do I reset my password?")
    assert embedding is not None
    assert embedding.vector == pytest.approx(embed_text("How do I reset my password?"))
    assert embedding.model == "text-embedding-3-small" and embedding.input_tokens > 0


@pytest.mark.parametrize(
    "outcome",
    [
        UpstreamHTTPError("overloaded", status=503),
        b'{"data": []}',
        b'{"data": [{"embedding": "not base64!"}]}',
        b"<html>",
    ],
)
async def test_embedder_failures_give_none_and_are_counted(outcome: Exception | bytes) -> None:
    embedder = UpstreamEmbedder(upstream=FakeUpstream(script=[outcome]), model="m")
    assert await embedder.embed("hello") is None
    assert embedder.stats.errors == 1


async def test_a_slow_embedder_is_cut_off_at_its_timeout() -> None:
    embedder = UpstreamEmbedder(upstream=FakeUpstream(latency_s=5.0), model="m", timeout_s=0.05)
    started = time.perf_counter()
    assert await embedder.embed("hello") is None
    assert time.perf_counter() - started < 1.0
    assert embedder.stats.timeouts == 1


async def test_a_paraphrase_is_answered_from_the_stored_answer(
    simulated: SimulatedChatUpstream, make_index: IndexFactory
) -> None:
    """The flow the chat service follows: exact miss, embed, nearest, then the answer by key."""
    cache = AiocacheResponseCache.in_memory()
    index = make_index()
    embedder = UpstreamEmbedder(upstream=simulated, model="embed")

    first = lookup("How do I reset my password?")
    vector = await embedder.embed(first.text)
    assert vector is not None
    answer = CachedAnswer(
        body=completion_body("m", "Use the reset link."),
        model="m",
        route="economy",
        tier="economy",
        stored_at=NOW,
    )
    await cache.set("exact-key-1", answer, ttl_s=60)
    await index.add(first.scope.id, vector.vector, "exact-key-1", ttl_s=60, now=NOW)

    second = lookup("how can I reset my passwords")
    asked = await embedder.embed(second.text)
    assert asked is not None
    match = await index.nearest(
        second.scope.id, asked.vector, threshold=second.threshold, now=NOW + 1
    )
    assert match is not None
    assert await cache.get(match.key) == answer
