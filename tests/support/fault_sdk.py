"""The official openai SDK pointed at a fault stack's gateway (no SDK retries: we test ours)."""

from __future__ import annotations

from typing import cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from tests.support.fault_client import MESSAGES
from tests.support.fault_stack import FaultStack

SDK_MESSAGES = cast("list[ChatCompletionMessageParam]", MESSAGES)


def sdk(stack: FaultStack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key="caller", max_retries=0)
