from __future__ import annotations

import asyncio

import pytest

from adapters.failover_upstream import FailoverChatUpstream, NoUpstreamAvailable, UpstreamRoute
from adapters.pybreaker_breakers import PybreakerRegistry
from domain.errors import UpstreamConnectionError, UpstreamHTTPError, UpstreamTimeout
from domain.ports import (
    BreakerRegistry,
    ChatUpstream,
    UpstreamCall,
    UpstreamReply,
    UpstreamStream,
)
from tests.fakes import FakeBreakers, FakeClock, FakeStream, FakeUpstream

CALL = UpstreamCall(model="m", body=b'{"model": "m"}', timeout_s=60.0)
COOLDOWN_S = 30.0


def busy() -> UpstreamHTTPError:
    return UpstreamHTTPError("busy", status=503)


def down() -> UpstreamConnectionError:
    return UpstreamConnectionError("connection refused")


def failover(
    *routes: UpstreamRoute, breakers: BreakerRegistry | None = None, clock: FakeClock | None = None
) -> FailoverChatUpstream:
    return FailoverChatUpstream(
        routes=routes,
        breakers=breakers or FakeBreakers(),
        cooldown_s=COOLDOWN_S,
        clock=clock or FakeClock(),
    )


def two_regions(
    clock: FakeClock | None = None, breakers: BreakerRegistry | None = None
) -> tuple[FailoverChatUpstream, FakeUpstream, FakeUpstream]:
    primary, secondary = FakeUpstream("primary"), FakeUpstream("secondary")
    upstream = failover(
        UpstreamRoute("primary", primary, priority=0),
        UpstreamRoute("secondary", secondary, priority=1),
        breakers=breakers,
        clock=clock,
    )
    return upstream, primary, secondary


def test_satisfies_the_port_and_starts_healthy() -> None:
    upstream = two_regions()[0]
    port: ChatUpstream = upstream
    assert port is upstream
    assert upstream.health() == {
        "primary": {"healthy": True, "unhealthy_until": None},
        "secondary": {"healthy": True, "unhealthy_until": None},
    }


def test_route_names_must_be_unique() -> None:
    same = FakeUpstream()
    with pytest.raises(ValueError, match="unique"):
        failover(UpstreamRoute("a", same), UpstreamRoute("a", same))


async def test_healthy_primary_serves_alone() -> None:
    upstream, primary, secondary = two_regions()
    reply = await upstream.complete(CALL)
    assert reply.upstream == "primary"
    assert len(primary.calls) == 1
    assert secondary.calls == []


async def test_primary_503_fails_over_to_secondary() -> None:
    clock, breakers = FakeClock(), FakeBreakers()
    upstream, primary, _ = two_regions(clock, breakers)
    primary.then(busy())
    reply = await upstream.complete(CALL)
    assert reply.upstream == "secondary"
    # A 503 is about this model; the breakers track it, the upstream stays in rotation.
    assert upstream.health()["primary"] == {"healthy": True, "unhealthy_until": None}
    assert breakers.outcomes == [("primary", "m", "UpstreamHTTPError"), ("secondary", "m", "ok")]
    assert (await upstream.complete(CALL)).upstream == "primary"


async def test_connection_failure_benches_the_upstream_for_the_cooldown() -> None:
    clock = FakeClock()
    upstream, primary, _ = two_regions(clock)
    primary.then(down())
    assert (await upstream.complete(CALL)).upstream == "secondary"
    assert upstream.health()["primary"] == {
        "healthy": False,
        "unhealthy_until": clock.now + COOLDOWN_S,
    }


async def test_unhealthy_upstream_is_skipped_until_its_cooldown_then_reprobed() -> None:
    clock = FakeClock()
    upstream, primary, _ = two_regions(clock)
    primary.then(UpstreamConnectionError("refused"))
    await upstream.complete(CALL)
    clock.advance(COOLDOWN_S - 1)
    assert (await upstream.complete(CALL)).upstream == "secondary"
    assert len(primary.calls) == 1
    clock.advance(1)
    assert (await upstream.complete(CALL)).upstream == "primary"
    assert len(primary.calls) == 2
    assert upstream.health()["primary"]["healthy"] is True


