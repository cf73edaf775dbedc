"""GET /v1/models payload: catalog models with prices and context windows in extra fields."""

from __future__ import annotations

import msgspec

from domain.catalog import Catalog, Model


class ModelEntry(msgspec.Struct, kw_only=True):
    id: str
    object: str = "model"
    created: int = 0
    owned_by: str
    kind: str = "model"
    aliases: list[str] = []
    family: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    capabilities: list[str] = []
    pricing: dict[str, str] | None = None
    description: str | None = None


class ModelList(msgspec.Struct, kw_only=True):
    object: str = "list"
    data: list[ModelEntry]


def model_list(catalog: Catalog, route_names: list[str]) -> ModelList:
    entries = [_model_entry(model) for model in catalog]
    entries += [ModelEntry(id=name, owned_by="tiergate", kind="route") for name in route_names]
    return ModelList(data=entries)


def _model_entry(model: Model) -> ModelEntry:
    return ModelEntry(
        id=model.id,
        owned_by=model.family,
        aliases=list(model.aliases),
        family=model.family,
        context_window=model.context_window,
        max_output_tokens=model.max_output,
        capabilities=sorted(model.capabilities),
        pricing={
            "prompt_usd_per_million": str(model.price_in),
            "completion_usd_per_million": str(model.price_out),
        },
        description=model.description or None,
    )
