"""A simulator core that counts each request's marker and can cut streams before any content."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import msgspec

from adapters.simulator import FaultSpec, SimulatorCore
from adapters.simulator.faults import FaultKind
from adapters.simulator.outcomes import Outcome, StreamReply


class _Tagged(msgspec.Struct):
    model: str = ""
    user: str = ""


_tagged = msgspec.json.Decoder(_Tagged)


class InstrumentedCore(SimulatorCore):
    """`markers` counts chat requests by their `user` field (the caller's unique marker);
    `injected` counts the faults drawn, by kind ("429", "reset", "empty"...).

    `cut_before_content(model, times)` drops the next `times` streams for `model` right after
    the role chunk: HTTP 200 and an SSE event have gone out, but no content yet. (The fault
    book's `cut` always sends some content first.)
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.markers: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._early_cuts: Counter[str] = Counter()

    def cut_before_content(self, model: str, times: int = 1) -> None:
        self._early_cuts[model] += times

    def chat(self, body: bytes, *, upstream: str, stream: bool | None = None) -> Outcome:
        try:
            tagged = _tagged.decode(body)
        except msgspec.DecodeError:
            tagged = _Tagged()
        if tagged.user:
            self.markers[tagged.user] += 1
        outcome = super().chat(body, upstream=upstream, stream=stream)
        if isinstance(outcome, StreamReply) and self._early_cuts[tagged.model] > 0:
            self._early_cuts[tagged.model] -= 1
            self.injected["cut before content"] += 1
            return replace(outcome, cut_after=1)
        return outcome

    def _draw(self, spec: FaultSpec) -> tuple[FaultKind, int]:
        kind, status = super()._draw(spec)
        if kind is not FaultKind.NONE:
            self.injected[str(status) if kind is FaultKind.ERROR else kind.value] += 1
        return kind, status
