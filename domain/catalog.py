"""The model catalog: what each model costs, holds and can do."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Capability(StrEnum):
    TEXT = "text"
    VISION = "vision"
    AUDIO = "audio"
    TOOLS = "tools"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    family: str
    price_in: Decimal  # USD per 1M input tokens
    price_out: Decimal  # USD per 1M output tokens
    context_window: int
    max_output: int
    capabilities: frozenset[Capability] = frozenset({Capability.TEXT})
    aliases: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.price_in < 0 or self.price_out < 0:
            raise ValueError(f"model {self.id!r}: prices must not be negative")
        if not 0 < self.max_output <= self.context_window:
            raise ValueError(f"model {self.id!r}: max_output must be within the context window")

    def can(self, needed: Iterable[Capability]) -> bool:
        return self.capabilities.issuperset(needed)

    def fits(self, input_tokens: int, output_tokens: int) -> bool:
        return input_tokens + output_tokens <= self.context_window


@dataclass(frozen=True, slots=True)
class Catalog:
    models: tuple[Model, ...]
    _by_name: dict[str, Model] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Model] = {}
        for model in self.models:
            for name in (model.id, *model.aliases):
                if name in by_name:
                    raise ValueError(f"model name {name!r} is used twice in the catalog")
                by_name[name] = model
        object.__setattr__(self, "_by_name", by_name)

    def find(self, name: str) -> Model | None:
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)
