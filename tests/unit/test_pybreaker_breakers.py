from __future__ import annotations

import asyncio

import pytest

from adapters.pybreaker_breakers import CircuitOpen, PybreakerRegistry
from domain.errors import UpstreamError, UpstreamHTTPError, UpstreamTimeout
from domain.ports import BreakerRegistry

RESET_S = 0.05


def new_registry(changes: list[tuple[str, str, str]] | None = None) -> PybreakerRegistry:
    def record(upstream: str, model: str, state: str) -> None:
        if changes is not None:
            changes.append((upstream, model, state))

    return PybreakerRegistry(fail_max=3, reset_timeout_s=RESET_S, on_state_change=record)


async def attempt(
    registry: PybreakerRegistry, error: BaseException | None, upstream: str = "eu", model: str = "m"
) -> None:
    async with registry.guard(upstream, model):
        await asyncio.sleep(0)  # the failure happens after an await, as a real call's would
        if error is not None:
            raise error


async def fail(registry: PybreakerRegistry, times: int = 1, **where: str) -> None:
    for _ in range(times):
        error = UpstreamHTTPError("busy", status=503)
        with pytest.raises(UpstreamHTTPError) as raised:
            await attempt(registry, error, **where)
        assert raised.value is error  # pybreaker must not swap in its own error on a trip


async def open_circuit(registry: PybreakerRegistry) -> None:
    await fail(registry, times=3)
    assert registry.states() == {("eu", "m"): "open"}


def test_satisfies_the_port() -> None:
    registry: BreakerRegistry = PybreakerRegistry()
    assert registry.states() == {}


async def test_unknown_pairs_are_closed_and_created_lazily() -> None:
    registry = new_registry()
    assert registry.admits("eu", "m")
    assert registry.states() == {}
    await attempt(registry, None)
    assert registry.states() == {("eu", "m"): "closed"}


async def test_opens_after_fail_max_upstream_faults() -> None:
    changes: list[tuple[str, str, str]] = []
    registry = new_registry(changes)
    await fail(registry, times=2)
    assert registry.admits("eu", "m")
    await fail(registry)
    assert not registry.admits("eu", "m")
    assert registry.states()[("eu", "m")] == "open"
    assert changes == [("eu", "m", "open")]


async def test_a_success_resets_the_consecutive_count() -> None:
    registry = new_registry()
    await fail(registry, times=2)
    await attempt(registry, None)
    await fail(registry, times=2)
    assert registry.states()[("eu", "m")] == "closed"


async def test_open_circuit_refuses_without_running_the_block() -> None:
    registry = new_registry()
    await open_circuit(registry)
    ran = False
    with pytest.raises(CircuitOpen) as refused:
        async with registry.guard("eu", "m"):
            ran = True
    assert not ran
    assert refused.value.retryable
    assert refused.value.upstream == "eu"


async def test_circuits_are_per_upstream_and_model() -> None:
    registry = new_registry()
    await open_circuit(registry)
    assert registry.admits("eu", "other-model")
    assert registry.admits("us", "m")
    await attempt(registry, None, upstream="us", model="m")


async def test_after_reset_timeout_exactly_one_probe_is_admitted() -> None:
    registry = new_registry()
    await open_circuit(registry)
    await asyncio.sleep(RESET_S * 1.2)
    assert registry.states()[("eu", "m")] == "half-open"  # before pybreaker notices lazily
    release = asyncio.Event()
    entered = 0

    async def caller() -> str:
        nonlocal entered
        if not registry.admits("eu", "m"):
            return "skipped"
        async with registry.guard("eu", "m"):
            entered += 1
            await release.wait()
        return "served"

    tasks = [asyncio.create_task(caller()) for _ in range(20)]
    await asyncio.sleep(0.01)
    assert entered == 1
    with pytest.raises(CircuitOpen):  # even a caller that skips `admits` is refused
        await attempt(registry, None)
    release.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count("served") == 1
    assert outcomes.count("skipped") == 19


async def test_successful_probe_closes_the_circuit() -> None:
    changes: list[tuple[str, str, str]] = []
    registry = new_registry(changes)
    await open_circuit(registry)
    await asyncio.sleep(RESET_S * 1.2)
    await attempt(registry, None)
    assert registry.states()[("eu", "m")] == "closed"
    assert registry.admits("eu", "m")
    assert [state for _, _, state in changes] == ["open", "half-open", "closed"]


async def test_failed_probe_reopens_for_another_reset_timeout() -> None:
    registry = new_registry()
    await open_circuit(registry)
    await asyncio.sleep(RESET_S * 1.2)
    with pytest.raises(UpstreamTimeout):
        await attempt(registry, UpstreamTimeout("slow"))
    assert registry.states()[("eu", "m")] == "open"
    assert not registry.admits("eu", "m")
    await asyncio.sleep(RESET_S * 1.2)
    assert registry.admits("eu", "m")


async def test_a_burst_of_cancellations_never_trips_it() -> None:
    registry = new_registry()
    await fail(registry, times=2)
    never = asyncio.Event()

    async def abandoned() -> None:
        async with registry.guard("eu", "m"):
            await never.wait()

    tasks = [asyncio.create_task(abandoned()) for _ in range(50)]
    await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert registry.states() == {("eu", "m"): "closed"}
    assert registry.admits("eu", "m")


async def test_a_cancelled_probe_leaves_the_circuit_half_open_for_the_next_probe() -> None:
    changes: list[tuple[str, str, str]] = []
    registry = new_registry(changes)
    await open_circuit(registry)
    await asyncio.sleep(RESET_S * 1.2)
    hung = asyncio.Event()

    async def hanging_probe() -> None:
        async with registry.guard("eu", "m"):
            await hung.wait()

    task = asyncio.create_task(hanging_probe())
    await asyncio.sleep(0.01)
    assert not registry.admits("eu", "m")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert registry.states()[("eu", "m")] == "half-open"
    assert registry.admits("eu", "m")
    assert [state for _, _, state in changes] == ["open", "half-open"]
    with pytest.raises(UpstreamError):
        await attempt(registry, UpstreamHTTPError("still down", status=502))
    assert registry.states()[("eu", "m")] == "open"


@pytest.mark.parametrize(
    "error",
    [
        UpstreamHTTPError("bad request", status=400),
        UpstreamHTTPError("bad key", status=401),
        UpstreamHTTPError("no such model", status=404),
        UpstreamHTTPError("unprocessable", status=422),
        ValueError("a bug on our side"),
    ],
    ids=["400", "401", "404", "422", "our-bug"],
)
async def test_faults_that_are_not_the_upstreams_never_count(error: Exception) -> None:
    registry = new_registry()
    for _ in range(10):
        with pytest.raises(type(error)):
            await attempt(registry, error)
    assert registry.states() == {("eu", "m"): "closed"}


async def test_429_and_timeouts_count() -> None:
    registry = new_registry()
    for error in (UpstreamHTTPError("slow down", status=429), UpstreamTimeout("t")):
        with pytest.raises(UpstreamError):
            await attempt(registry, error)
    await fail(registry)
    assert registry.states()[("eu", "m")] == "open"
