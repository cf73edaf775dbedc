"""A served gateway freezes its start-up heap only when asked, and serves either way."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import pytest

from app.container import Container
from infra.config_loader import load_settings
from tests.support.gateway_server import running_gateway

CHAT = "/v1/chat/completions"
BODY = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def _container() -> Container:
    return Container(settings=load_settings(env={"TIERGATE_UPSTREAM_MODE": "simulated"}))


@pytest.mark.parametrize("freeze_heap", [True, False])
def test_the_heap_is_frozen_after_start_up_only_when_asked(freeze_heap: bool) -> None:
    with running_gateway(_container(), freeze_heap=freeze_heap) as gateway:
        frozen = gc.get_freeze_count()
        reply = httpx.post(gateway.base_url + CHAT, json=BODY, timeout=10.0)

    assert reply.status_code == 200
    assert (frozen > 0) is freeze_heap
