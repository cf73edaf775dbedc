"""`SpendStore` on Redis, shared by every gateway process.

Balances: one hash per budget line (`committed`, `reserved`, integer ledger units). `reserve` is
one Lua script (check every hard limit, then reserve on every line, or do nothing), so concurrent
processes can never reserve past a hard limit. `settle` is one MULTI/EXEC: release the
reservation, commit the actual cost to the lines, and add the call to that day's ledger hash,
whose fields are `tenant<US>dimension<US>value<US>metric`.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from adapters.redis_support import SEPARATOR, unavailable_on_error
from domain.budgets import Balance, BudgetLine
from domain.governance_ports import ReserveOutcome
from domain.ledger import SpendRecord, SpendTotals, to_units
from domain.spend_report import SpendRow
from domain.spend_windows import Period

DAY_LINE_TTL_S = 3 * 86_400
MONTH_LINE_TTL_S = 63 * 86_400
_METRICS = ("requests", "input_tokens", "output_tokens", "cost_units", "baseline_units")

# KEYS: line hashes. ARGV: amount, then per line its hard limit ("-" for none), then its TTL.
# Returns ok (1/0) and every line's balance as it was before, as exact decimal strings.
# Lua numbers are doubles: the check is exact up to 2^53 units (about $900,000 per line);
# the stored counters themselves are exact 64-bit integers (HINCRBY).
_RESERVE = """
local n = #KEYS
local amount = tonumber(ARGV[1])
local ok = 1
local out = {}
for i = 1, n do
  local held = redis.call('HMGET', KEYS[i], 'committed', 'reserved')
  local committed, reserved = held[1] or '0', held[2] or '0'
  out[2 * i - 1], out[2 * i] = committed, reserved
  local hard = ARGV[1 + i]
  if hard ~= '-' and tonumber(committed) + tonumber(reserved) + amount > tonumber(hard) then
    ok = 0
  end
end
if ok == 1 and amount ~= 0 then
  for i = 1, n do
    redis.call('HINCRBY', KEYS[i], 'reserved', ARGV[1])
    redis.call('EXPIRE', KEYS[i], ARGV[1 + n + i])
  end
end
table.insert(out, 1, ok)
return out
"""


class RedisSpendStore:
    def __init__(
        self,
        *,
        client: aioredis.Redis,
        prefix: str = "tiergate",
        timeout_s: float = 0.5,
        retention_days: int = 400,
    ) -> None:
        self.client = client
        self._prefix = prefix
        self._timeout_s = timeout_s
        self._ledger_ttl_s = retention_days * 86_400
        self._reserve = client.register_script(_RESERVE)

    async def balances(self, lines: Sequence[BudgetLine]) -> list[Balance]:
        async with (
            unavailable_on_error("spend store", "balances", self._timeout_s),
            self.client.pipeline(transaction=False) as pipe,
        ):
            for line in lines:
                pipe.hmget(self._line_key(line), "committed", "reserved")
            held = await pipe.execute()
        return [Balance(int(c or 0), int(r or 0)) for c, r in held]

    async def reserve(self, lines: Sequence[BudgetLine], amount_units: int) -> ReserveOutcome:
        hard = ["-" if (limit := line.hard_units) is None else str(limit) for line in lines]
        ttls = [str(_line_ttl(line)) for line in lines]
        async with unavailable_on_error("spend store", "reserve", self._timeout_s):
            reply = await self._reserve(
                keys=[self._line_key(line) for line in lines],
                args=[str(amount_units), *hard, *ttls],
            )
        ok, *held = reply
        reserved = int(ok) == 1
        added = amount_units if reserved else 0
        balances = [Balance(int(held[i]), int(held[i + 1]) + added) for i in range(0, len(held), 2)]
        return ReserveOutcome(reserved=reserved, balances=balances)

    async def settle(
        self, lines: Sequence[BudgetLine], reserved_units: int, record: SpendRecord | None
    ) -> None:
        spent = 0 if record is None else to_units(record.cost.usd)
        if not reserved_units and record is None:
            return
        async with (
            unavailable_on_error("spend store", "settle", self._timeout_s),
            self.client.pipeline(transaction=True) as pipe,
        ):
            for line in lines:
                key = self._line_key(line)
                if reserved_units:
                    pipe.hincrby(key, "reserved", -reserved_units)
                if spent:
                    pipe.hincrby(key, "committed", spent)
                pipe.expire(key, _line_ttl(line))
            if record is not None:
                self._add_to_ledger(pipe, record)
            await pipe.execute()

    async def rows(self, days: Sequence[str], tenant: str | None) -> list[SpendRow]:
        async with (
            unavailable_on_error("spend store", "rows", self._timeout_s * 4),
            self.client.pipeline(transaction=False) as pipe,
        ):
            for day in days:
                pipe.hgetall(self._ledger_key(day))
            hashes = await pipe.execute()
        rows: list[SpendRow] = []
        for day, fields in zip(days, hashes, strict=True):
            rows.extend(_rows_of(day, fields, tenant))
        return rows

    async def ping(self) -> None:
        async with unavailable_on_error("spend store", "ping", self._timeout_s):
            await self.client.ping()

    def _add_to_ledger(self, pipe: aioredis.client.Pipeline, record: SpendRecord) -> None:
        key = self._ledger_key(record.day)
        totals = record.totals
        for dimension, value in record.dimensions():
            group = SEPARATOR.join((record.tenant, dimension, value))
            for metric in _METRICS:
                amount = getattr(totals, metric)
                if amount:
                    pipe.hincrby(key, f"{group}{SEPARATOR}{metric}", amount)
        pipe.expire(key, self._ledger_ttl_s)

    def _line_key(self, line: BudgetLine) -> str:
        return f"{self._prefix}:budget:{line.key}"

    def _ledger_key(self, day: str) -> str:
        return f"{self._prefix}:spend:{day}"


def _line_ttl(line: BudgetLine) -> int:
    return DAY_LINE_TTL_S if line.window.period is Period.DAY else MONTH_LINE_TTL_S


def _rows_of(day: str, fields: dict[str, str], tenant: str | None) -> list[SpendRow]:
    groups: dict[tuple[str, str, str], dict[str, int]] = {}
    for field, amount in fields.items():
        parts = field.split(SEPARATOR)
        if len(parts) != 4 or parts[3] not in _METRICS:
            continue
        group_tenant, dimension, value, metric = parts
        if tenant is None or group_tenant == tenant:
            groups.setdefault((group_tenant, dimension, value), {})[metric] = int(amount)
    return [
        SpendRow(day, group_tenant, dimension, value, SpendTotals(**metrics))
        for (group_tenant, dimension, value), metrics in groups.items()
    ]
