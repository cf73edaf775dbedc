"""shielded: asyncio.shield, with no task for work that never waits."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pytest

from app.services.shielded import shielded

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="caller's")


def _count_tasks(created: list[object]) -> None:
    """From now on, note each coroutine the running loop wraps in a task."""

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        created.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    asyncio.get_running_loop().set_task_factory(factory)


async def _answer_at_once() -> str:
    marker.set("work's")
    return "answer"


async def _answer_after(gate: asyncio.Event, log: list[str]) -> str:
    marker.set("work's")
    await gate.wait()
    await asyncio.sleep(0)
    await asyncio.sleep(0.001)
    log.append("settled")
    return "answer"


async def test_work_that_never_waits_needs_no_task() -> None:
    tasks: list[object] = []
    _count_tasks(tasks)
    try:
        assert await shielded(_answer_at_once()) == "answer"
        assert tasks == []
        gate = asyncio.Event()
        gate.set()
        await shielded(_answer_after(gate, []))
        assert len(tasks) == 1  # work that waited continued in a task of its own
    finally:
        asyncio.get_running_loop().set_task_factory(None)
    assert marker.get() == "caller's"  # it ran in a copy of the caller's context


async def test_work_that_waits_finishes_even_when_the_caller_is_cancelled() -> None:
    gate, log = asyncio.Event(), list[str]()
    caller = asyncio.ensure_future(shielded(_answer_after(gate, log)))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    gate.set()
    await asyncio.sleep(0.05)
    assert log == ["settled"]
    assert marker.get() == "caller's"


async def test_work_that_waits_returns_its_answer() -> None:
    gate, log = asyncio.Event(), list[str]()
    gate_opener = asyncio.get_running_loop().call_later(0.01, gate.set)
    assert await shielded(_answer_after(gate, log)) == "answer"
    assert log == ["settled"]
    gate_opener.cancel()


async def _fail(wait_first: bool) -> None:
    if wait_first:
        await asyncio.sleep(0.001)
    raise ValueError("store down")


@pytest.mark.parametrize("wait_first", [False, True])
async def test_failures_reach_the_caller(wait_first: bool) -> None:
    with pytest.raises(ValueError, match="store down"):
        await shielded(_fail(wait_first))


async def test_cancelling_the_work_itself_reaches_it_where_it_waits() -> None:
    log: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            log.append("cleaned up")

    before = asyncio.all_tasks()
    caller = asyncio.ensure_future(shielded(forever()))
    await asyncio.sleep(0.01)
    (work,) = asyncio.all_tasks() - before - {caller}
    work.cancel()  # as a shutdown cancels every task
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert log == ["cleaned up"] and work.cancelled()
