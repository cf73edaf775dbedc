"""GET /v1/models."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from app.model_listing import ModelList


class ModelsController(Controller):
    path = "/v1/models"
    tags = ["models"]

    @get(summary="List catalog models and route names")
    async def list_models(self, model_list: NamedDependency[ModelList]) -> ModelList:
        return model_list
