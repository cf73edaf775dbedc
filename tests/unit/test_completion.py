from __future__ import annotations

import pytest

from domain.completion import CompletionSummary, is_empty_completion
from domain.pricing import Usage


@pytest.mark.parametrize(
    ("text", "tool", "finish", "empty"),
    [
        ("", False, "stop", True),
        ("   \n", False, None, True),
        ("hello", False, "stop", False),
        ("", True, "tool_calls", False),
        ("", False, "length", False),
        ("", False, "content_filter", False),
    ],
)
def test_empty_completion_rule(text: str, tool: bool, finish: str | None, empty: bool) -> None:
    summary = CompletionSummary(text=text, has_tool_call=tool, finish_reason=finish, usage=Usage())
    assert is_empty_completion(summary) is empty
