"""freeze_startup_heap: start-up garbage is collected first, what survives leaves the collector."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from infra.heap import freeze_startup_heap


class Node:
    def __init__(self) -> None:
        self.partner: Node | None = None


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test session keeps a normal collector


def _tracked(obj: object) -> bool:
    """Whether the collector walks `obj` (frozen objects are in no generation)."""
    return any(candidate is obj for candidate in gc.get_objects())


def test_cyclic_garbage_is_collected_before_the_freeze() -> None:
    first, second = Node(), Node()
    first.partner, second.partner = second, first
    garbage = weakref.ref(first)
    del first, second

    freeze_startup_heap()

    assert garbage() is None


def test_objects_alive_at_start_up_are_no_longer_walked() -> None:
    kept = Node()
    assert _tracked(kept)

    frozen = freeze_startup_heap()

    assert frozen == gc.get_freeze_count() > 0
    assert not _tracked(kept)
    assert _tracked(Node())  # what is allocated later is collected as usual
