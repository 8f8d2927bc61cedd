"""The one selection rule (`matches`) and asset validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from domains.assets.directory import InMemoryAssetDirectory, matches, validate_asset
from domains.assets.importer import load_inventory
from pipeline.contracts import AssetFilter, AssetRef
from pipeline.errors import InvalidRequest

INVENTORY = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "inventory.yaml"


@pytest.fixture(scope="module")
def directory() -> InMemoryAssetDirectory:
    return InMemoryAssetDirectory(load_inventory(INVENTORY))


async def _names(directory: InMemoryAssetDirectory, **selector: object) -> list[str]:
    return [a.name for a in await directory.query(AssetFilter.model_validate(selector))]


async def test_fields_combine_with_and_values_with_or(directory: InMemoryAssetDirectory) -> None:
    assert await _names(directory, types=["web_server"], locations=["London"]) == ["web-03"]
    assert await _names(directory, environments=["staging"], os=["windows", "LINUX"]) == [
        "api-stg-01",
        "db-stg-01",
        "web-04",
        "win-stg-01",
    ]


async def test_names_match_addresses_and_exclude_removes(directory: InMemoryAssetDirectory) -> None:
    assert await _names(directory, names=["WEB-01", "192.0.2.12"]) == ["web-01", "web-02"]
    assert await _names(directory, types=["web_server"], exclude=["web-01", "192.0.2.13"]) == [
        "web-02",
        "web-04",
    ]


async def test_servers_means_the_four_server_types(directory: InMemoryAssetDirectory) -> None:
    servers = await _names(directory, types=["servers"], locations=["london"])
    assert servers == ["api-02", "db-02", "web-03", "win-app-01", "win-app-02", "win-dc-01"]


async def test_tags_must_all_match_and_services_any(directory: InMemoryAssetDirectory) -> None:
    assert await _names(directory, tags={"team": "platform", "role": "cache"}) == ["cache-01"]
    assert await _names(directory, tags={"team": "nobody"}) == []
    assert await _names(directory, services=["redis"], environments=["production"]) == [
        "api-01",
        "api-02",
        "cache-01",
    ]


async def test_empty_filter_selects_everything(directory: InMemoryAssetDirectory) -> None:
    assert len(await directory.query(AssetFilter())) == len(await directory.snapshot()) == 18


def test_matches_is_case_insensitive() -> None:
    asset = AssetRef(name="db-01", address="10.0.0.1", type="db_server", tags={"Engine": "PostgreSQL"})
    assert matches(asset, AssetFilter(tags={"engine": "postgresql"}, types=("DB_SERVER",)))
    assert not matches(asset, AssetFilter(tags={"engine": "mysql"}))


def test_validate_asset_normalises_and_refuses() -> None:
    asset = validate_asset(AssetRef(name=" Web-09 ", address=" 127.0.0.9 ", services=("a", "a", " ")))
    assert (asset.name, asset.address, asset.services) == ("web-09", "127.0.0.9", ("a",))
    for bad, problem in [
        (AssetRef(name="bad name", address="127.0.0.1"), "name"),
        (AssetRef(name="ok", address=""), "address missing"),
        (AssetRef(name="ok", address="not an address"), "neither"),
        (AssetRef(name="ok", address="::1", type="web server"), "type"),
        (AssetRef(name="ok", address="::1", tags={"bad key": "x"}), "tag key"),
    ]:
        with pytest.raises(InvalidRequest, match=problem):
            validate_asset(bad)
