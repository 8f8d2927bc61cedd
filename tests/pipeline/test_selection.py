"""The one target-selection rule (`pipeline.selection`), and that every place uses it.

The directory, stage C and the understanding layer's inventory view must pick the same
assets for the same filter; the posting-list index must agree with the plain scan.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import load_inventory
from domains.catalog import build_registry
from pipeline.contracts import AssetFilter, AssetRef, Intent, Interpretation, ToolCall, Understanding
from pipeline.nlu import DeterministicUnderstander
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.targeting import matching
from pipeline.selection import AssetIndex, matches, select
from pipeline.stages.plan import build_plan

INVENTORY = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "inventory.yaml"
ASSETS = tuple(load_inventory(INVENTORY))
REGISTRY = build_registry()
STAGING_SERVERS = ["api-stg-01", "db-stg-01", "web-04", "win-stg-01"]


def names(assets: object) -> list[str]:
    assert isinstance(assets, list | tuple)
    return [a.name for a in assets]


async def everywhere(selector: AssetFilter) -> dict[str, list[str]]:
    """What each consumer of the rule selects for `selector`."""
    directory = InMemoryAssetDirectory(ASSETS)
    call = ToolCall(tool="assets.query", selector=selector)
    understood = Understanding(interpretation=Interpretation(intent=Intent.QUERY), calls=(call,))
    plan = build_plan(understood, REGISTRY, ASSETS)
    return {
        "scan": names(select(ASSETS, selector)),
        "index": names(AssetIndex.build(ASSETS).select(selector)),
        "directory": names(await directory.query(selector)),
        "stage C": sorted(plan.steps[0].target_names),
        "understanding": names(matching(selector, InventoryIndex.build(ASSETS))),
    }


SELECTORS = [
    (AssetFilter(types=("server",), environments=("staging",)), STAGING_SERVERS),
    (AssetFilter(types=("Servers",), environments=("STAGING",)), STAGING_SERVERS),
    (AssetFilter(types=("web_server",), locations=("London",)), ["web-03"]),
    (
        AssetFilter(environments=("staging",), os=("windows", "LINUX")),
        ["api-stg-01", "db-stg-01", "web-04", "win-stg-01"],
    ),
    (AssetFilter(types=("web_server",), exclude=("web-01", "192.0.2.13")), ["web-02", "web-04"]),
    (
        AssetFilter(types=("servers",), locations=("london",)),
        ["api-02", "db-02", "web-03", "win-app-01", "win-app-02", "win-dc-01"],
    ),
    (AssetFilter(tags={"team": "platform", "role": "cache"}), ["cache-01"]),
    (AssetFilter(tags={"Team": "nobody"}), []),
    (AssetFilter(services=("REDIS",), environments=("production",)), ["api-01", "api-02", "cache-01"]),
]


@pytest.mark.parametrize(("selector", "expected"), SELECTORS)
async def test_every_consumer_selects_the_same_assets(selector: AssetFilter, expected: list[str]) -> None:
    found = await everywhere(selector)
    assert all(got == expected for got in found.values()), found


async def test_names_match_addresses() -> None:
    found = await everywhere(AssetFilter(names=("WEB-01", "192.0.2.12")))
    assert all(got == ["web-01", "web-02"] for got in found.values()), found


async def test_an_empty_filter_selects_everything() -> None:
    assert len(await InMemoryAssetDirectory(ASSETS).query(AssetFilter())) == len(ASSETS) == 18


async def test_a_sentence_selects_what_the_directory_selects() -> None:
    """The understanding layer's reading of 'staging servers' lands on the directory's answer."""
    understood = DeterministicUnderstander(REGISTRY).understand("ping all staging servers", ASSETS)
    plan = build_plan(understood, REGISTRY, ASSETS)
    assert plan.outcome == "plan", plan.message
    assert sorted(plan.steps[0].target_names) == STAGING_SERVERS


def test_other_inventories_servers_are_their_server_types() -> None:
    mail = AssetRef(name="mx-1", address="10.1.0.1", type="mail_server")
    switch = AssetRef(name="sw-1", address="10.1.0.2", type="switch")
    assert matches(mail, AssetFilter(types=("servers",)))
    assert not matches(switch, AssetFilter(types=("servers",)))
    assert names(AssetIndex.build([mail, switch]).select(AssetFilter(types=("server",)))) == ["mx-1"]


def test_the_index_agrees_with_the_scan_on_random_filters() -> None:
    rng = random.Random(14)
    assets = [_random_asset(rng, i) for i in range(400)]
    index = AssetIndex.build(assets)
    for _ in range(500):
        selector = _random_filter(rng, assets)
        assert index.select(selector) == select(assets, selector), selector


def test_the_index_is_kept_per_snapshot() -> None:
    assert AssetIndex.of(ASSETS) is AssetIndex.of(ASSETS)
    other = tuple(ASSETS[:3])
    assert AssetIndex.of(other) is not AssetIndex.of(ASSETS)


_TYPES = ("web_server", "db_server", "switch", "mail_server", "Firewall")
_VALUES = ("a", "B", "c", "")


def _random_asset(rng: random.Random, i: int) -> AssetRef:
    return AssetRef(
        name=f"h-{i:03d}",
        address=f"10.0.{i // 250}.{i % 250}",
        type=rng.choice(_TYPES),
        os=rng.choice(("linux", "Windows")),
        environment=rng.choice(_VALUES),
        location=rng.choice(_VALUES),
        tags={k: rng.choice(_VALUES) for k in rng.sample(("team", "Role", "tier"), rng.randint(0, 2))},
        services=tuple(rng.sample(("nginx", "Redis", "sshd"), rng.randint(0, 2))),
    )


def _random_filter(rng: random.Random, assets: list[AssetRef]) -> AssetFilter:
    def some(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.swapcase() if rng.random() < 0.3 else v for v in rng.sample(values, rng.randint(0, 2)))

    keys = [a.name for a in rng.sample(assets, 3)] + [assets[0].address.upper()]
    return AssetFilter(
        names=tuple(rng.sample(keys, rng.randint(0, 2))) if rng.random() < 0.2 else (),
        types=some((*_TYPES, "servers", "server")),
        os=some(("linux", "windows")),
        environments=some(_VALUES),
        locations=some(_VALUES),
        tags={rng.choice(("team", "role")): rng.choice(_VALUES)} if rng.random() < 0.3 else {},
        services=some(("nginx", "redis", "sshd")),
        exclude=tuple(rng.sample(keys, 1)) if rng.random() < 0.2 else (),
    )