async def test_failed_reprobe_cools_down_again() -> None:
    clock = FakeClock()
    upstream, primary, _ = two_regions(clock)
    primary.then(down(), down())
    await upstream.complete(CALL)
    clock.advance(COOLDOWN_S)
    assert (await upstream.complete(CALL)).upstream == "secondary"
    assert len(primary.calls) == 2
    assert upstream.health()["primary"]["unhealthy_until"] == clock.now + COOLDOWN_S
    await upstream.complete(CALL)
    assert len(primary.calls) == 2


async def test_only_one_reprobe_at_a_time() -> None:
    clock = FakeClock()
    upstream, primary, _ = two_regions(clock)
    primary.then(down())
    await upstream.complete(CALL)
    clock.advance(COOLDOWN_S)
    primary.gate = asyncio.Event()
    probe = asyncio.create_task(upstream.complete(CALL))
    await asyncio.sleep(0)
    assert len(primary.calls) == 2
    concurrent = await asyncio.wait_for(upstream.complete(CALL), timeout=1.0)
    assert concurrent.upstream == "secondary"
    assert len(primary.calls) == 2
    primary.gate.set()
    assert (await probe).upstream == "primary"


async def test_retry_after_shorter_than_the_cooldown_is_honoured() -> None:
    clock = FakeClock()
    upstream, primary, _ = two_regions(clock)
    primary.then(UpstreamConnectionError("draining", retry_after_s=2.0))
    await upstream.complete(CALL)
    assert upstream.health()["primary"]["unhealthy_until"] == clock.now + 2.0
    clock.advance(2.0)
    assert (await upstream.complete(CALL)).upstream == "primary"


async def test_dedicated_channel_is_preferred_for_its_models_only() -> None:
    general, pro = FakeUpstream("general"), FakeUpstream("pro")
    upstream = failover(
        UpstreamRoute("general", general, priority=0),
        UpstreamRoute("pro", pro, priority=9, models=frozenset({"big"})),
    )
    big = UpstreamCall(model="big", body=b"{}", timeout_s=60.0)
    assert (await upstream.complete(big)).upstream == "pro"
    assert (await upstream.complete(CALL)).upstream == "general"
    assert pro.models == ["big"]
    pro.then(busy())
    assert (await upstream.complete(big)).upstream == "general"


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_errors_caused_by_the_request_do_not_fail_over(status: int) -> None:
    upstream, primary, secondary = two_regions()
    rejection = UpstreamHTTPError("no", status=status)
    primary.then(rejection)
    with pytest.raises(UpstreamHTTPError) as raised:
        await upstream.complete(CALL)
    assert raised.value is rejection
    assert secondary.calls == []
    assert upstream.health()["primary"]["healthy"] is True


async def test_open_breaker_skips_that_upstream_for_that_model() -> None:
    breakers = FakeBreakers(open_circuits={("primary", "m")})
    upstream, primary, _ = two_regions(breakers=breakers)
    assert (await upstream.complete(CALL)).upstream == "secondary"
    assert primary.calls == []
    other = UpstreamCall(model="other", body=b"{}", timeout_s=60.0)
    assert (await upstream.complete(other)).upstream == "primary"


class LateRefusal(FakeBreakers):
    """Says yes when asked, then refuses open circuits on entry (pybreaker's clock disagreeing)."""

    def admits(self, upstream: str, model: str) -> bool:
        return True


async def test_a_refusal_at_entry_skips_without_blaming_the_upstream() -> None:
    upstream, primary, _ = two_regions(breakers=LateRefusal(open_circuits={("primary", "m")}))
    assert (await upstream.complete(CALL)).upstream == "secondary"
    assert primary.calls == []
    assert upstream.health()["primary"]["healthy"] is True


async def test_real_breakers_open_per_model_and_are_skipped() -> None:
    breakers = PybreakerRegistry(fail_max=2, reset_timeout_s=60)
    clock = FakeClock()
    upstream, primary, _ = two_regions(clock, breakers)
    primary.then(busy(), busy())
    for _ in range(2):
        await upstream.complete(CALL)
        clock.advance(COOLDOWN_S)  # health alone would re-probe now; the breaker says no
    assert breakers.states()[("primary", "m")] == "open"
    assert (await upstream.complete(CALL)).upstream == "secondary"
    assert len(primary.calls) == 2


