"""FaultScript: exact fault sequences ("the first two calls to model X fail, then it heals")."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

from adapters.simulator import FaultBook, FaultSpec, SimulatorCore

FAIL = 1.0  # a rate that always fires


class FaultScript:
    """Stands in for a simulator core's FaultBook: each request for a scripted model takes
    the next spec of its queue; once the queue is empty, `then` applies as usual."""

    def __init__(
        self, script: Mapping[str, Sequence[FaultSpec]], *, then: FaultBook | None = None
    ) -> None:
        self._queues = {model: deque(specs) for model, specs in script.items()}
        self._then = then or FaultBook()

    def resolve(self, *, model: str, upstream: str) -> FaultSpec:
        queue = self._queues.get(model)
        if queue:
            return queue.popleft()
        return self._then.resolve(model=model, upstream=upstream)

    def to_json(self) -> bytes:
        return self._then.to_json()

    def install(self, core: SimulatorCore) -> None:
        # The core only calls `resolve` (and the admin API `to_json`): duck typing suffices.
        core.faults = self  # type: ignore[assignment]


def failing(times: int, spec: FaultSpec) -> list[FaultSpec]:
    return [spec] * times


def status(code: int, *, retry_after_s: float | None = None) -> FaultSpec:
    return FaultSpec(errors={code: FAIL}, retry_after_s=retry_after_s)


RESET = FaultSpec(reset_rate=FAIL)
HANG = FaultSpec(hang_rate=FAIL)
EMPTY = FaultSpec(empty_rate=FAIL)
REASONING_ONLY = FaultSpec(reasoning_only_rate=FAIL)
CUT = FaultSpec(cut_rate=FAIL)
