from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import Model
from domain.ledger import to_units
from domain.pricing import Usage, cost_of, format_usd, price, worst_case_price

FLASH = Model(
    id="deepseek-ai/DeepSeek-V4-Flash",
    family="deepseek",
    price_in=Decimal("0.27"),
    price_out=Decimal("1.10"),
    context_window=131072,
    max_output=8192,
)
GPT4O = Model(
    id="openai/gpt-4o",
    family="openai",
    price_in=Decimal("2.50"),
    price_out=Decimal("10.00"),
    context_window=131072,
    max_output=16384,
)


def test_price_is_tokens_times_price_per_million() -> None:
    assert price(FLASH, Usage(input_tokens=1_000_000, output_tokens=0)) == Decimal("0.27")
    assert price(FLASH, Usage(input_tokens=1000, output_tokens=500)) == Decimal("0.00082")


def test_cost_reports_baseline_and_saving() -> None:
    cost = cost_of(FLASH, Usage(input_tokens=1000, output_tokens=500), baseline=GPT4O)
    assert cost.baseline_usd == Decimal("0.0075")
    assert cost.saving_usd == Decimal("0.0075") - Decimal("0.00082")


def test_worst_case_price_counts_the_full_output_allowance() -> None:
    assert worst_case_price(GPT4O, 1000, 1000) == Decimal("0.0125")


def test_format_usd_is_fixed_point() -> None:
    assert format_usd(Decimal("1E-7")) == "0.0000001000"


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.integers(0, 10**7), st.integers(0, 10**7))
def test_price_is_additive_over_usage(a_in: int, a_out: int, b_in: int, b_out: int) -> None:
    a, b = Usage(a_in, a_out), Usage(b_in, b_out)
    assert price(FLASH, a + b) == price(FLASH, a) + price(FLASH, b)
    assert price(FLASH, a) >= 0


@given(st.decimals(min_value=-10, max_value=10, places=14, allow_nan=False))
def test_ledger_units_round_as_the_headers_print(amount: Decimal) -> None:
    # Half-way cases included: 14 places leave four digits past the ledger's tenth.
    assert to_units(amount) == int(format_usd(amount).replace(".", ""))