async def test_all_upstreams_failing_raises_the_last_upstream_error() -> None:
    upstream, primary, secondary = two_regions()
    primary.then(busy())
    last = UpstreamTimeout("slow")
    secondary.then(last)
    with pytest.raises(UpstreamTimeout) as raised:
        await upstream.complete(CALL)
    assert raised.value is last


async def test_every_upstream_cooling_down_is_still_tried() -> None:
    clock = FakeClock()
    upstream, primary, secondary = two_regions(clock)
    primary.then(down())
    secondary.then(down())
    with pytest.raises(UpstreamConnectionError):
        await upstream.complete(CALL)
    clock.advance(10)
    # Benching every upstream would turn one bad moment into an outage: try them anyway.
    assert (await upstream.complete(CALL)).upstream == "primary"
    assert upstream.health()["primary"]["healthy"] is True


async def test_nothing_eligible_raises_no_upstream_available_for_another_model() -> None:
    clock, breakers = FakeClock(), FakeBreakers()
    upstream, primary, secondary = two_regions(clock, breakers)
    primary.then(down())
    secondary.then(down())
    with pytest.raises(UpstreamConnectionError):
        await upstream.complete(CALL)
    clock.advance(10)
    breakers.open |= {("primary", "m"), ("secondary", "m")}
    with pytest.raises(NoUpstreamAvailable, match="no upstream available for model m") as raised:
        await upstream.complete(CALL)
    assert not raised.value.retryable  # same model cannot help before the cool-down ends
    assert raised.value.other_model_may_serve
    assert raised.value.retry_after_s == pytest.approx(COOLDOWN_S - 10)
    assert len(primary.calls) == len(secondary.calls) == 1


async def test_model_without_any_route_is_unavailable() -> None:
    upstream = failover(UpstreamRoute("pro", FakeUpstream(), models=frozenset({"big"})))
    with pytest.raises(NoUpstreamAvailable):
        await upstream.complete(CALL)


class SlowFailure:
    """Fails with a timeout after using up part of the caller's time."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds

    async def complete(self, call: UpstreamCall) -> UpstreamReply:
        self.clock.advance(self.seconds)
        raise UpstreamTimeout("timed out")

    async def embed(self, call: UpstreamCall) -> UpstreamReply:
        return await self.complete(call)

    async def open_stream(self, call: UpstreamCall) -> UpstreamStream:
        await self.complete(call)
        raise AssertionError("unreachable")


async def test_later_attempts_get_only_the_time_that_is_left() -> None:
    clock = FakeClock()
    secondary = FakeUpstream("secondary")
    upstream = failover(
        UpstreamRoute("primary", SlowFailure(clock, 45.0), priority=0),
        UpstreamRoute("secondary", secondary, priority=1),
        clock=clock,
    )
    await upstream.complete(CALL)
    assert secondary.calls[0].call.timeout_s == pytest.approx(15.0)


async def test_deadline_spent_stops_the_failover() -> None:
    clock = FakeClock()
    secondary = FakeUpstream("secondary")
    upstream = failover(
        UpstreamRoute("primary", SlowFailure(clock, 60.0), priority=0),
        UpstreamRoute("secondary", secondary, priority=1),
        clock=clock,
    )
    with pytest.raises(UpstreamTimeout):
        await upstream.complete(CALL)
    assert secondary.calls == []


async def test_cancellation_is_not_an_upstream_fault() -> None:
    clock = FakeClock()
    upstream, primary, _ = two_regions(clock)
    primary.gate = asyncio.Event()
    task = asyncio.create_task(upstream.complete(CALL))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert upstream.health()["primary"]["healthy"] is True


async def test_streams_fail_over_while_opening() -> None:
    upstream, primary, secondary = two_regions()
    primary.then(busy())
    stream = FakeStream([b"{}"], upstream="secondary")
    secondary.then(stream)
    assert await upstream.open_stream(CALL) is stream
    assert [c.method for c in primary.calls + secondary.calls] == ["open_stream", "open_stream"]


async def test_embeddings_fail_over_too() -> None:
    upstream, primary, secondary = two_regions()
    primary.then(UpstreamConnectionError("reset"))
    reply = await upstream.embed(CALL)
    assert reply.upstream == "secondary"
    assert secondary.calls[0].method == "embed"
