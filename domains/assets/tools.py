"""Inventory tools: query, create, update, delete assets."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.registry import ToolContext, ToolSet

assets = ToolSet("assets")

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


def _pending(what: str) -> ToolFailed:
    return ToolFailed(f"{what} is not implemented yet")


@assets.tool("assets.query", AssetQueryArgs, risk=Risk.READ, timeout_s=10)
async def query(ctx: ToolContext, target: AssetRef | None, args: AssetQueryArgs) -> ToolOutput:
    """List inventory assets matching filters (name, type, os, environment, location, tags, service)."""
    assert target is not None
    facts = {
        "address": target.address,
        "type": target.type,
        "os": target.os,
        "environment": target.environment,
        "location": target.location,
        "services": ", ".join(target.services),
        "tags": ", ".join(f"{k}={v}" for k, v in sorted(target.tags.items())),
    }
    summary = f"{target.type}, {target.os}, {target.environment}, {target.location}, {target.address}"
    return ToolOutput(summary=summary, data=facts)


@assets.tool("assets.create", AssetCreateArgs, risk=Risk.WRITE, timeout_s=10, takes_targets=False)
async def create(ctx: ToolContext, target: AssetRef | None, args: AssetCreateArgs) -> ToolOutput:
    """Add an asset to the inventory."""
    raise _pending("assets.create")


@assets.tool("assets.update", AssetFields, risk=Risk.WRITE, timeout_s=10)
async def update(ctx: ToolContext, target: AssetRef | None, args: AssetFields) -> ToolOutput:
    """Change fields of existing assets."""
    raise _pending("assets.update")


@assets.tool("assets.delete", AssetDeleteArgs, risk=Risk.CRITICAL, timeout_s=10)
async def delete(ctx: ToolContext, target: AssetRef | None, args: AssetDeleteArgs) -> ToolOutput:
    """Remove assets from the inventory (critical)."""
    raise _pending("assets.delete")
