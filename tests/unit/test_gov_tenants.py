"""Tenants: keys are known only by their sha256; open mode only with no tenant configured."""

from __future__ import annotations

import pytest

from domain.errors import AuthenticationFailed
from domain.tenants import OPEN_TENANT, Tenant, TenantDirectory, feature_tag, hash_key

SEARCH = Tenant(name="search")
BILLING = Tenant(name="billing", admin=True)


def directory() -> TenantDirectory:
    return TenantDirectory.of(
        [(SEARCH, [hash_key("sk-search-1"), hash_key("sk-search-2")]), (BILLING, [hash_key("b")])]
    )


def test_hash_key_is_the_sha256_hex_of_the_key() -> None:
    # printf %s abc | sha256sum
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_open_mode_accepts_anyone_as_the_default_tenant() -> None:
    open_directory = TenantDirectory()
    assert open_directory.open_mode
    assert open_directory.identify(None) is OPEN_TENANT
    assert open_directory.identify("Bearer whatever") is OPEN_TENANT
    assert OPEN_TENANT.admin


@pytest.mark.parametrize(
    ("header", "tenant"),
    [
        ("Bearer sk-search-1", "search"),
        ("bearer sk-search-2", "search"),
        ("  Bearer   b  ", "billing"),
    ],
)
def test_a_known_key_identifies_its_tenant(header: str, tenant: str) -> None:
    assert directory().identify(header).name == tenant


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic sk-search-1", "sk-1"])
def test_a_missing_key_is_refused(header: str | None) -> None:
    with pytest.raises(AuthenticationFailed, match="didn't provide an API key"):
        directory().identify(header)


def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(AuthenticationFailed, match="Incorrect API key") as caught:
        directory().identify("Bearer sk-nope")
    assert caught.value.code == "invalid_api_key"


def test_configuration_mistakes_are_refused() -> None:
    with pytest.raises(ValueError, match="share a key"):
        TenantDirectory.of([(SEARCH, [hash_key("k")]), (BILLING, [hash_key("k")])])
    with pytest.raises(ValueError, match="64 lowercase hex"):
        TenantDirectory.of([(SEARCH, ["not-a-hash"])])
    with pytest.raises(ValueError, match="without any key: search"):
        TenantDirectory.of([(SEARCH, [])])
    with pytest.raises(ValueError, match="configured twice"):
        TenantDirectory.of([(SEARCH, [hash_key("a")]), (SEARCH, [hash_key("b")])])
    with pytest.raises(ValueError, match="tenant name"):
        Tenant(name="has space")


def test_hashes_are_accepted_in_upper_case_with_whitespace() -> None:
    digest = hash_key("k").upper()
    assert TenantDirectory.of([(SEARCH, [f" {digest}\n"])]).identify("Bearer k") is SEARCH


@pytest.mark.parametrize(
    ("header", "tag"),
    [
        (None, "untagged"),
        ("  ", "untagged"),
        ("search/rerank", "search/rerank"),
        ("weird tag:é", "weird_tag__"),
        ("x" * 100, "x" * 64),
    ],
)
def test_feature_tags_are_made_safe(header: str | None, tag: str) -> None:
    assert feature_tag(header) == tag
