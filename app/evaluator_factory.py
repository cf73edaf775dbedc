"""Building evaluator sampling from settings (composition root): off unless a rate is set."""

from __future__ import annotations

from collections.abc import AsyncIterator

from app.services.evaluator_sampling import EvaluatorSampler
from app.services.governance import GovernanceService
from domain.catalog import Catalog, Model
from domain.ports import ChatUpstream
from infra.config_loader import ConfigError
from infra.settings import Settings


async def open_evaluator(
    settings: Settings,
    catalog: Catalog,
    baseline: Model,
    upstream: ChatUpstream,
    governance: GovernanceService,
) -> AsyncIterator[EvaluatorSampler | None]:
    """A container Resource: the sampler, whose running evaluations are cancelled at shutdown."""
    quality = settings.governance.quality
    if quality.evaluator_sample_rate <= 0:
        yield None
        return
    model = catalog.find(quality.evaluator_model)
    if model is None:
        raise ConfigError(
            f"governance.quality.evaluator_model {quality.evaluator_model!r} is not in the catalog"
        )
    sampler = EvaluatorSampler(
        upstream=upstream,
        governance=governance,
        model=model,
        baseline=baseline,
        rate=quality.evaluator_sample_rate,
        max_in_flight=quality.evaluator_max_in_flight,
        timeout_s=quality.evaluator_timeout_s,
    )
    try:
        yield sampler
    finally:
        await sampler.aclose()
