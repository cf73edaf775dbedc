"""Turns the catalog section of the settings into the domain's Catalog."""

from __future__ import annotations

from domain.catalog import Capability, Catalog, Model
from infra.config_loader import ConfigError
from infra.settings import ModelSettings, Settings


def build_catalog(settings: Settings) -> Catalog:
    if not settings.catalog:
        raise ConfigError("the catalog is empty: configure at least one model")
    try:
        catalog = Catalog(models=tuple(_model(entry) for entry in settings.catalog))
    except ValueError as exc:
        raise ConfigError(f"invalid catalog: {exc}") from None
    if catalog.find(settings.baseline_model) is None:
        raise ConfigError(f"baseline_model {settings.baseline_model!r} is not in the catalog")
    return catalog


def baseline_model(settings: Settings, catalog: Catalog) -> Model:
    model = catalog.find(settings.baseline_model)
    if model is None:
        raise ConfigError(f"baseline_model {settings.baseline_model!r} is not in the catalog")
    return model


def _model(entry: ModelSettings) -> Model:
    return Model(
        id=entry.id,
        family=entry.family,
        price_in=entry.price_in,
        price_out=entry.price_out,
        context_window=entry.context_window,
        max_output=entry.max_output,
        capabilities=frozenset(Capability(name) for name in entry.capabilities),
        aliases=tuple(entry.aliases),
        description=entry.description,
    )
