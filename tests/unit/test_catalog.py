from __future__ import annotations

from decimal import Decimal

import pytest

from domain.catalog import Capability, Catalog, Model


def _model(id_: str, *aliases: str, **overrides: object) -> Model:
    fields: dict[str, object] = {
        "id": id_,
        "family": "f",
        "price_in": Decimal(1),
        "price_out": Decimal(2),
        "context_window": 1000,
        "max_output": 100,
        "aliases": aliases,
    }
    fields.update(overrides)
    return Model(**fields)  # type: ignore[arg-type]


def test_find_by_id_and_alias() -> None:
    catalog = Catalog(models=(_model("THUDM/glm-4-plus", "glm-4-plus"),))
    assert catalog.find("glm-4-plus") is catalog.find("THUDM/glm-4-plus")
    assert catalog.find("nope") is None


def test_duplicate_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="used twice"):
        Catalog(models=(_model("a", "x"), _model("b", "x")))


def test_negative_prices_and_oversized_output_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        _model("a", price_in=Decimal(-1))
    with pytest.raises(ValueError, match="context window"):
        _model("a", max_output=2000)


def test_fit_and_capabilities() -> None:
    model = _model("a", capabilities=frozenset({Capability.TEXT, Capability.VISION}))
    assert model.fits(900, 100) and not model.fits(901, 100)
    assert model.can({Capability.VISION}) and not model.can({Capability.AUDIO})
