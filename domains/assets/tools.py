"""Inventory tools: query, create, update, delete assets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domains.assets import phrasing as words
from domains.assets.directory import AssetStore
from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import InvalidRequest, ToolFailed, UnknownTarget
from pipeline.registry import Call, ToolContext, ToolSet

assets = ToolSet("assets")

RESTORED = ("name", "address", "type", "os", "environment", "location", "tags", "services")
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class AssetQueryArgs(BaseModel):
    """Filters of a query; the matched assets are the step's targets."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    type: str | None = None
    os: str | None = None
    environment: str | None = None
    location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    service: str | None = None


class AssetFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(None, max_length=255)
    type: str | None = Field(None, max_length=64)
    os: str | None = Field(None, max_length=64)
    environment: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=64)
    tags: dict[str, str] | None = None
    services: list[str] | None = None


class AssetCreateArgs(AssetFields):
    name: str
    address: str = Field(..., min_length=1, max_length=255)

    @field_validator("name")
    @classmethod
    def valid_name(cls, value: str) -> str:
        value = value.lower()
        if not ASSET_NAME.match(value):
            raise ValueError(f"not a valid asset name: {value!r}")
        return value


class AssetDeleteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _store(ctx: ToolContext) -> AssetStore:
    store = ctx.find(AssetStore)  # type: ignore[type-abstract]
    if store is None:
        raise ToolFailed("the inventory is read-only here (no asset store is configured)")
    return store


def _describe(asset: AssetRef) -> dict[str, str]:
    return {
        "address": asset.address,
        "type": asset.type,
        "os": asset.os,
        "environment": asset.environment,
        "location": asset.location,
        "services": ", ".join(asset.services),
        "tags": ", ".join(f"{k}={v}" for k, v in sorted(asset.tags.items())),
    }


def _restore_fields(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    """assets.update again with the fields as they were before."""
    before = output.data.get("before")
    if not isinstance(before, dict) or not before:
        return "the previous fields were not recorded"
    return Call("assets.update", before)


def _restore_asset(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    """assets.create with the deleted asset's fields (its relationships and credentials are gone)."""
    before = output.data.get("before")
    if not isinstance(before, dict) or "name" not in before:
        return "the deleted asset was not recorded"
    return Call("assets.create", {k: v for k, v in before.items() if k in RESTORED})


@assets.tool("assets.query", AssetQueryArgs, risk=Risk.READ, timeout_s=10, phrasing=words.QUERY)
async def query(ctx: ToolContext, target: AssetRef | None, args: AssetQueryArgs) -> ToolOutput:
    """List inventory assets matching filters (name, type, os, environment, location, tags, service)."""
    asset = require_target(target)
    summary = f"{asset.type}, {asset.os}, {asset.environment}, {asset.location}, {asset.address}"
    return ToolOutput(summary=summary, data=_describe(asset))


@assets.tool(
    "assets.create",
    AssetCreateArgs,
    risk=Risk.WRITE,
    timeout_s=10,
    takes_targets=False,
    phrasing=words.CREATE,
)
async def create(ctx: ToolContext, target: AssetRef | None, args: AssetCreateArgs) -> ToolOutput:
    """Add an asset to the inventory."""
    fields = args.model_dump(exclude_none=True)
    fields["services"] = tuple(fields.get("services", ()))
    try:
        asset = await _store(ctx).create(AssetRef(**fields))
    except (InvalidRequest, ValidationError) as err:
        raise ToolFailed(f"not added: {err}") from err
    return ToolOutput(summary=f"added {asset.name} ({asset.address})", data=_describe(asset))


@assets.tool(
    "assets.update",
    AssetFields,
    risk=Risk.WRITE,
    timeout_s=10,
    phrasing=words.UPDATE,
    counterparts=words.UPDATE_READ,
    undo=_restore_fields,
)
async def update(ctx: ToolContext, target: AssetRef | None, args: AssetFields) -> ToolOutput:
    """Change fields of existing assets."""
    asset = require_target(target)
    changes = args.model_dump(exclude_none=True)
    if not changes:
        raise ToolFailed("nothing to change: name at least one field")
    asset = await _store(ctx).get(asset.name) or asset  # as it is now, for undo
    try:
        updated = await _store(ctx).update(asset.name, changes)
    except (InvalidRequest, UnknownTarget) as err:
        raise ToolFailed(f"not updated: {err}") from err
    changed = ", ".join(f"{k}={v}" for k, v in sorted(changes.items()))
    before = {k: v for k, v in asset.model_dump(mode="json").items() if k in changes}
    return ToolOutput(
        summary=f"updated {updated.name}: {changed}", data={**_describe(updated), "before": before}
    )


@assets.tool(
    "assets.delete",
    AssetDeleteArgs,
    risk=Risk.CRITICAL,
    timeout_s=10,
    phrasing=words.DELETE,
    counterparts=words.DELETE_READ,
    undo=_restore_asset,
)
async def delete(ctx: ToolContext, target: AssetRef | None, args: AssetDeleteArgs) -> ToolOutput:
    """Remove assets from the inventory (critical)."""
    asset = require_target(target)
    store = _store(ctx)
    current = await store.get(asset.name) or asset
    if not await store.delete(asset.name):
        raise ToolFailed(f"{asset.name} is no longer in the inventory")
    before = current.model_dump(mode="json")
    return ToolOutput(
        summary=f"removed {asset.name} ({asset.address}) from the inventory", data={"before": before}
    )


def require_target(target: AssetRef | None) -> AssetRef:
    if target is None:
        raise ToolFailed("this tool needs a target asset")
    return target
