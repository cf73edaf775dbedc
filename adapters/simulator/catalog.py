"""The simulator's built-in model list, and its `/v1/models` body."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from domain.catalog import Capability, Catalog, Model

_ALL = frozenset({Capability.TEXT, Capability.TOOLS, Capability.JSON})
_VISION = _ALL | {Capability.VISION}


def default_sim_catalog() -> Catalog:
    """A small catalog for running the simulator alone (the gateway passes its own)."""

    def model(
        id_: str,
        family: str,
        price_in: str,
        price_out: str,
        context_k: int,
        capabilities: frozenset[Capability] = _ALL,
    ) -> Model:
        return Model(
            id=id_,
            family=family,
            price_in=Decimal(price_in),
            price_out=Decimal(price_out),
            context_window=context_k * 1024,
            max_output=8192,
            capabilities=capabilities,
        )

    return Catalog(
        models=(
            model("deepseek-ai/DeepSeek-V4-Flash", "deepseek", "0.10", "0.40", 128),
            model("deepseek-ai/DeepSeek-V4-Pro", "deepseek", "0.55", "2.20", 200),
            model("Qwen/Qwen3-32B", "qwen", "0.10", "0.30", 32),
            model("Qwen/Qwen3-8B", "qwen", "0.03", "0.09", 32),
            model("THUDM/glm-4-plus", "glm", "0.70", "0.70", 128),
            model("openai/gpt-4o", "openai", "2.50", "10.00", 128, _VISION),
        )
    )


class _ModelEntry(msgspec.Struct):
    id: str
    owned_by: str
    context_length: int
    object: str = "model"
    created: int = 0


class _ModelList(msgspec.Struct):
    data: list[_ModelEntry]
    object: str = "list"


def models_body(catalog: Catalog) -> bytes:
    entries = [_ModelEntry(m.id, m.family, m.context_window) for m in catalog]
    return msgspec.json.encode(_ModelList(data=entries))
