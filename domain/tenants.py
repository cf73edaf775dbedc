"""Tenants: internal services, identified by API keys the gateway stores only as sha256 hashes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from domain.budgets import UNLIMITED, Budget
from domain.errors import AuthenticationFailed
from domain.rate_limits import NO_RATE_LIMIT, RateLimit

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_KEY_HASH = re.compile(r"[0-9a-f]{64}")
_FEATURE_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]")
MAX_FEATURE_CHARS = 64
UNTAGGED = "untagged"


@dataclass(frozen=True, slots=True)
class Tenant:
    name: str
    budget: Budget = UNLIMITED
    feature_budgets: Mapping[str, Budget] = field(default_factory=dict, hash=False)
    rate_limit: RateLimit = NO_RATE_LIMIT
    admin: bool = False  # may read every tenant's spend and restore demoted models

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(
                f"tenant name {self.name!r}: use letters, digits, '.', '_' or '-' (max 64)"
            )

    def budget_for(self, feature: str) -> Budget:
        return self.feature_budgets.get(feature, UNLIMITED)


OPEN_TENANT = Tenant(name="default", admin=True)
"""Who every caller is when no tenant is configured (open mode)."""


def hash_key(key: str) -> str:
    """The form keys are configured in: `printf %s "$KEY" | sha256sum`."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def feature_tag(header: str | None) -> str:
    """The `x-tiergate-feature` tag as spend is attributed: safe characters, at most 64 of them."""
    return _safe_tag((header or "").strip()[:MAX_FEATURE_CHARS])


# Asked twice per call, and callers send a handful of distinct tags. Keyed by the cut tag, not
# the header: a memo of whole header values would let a caller fill memory with long ones.
@lru_cache(maxsize=4096)
def _safe_tag(tag: str) -> str:
    return _FEATURE_UNSAFE.sub("_", tag) or UNTAGGED


@dataclass(frozen=True, slots=True)
class TenantDirectory:
    """Key hash -> tenant. With no tenant at all the gateway runs open: everyone is `default`."""

    tenants: tuple[Tenant, ...] = ()
    key_hashes: Mapping[str, str] = field(default_factory=dict)  # sha256 hex -> tenant name
    _by_name: dict[str, Tenant] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Tenant] = {}
        for tenant in self.tenants:
            if tenant.name in by_name:
                raise ValueError(f"tenant {tenant.name!r} is configured twice")
            by_name[tenant.name] = tenant
        for digest, name in self.key_hashes.items():
            if not _KEY_HASH.fullmatch(digest):
                raise ValueError(f"tenant {name!r}: a key hash must be 64 lowercase hex digits")
            if name not in by_name:
                raise ValueError(f"a key hash names the unknown tenant {name!r}")
        keyless = sorted(set(by_name) - set(self.key_hashes.values()))
        if keyless:
            raise ValueError(f"tenants without any key: {', '.join(keyless)}")
        object.__setattr__(self, "_by_name", by_name)

    @classmethod
    def of(cls, entries: Iterable[tuple[Tenant, Iterable[str]]]) -> TenantDirectory:
        """Tenants with their key hashes; a hash shared by two tenants is refused."""
        tenants: list[Tenant] = []
        hashes: dict[str, str] = {}
        for tenant, digests in entries:
            tenants.append(tenant)
            for digest in digests:
                digest = digest.strip().lower()
                if hashes.setdefault(digest, tenant.name) != tenant.name:
                    raise ValueError(f"tenants {hashes[digest]!r} and {tenant.name!r} share a key")
        return cls(tenants=tuple(tenants), key_hashes=hashes)

    @property
    def open_mode(self) -> bool:
        return not self.tenants

    def find(self, name: str) -> Tenant | None:
        return self._by_name.get(name)

    def identify(self, authorization: str | None) -> Tenant:
        """The tenant behind `Authorization: Bearer <key>`; AuthenticationFailed if none."""
        if self.open_mode:
            return OPEN_TENANT
        key = _bearer_key(authorization)
        if key is None:
            raise AuthenticationFailed(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."
            )
        name = self.key_hashes.get(hash_key(key))
        if name is None:
            raise AuthenticationFailed("Incorrect API key provided.")
        return self._by_name[name]


def _bearer_key(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return None
    return key
