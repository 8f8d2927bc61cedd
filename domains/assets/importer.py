"""Inventory import from YAML or CSV into validated `AssetRef` records, written in one transaction.

YAML: a mapping with an ``assets:`` list (or a bare list) of mappings with the fields
name, address, type, os, environment, location, tags (mapping), services (list).
CSV: a header with the columns name,address,type,os,environment,location,tags,services;
tags as ``k=v;k=v`` and services as ``a;b``.

Every problem is reported as one line ``<file>:<line>: <problem>``, all of them at
once (`InventoryError`); nothing is written unless the whole file is valid, and the
write itself is all-or-nothing (`AssetStore.import_assets`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domains.assets.directory import AssetStore, validate_asset, validation_problems
from pipeline import safe_yaml
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest

FIELDS = ("name", "address", "type", "os", "environment", "location", "tags", "services")
REQUIRED = ("name", "address")
DEMO_INVENTORY = "demo_inventory.yaml"


class InventoryError(InvalidRequest):
    """The file has problems; `problems` holds one ``file:line: problem`` string each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class _Item:
    line: int
    fields: dict[str, Any] | None  # None: the entry is not a mapping


def parse_yaml(text: str, source: str = "inventory.yaml") -> list[AssetRef]:
    """Validated assets of a YAML inventory, or InventoryError listing every problem."""
    return _validate(_yaml_items(text, source), source)


def parse_csv(text: str, source: str = "inventory.csv") -> list[AssetRef]:
    """Validated assets of a CSV inventory, or InventoryError listing every problem."""
    problems: list[str] = []
    items = list(_csv_items(text, source, problems))
    try:
        assets = _validate(items, source)
    except InventoryError as err:
        problems.extend(err.problems)
        assets = []
    if problems:
        raise InventoryError(sorted(problems, key=_line_of))
    return assets


def load_inventory(path: Path) -> list[AssetRef]:
    """Parse a .yaml/.yml or .csv inventory file."""
    try:
        text = safe_yaml.read_text(path)
    except safe_yaml.YamlRefused as err:
        raise InventoryError([str(err)]) from None
    except OSError as err:
        raise InventoryError([f"{path.name}: cannot read: {err.strerror}"]) from err
    except UnicodeDecodeError as err:
        raise InventoryError([f"{path.name}: not UTF-8 text"]) from err
    if path.suffix.lower() == ".csv":
        return parse_csv(text, path.name)
    if path.suffix.lower() in (".yaml", ".yml"):
        return parse_yaml(text, path.name)
    raise InventoryError([f"{path.name}: unknown inventory format (use .yaml, .yml or .csv)"])


async def import_file(store: AssetStore, path: Path, *, replace: bool = True) -> int:
    """Import a whole file in one transaction; returns how many assets were written."""
    return await store.import_assets(load_inventory(path), replace=replace)


def demo_inventory() -> list[AssetRef]:
    """The shipped demo inventory: loopback addresses only, safe to run against."""
    text = resources.files("domains.assets").joinpath(DEMO_INVENTORY).read_text(encoding="utf-8")
    return parse_yaml(text, DEMO_INVENTORY)


async def seed_if_empty(store: AssetStore) -> int:
    """Load the demo inventory into an empty store; returns how many assets were added."""
    if await store.snapshot():
        return 0
    return await store.import_assets(demo_inventory(), replace=False)


# --------------------------------------------------------------------------- validation


def _validate(items: Sequence[_Item], source: str) -> list[AssetRef]:
    problems: list[str] = []
    assets: list[AssetRef] = []
    first_line: dict[str, int] = {}
    for item in items:
        try:
            asset = _record(item.fields)
        except InvalidRequest as err:
            problems.extend(f"{source}:{item.line}: {line}" for line in str(err).splitlines())
            continue
        if asset.name in first_line:
            problems.append(
                f"{source}:{item.line}: name {asset.name!r} already used on line {first_line[asset.name]}"
            )
            continue
        first_line[asset.name] = item.line
        assets.append(asset)
    if problems:
        raise InventoryError(problems)
    return assets


