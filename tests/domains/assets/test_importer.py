"""Inventory import: YAML and CSV, one-line errors with line numbers, the demo inventory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import (
    InventoryError,
    demo_inventory,
    import_file,
    load_inventory,
    parse_csv,
    parse_yaml,
    seed_if_empty,
)
from pipeline.contracts import AssetFilter, AssetRef

HEADER = "name,address,type,os,environment,location,tags,services\n"


def test_csv_rows_become_assets() -> None:
    text = HEADER + "web-01,127.0.0.1,web_server,linux,production,frankfurt,role=web;team=shop,nginx;redis\n"
    text += "\nbare,localhost,,,,,,\n"
    web, bare = parse_csv(text)
    assert web == AssetRef(
        name="web-01",
        address="127.0.0.1",
        type="web_server",
        os="linux",
        environment="production",
        location="frankfurt",
        tags={"role": "web", "team": "shop"},
        services=("nginx", "redis"),
    )
    assert (bare.name, bare.type, bare.os, bare.tags, bare.services) == ("bare", "server", "linux", {}, ())


def test_csv_errors_name_file_and_line() -> None:
    text = HEADER + "\n".join(
        [
            "web-01,127.0.0.1,web_server,linux,production,fra,,nginx",  # line 2
            "web-02,,web_server,linux,production,fra,,",  # line 3: address missing
            "Bad Name,127.0.0.3,,,,,,",  # line 4
            "web-04,127.0.0.4,,,,,oops,",  # line 5: bad tag
            "web-01,127.0.0.5,,,,,,",  # line 6: duplicate
            "web-06,127.0.0.6,,,,,,,extra",  # line 7: too many values
        ]
    )
    with pytest.raises(InventoryError) as err:
        parse_csv(text, "inventory.csv")
    assert err.value.problems == [
        "inventory.csv:3: address missing",
        "inventory.csv:4: name 'Bad Name' is not valid (a-z, 0-9, '.', '_', '-'; max 63)",
        "inventory.csv:5: tag 'oops' is not key=value",
        "inventory.csv:6: name 'web-01' already used on line 2",
        "inventory.csv:7: more values than columns",
    ]


def test_csv_header_is_checked() -> None:
    with pytest.raises(InventoryError, match=r"^hosts.csv:1: unknown column 'host'"):
        parse_csv("host,address\nx,127.0.0.1\n", "hosts.csv")
    with pytest.raises(InventoryError, match=r"^hosts.csv:1: column 'address' missing"):
        parse_csv("name,type\nx,web_server\n", "hosts.csv")


def test_yaml_errors_name_file_and_line() -> None:
    text = "\n".join(
        [
            "assets:",
            "  - {name: web-01, address: 127.0.0.1}",  # 2
            "  - name: web-02",  # 3: address missing
            "    type: web_server",
            "  - {name: web-03, address: 127.0.0.3, colour: red}",  # 5
            "  - {name: web-04, address: 127.0.0.4, services: nginx}",  # 6: services not a list
            "  - just a string",  # 7
        ]
    )
    with pytest.raises(InventoryError) as err:
        parse_yaml(text, "inv.yaml")
    problems = err.value.problems
    assert problems[0] == "inv.yaml:3: address missing"
    assert problems[1].startswith("inv.yaml:5: unknown field 'colour'")
    assert problems[2].startswith("inv.yaml:6: services")
    assert problems[3] == "inv.yaml:7: an asset must be a mapping of fields"
    assert len(problems) == 4
    assert all("\n" not in p for p in problems)


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(InventoryError, match=r"^inv.yaml:\d+: not valid YAML"):
        parse_yaml("assets:\n  - {name: a, address: 127.0.0.1\n", "inv.yaml")


def test_yaml_scalars_are_coerced_to_strings() -> None:
    (asset,) = parse_yaml("- {name: n1, address: 127.0.0.1, tags: {port: 8080, tls: true}, location: 42}")
    assert asset.tags == {"port": "8080", "tls": "true"} and asset.location == "42"


def test_reference_inventory_loads() -> None:
    path = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "inventory.yaml"
    assets = load_inventory(path)
    assert len(assets) == 18 and assets[0].name == "web-01"


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "inventory.txt"
    path.write_text("x")
    with pytest.raises(InventoryError, match="unknown inventory format"):
        load_inventory(path)


def test_demo_inventory_is_loopback_only() -> None:
    assets = demo_inventory()
    assert {"localhost", "loopback-2"} <= {a.name for a in assets}
    assert all(a.address.startswith("127.") or a.address == "::1" for a in assets)
    assert len({a.type for a in assets}) > 1 and len({a.environment for a in assets}) > 1


class RecordingStore(InMemoryAssetDirectory):
    """An AssetStore stand-in that records what the importer writes."""

    def __init__(self, assets: Sequence[AssetRef] = ()) -> None:
        super().__init__(assets)
        self.imports: list[tuple[list[AssetRef], bool]] = []

    async def import_assets(self, assets: Sequence[AssetRef], *, replace: bool = False) -> int:
        self.imports.append((list(assets), replace))
        return len(assets)


async def test_seed_if_empty_only_seeds_an_empty_store() -> None:
    empty = RecordingStore()
    assert await seed_if_empty(empty) == len(demo_inventory())  # type: ignore[arg-type]
    full = RecordingStore(demo_inventory()[:1])
    assert await seed_if_empty(full) == 0  # type: ignore[arg-type]
    assert full.imports == [] and await full.query(AssetFilter()) != []


async def test_invalid_file_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text(HEADER + "ok,127.0.0.1,,,,,,\nbad,,,,,,,\n")
    store = RecordingStore()
    with pytest.raises(InventoryError, match=r"inventory\.csv:3: address missing"):
        await import_file(store, path)  # type: ignore[arg-type]
    assert store.imports == []


@pytest.mark.parametrize("address", ["10.0.0.300", "192.168.1", "256.1.1.1", "1.2.3.4.5"])
def test_a_mistyped_ip_address_is_refused_not_taken_for_a_host_name(address: str) -> None:
    with pytest.raises(InventoryError) as refused:
        parse_csv(f"name,address\nweb-01,127.0.0.1\nweb-02,{address}\n", "hosts.csv")
    assert refused.value.problems == [f"hosts.csv:3: web-02: address {address!r} is not a valid IP address"]


def test_host_names_with_numbers_and_real_addresses_stay_valid() -> None:
    text = "name,address\na,db-01.example.com\nb,10.0.0.30\nc,2001:db8::1\nd,3com.example\n"
    assert [a.address for a in parse_csv(text)] == [
        "db-01.example.com",
        "10.0.0.30",
        "2001:db8::1",
        "3com.example",
    ]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            'name,address,type\nweb-01,127.0.0.1,web_server\nweb-02,"127.0.0.2,web_server\nweb-03,127.0.0.3,x\n',
            3,
            "a quoted value is not closed",
        ),
        (
            'name,address,type\nweb-01,127.0.0.1,web_server\nweb-02,127.0.0.2,"web"server"\n',
            3,
            'a quote inside a quoted value must be doubled ("")',
        ),
    ],
)
def test_csv_quoting_errors_are_reported_on_the_row_they_break(text: str, line: int, problem: str) -> None:
    with pytest.raises(InventoryError) as refused:
        parse_csv(text, "hosts.csv")
    [reported] = refused.value.problems
    assert reported.startswith(f"hosts.csv:{line}: {problem}")


def test_a_quoted_value_spanning_lines_reports_later_rows_on_their_own_lines() -> None:
    text = 'name,address,tags\nweb-01,127.0.0.1,"role=web;\nteam=ops"\nweb-02,,\n'
    with pytest.raises(InventoryError) as refused:
        parse_csv(text, "hosts.csv")
    assert refused.value.problems == ["hosts.csv:4: address missing"]
