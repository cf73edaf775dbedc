"""Every span attribute name tiergate writes, in one place: the GenAI conventions still move.

Names follow the OpenTelemetry GenAI semantic conventions (`gen_ai.*`, development status) and
HTTP conventions (`http.*`, `url.*`); `tiergate.*` are the gateway's own. Prompts, completions,
headers and API keys are never attributes.
"""

from __future__ import annotations

from typing import Final

# GenAI semantic conventions (CLIENT span per upstream attempt).
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
CHAT_OPERATION: Final = "chat"

# General and HTTP semantic conventions.
ERROR_TYPE: Final = "error.type"
HTTP_REQUEST_METHOD: Final = "http.request.method"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
HTTP_ROUTE: Final = "http.route"
URL_PATH: Final = "url.path"

# tiergate's own.
REQUEST_ID: Final = "tiergate.request_id"
ROUTE: Final = "tiergate.route"
TIER: Final = "tiergate.tier"
REASON: Final = "tiergate.reason"
COST_USD: Final = "tiergate.cost_usd"
BASELINE_COST_USD: Final = "tiergate.baseline_cost_usd"
CACHE: Final = "tiergate.cache"
ATTEMPT: Final = "tiergate.attempt"  # CLIENT: 1-based try of this candidate model
ATTEMPTS: Final = "tiergate.attempts"  # SERVER: upstream attempts the request made in all
FALLBACK: Final = "tiergate.fallback"  # not the plan's first candidate (SERVER: the answer's)
MODEL: Final = "tiergate.model"  # SERVER: the catalog model that answered