def _record(fields: dict[str, Any] | None) -> AssetRef:
    if fields is None:
        raise InvalidRequest("an asset must be a mapping of fields")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidRequest(f"unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})")
    missing = [f for f in REQUIRED if fields.get(f) in (None, "")]
    if missing:
        raise InvalidRequest("\n".join(f"{f} missing" for f in missing))
    values = {k: v for k, v in fields.items() if v is not None and v != ""}
    if isinstance(values.get("tags"), dict):
        values["tags"] = {str(k): _scalar(v) for k, v in values["tags"].items()}
    for key in ("name", "address", "type", "os", "environment", "location"):
        if key in values and isinstance(values[key], int | float):
            values[key] = str(values[key])
    try:
        asset = AssetRef.model_validate(values)
    except ValidationError as err:
        raise InvalidRequest("\n".join(validation_problems(err))) from err
    return validate_asset(asset)


def _scalar(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else str(value) if value is not None else ""


def _line_of(problem: str) -> int:
    parts = problem.split(":", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


# --------------------------------------------------------------------------- YAML


def _yaml_items(text: str, source: str) -> list[_Item]:
    try:
        root, loader = safe_yaml.compose(text, source)
    except (safe_yaml.YamlRefused, yaml.YAMLError) as err:
        raise _yaml_problem(err, source) from err
    try:
        items = []
        for node in _asset_nodes(root, source):
            line = node.start_mark.line + 1
            if not isinstance(node, yaml.MappingNode):
                items.append(_Item(line, None))
                continue
            fields = loader.construct_mapping(node, deep=True)
            items.append(_Item(line, {str(k): v for k, v in fields.items()}))
        return items
    except yaml.YAMLError as err:
        raise _yaml_problem(err, source) from err
    finally:
        loader.dispose()


def _yaml_problem(err: Exception, source: str) -> InventoryError:
    if isinstance(err, safe_yaml.YamlRefused):
        return InventoryError([str(err)])
    if isinstance(err, yaml.MarkedYAMLError):
        line = err.problem_mark.line + 1 if err.problem_mark else 1
        return InventoryError([f"{source}:{line}: not valid YAML: {err.problem or err}"])
    return InventoryError([f"{source}:1: not valid YAML: {err}"])


def _asset_nodes(root: yaml.Node | None, source: str) -> list[yaml.Node]:
    if root is None:
        return []
    if isinstance(root, yaml.SequenceNode):
        return list(root.value)
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "assets":
                if isinstance(value, yaml.SequenceNode):
                    return list(value.value)
                if value.tag.endswith(":null"):
                    return []
                raise InventoryError([f"{source}:{value.start_mark.line + 1}: 'assets' must be a list"])
    raise InventoryError([f"{source}:{root.start_mark.line + 1}: expected a mapping with an 'assets' list"])


# --------------------------------------------------------------------------- CSV


def _csv_items(text: str, source: str, problems: list[str]) -> Iterator[_Item]:
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True, strict=True)
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as err:
        problems.append(f"{source}:1: {_quoting(err)}")
        return
    unknown = [h for h in header if h not in FIELDS]
    missing = [h for h in REQUIRED if h not in header]
    if not header or unknown or missing:
        what = f"unknown column {unknown[0]!r}" if unknown else f"column {(missing or REQUIRED)[0]!r} missing"
        problems.append(f"{source}:1: {what} (columns: {','.join(FIELDS)})")
        return
    reader.fieldnames = header
    for line, row in _csv_rows(reader, source, problems):
        if None in row:
            problems.append(f"{source}:{line}: more values than columns")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        if not any(values.values()):
            continue
        try:
            yield _Item(line, _csv_fields(values))
        except InvalidRequest as err:
            problems.append(f"{source}:{line}: {err}")


def _csv_rows(
    reader: csv.DictReader[str], source: str, problems: list[str]
) -> Iterator[tuple[int, dict[str | Any, str | Any]]]:
    """(the line a row starts on, the row): a quoted value may span lines, and a quoting error is
    reported on the line of the row it breaks; the file after it cannot be read reliably."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            problems.append(f"{source}:{start}: {_quoting(err)}")
            return
        yield start, row


def _quoting(err: csv.Error) -> str:
    text = str(err)
    if "unexpected end of data" in text:
        return "a quoted value is not closed (the quote opens in this row)"
    if "expected after" in text:
        return f'a quote inside a quoted value must be doubled ("") ({text})'
    return f"not valid CSV: {text}"


def _csv_fields(values: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = dict(values)
    fields["tags"] = _csv_tags(values.get("tags", ""))
    fields["services"] = [s.strip() for s in values.get("services", "").split(";") if s.strip()]
    return fields


def _csv_tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidRequest(f"tag {pair!r} is not key=value")
        tags[key.strip()] = value.strip()
    return tags
