"""The inventory over HTTP: assets (CRUD and import) and their credentials (secrets go in, never out)."""

from __future__ import annotations

from typing import cast

from aiohttp import web

from adapters.api import schemas as s
from adapters.api.problems import ApiProblem
from adapters.api.routes import ADMIN, API, backend, body_of, json_out, query_of
from domains.assets.credentials import CredentialKind
from pipeline.contracts import AssetFilter, AssetRef


def _out(asset: AssetRef) -> s.AssetOut:
    return s.AssetOut(**asset.model_dump(mode="json"))


def _ref(body: s.AssetIn) -> AssetRef:
    return AssetRef(**{**body.model_dump(), "services": tuple(body.services)})


@API.route(
    "GET", "/assets", summary="Assets, filtered", tag="inventory", query=s.AssetQuery, response=s.AssetList
)
async def list_assets(request: web.Request) -> web.Response:
    q = query_of(request, s.AssetQuery)
    selector = AssetFilter(
        names=(q.name,) if q.name else (),
        types=(q.type,) if q.type else (),
        environments=(q.environment,) if q.environment else (),
        locations=(q.location,) if q.location else (),
        os=(q.os,) if q.os else (),
        services=(q.service,) if q.service else (),
    )
    repo = backend(request).assets
    assets = await repo.query(selector) if not selector.is_empty() else await repo.snapshot()
    return json_out(s.AssetList(items=[_out(a) for a in assets]))


@API.route(
    "POST",
    "/assets",
    summary="Add an asset",
    tag="inventory",
    roles=ADMIN,
    body=s.AssetIn,
    response=s.AssetOut,
    status=201,
)
async def create_asset(request: web.Request) -> web.Response:
    body = await body_of(request, s.AssetIn)
    asset = await backend(request).assets.create(_ref(body))
    return json_out(_out(asset), 201, {"Location": f"/api/v1/assets/{asset.name}"})


@API.route("GET", "/assets/{name}", summary="One asset", tag="inventory", response=s.AssetOut)
async def get_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    asset = await backend(request).assets.get(name)
    if asset is None:
        raise ApiProblem(404, f"no asset {name}")
    return json_out(_out(asset))


@API.route(
    "PATCH",
    "/assets/{name}",
    summary="Change an asset's fields",
    tag="inventory",
    roles=ADMIN,
    body=s.AssetPatch,
    response=s.AssetOut,
)
async def update_asset(request: web.Request) -> web.Response:
    body = await body_of(request, s.AssetPatch)
    changes = body.model_dump(exclude_none=True)
    if "services" in changes:
        changes["services"] = tuple(changes["services"])
    asset = await backend(request).assets.update(request.match_info["name"], changes)
    return json_out(_out(asset))


@API.route("DELETE", "/assets/{name}", summary="Remove an asset", tag="inventory", roles=ADMIN, status=204)
async def delete_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not await backend(request).assets.delete(name):
        raise ApiProblem(404, f"no asset {name}")
    return web.Response(status=204)


@API.route(
    "POST",
    "/assets/import",
    summary="Import assets, all or nothing",
    tag="inventory",
    roles=ADMIN,
    body=s.AssetImport,
    response=s.Imported,
)
async def import_assets(request: web.Request) -> web.Response:
    body = await body_of(request, s.AssetImport)
    count = await backend(request).assets.import_assets([_ref(a) for a in body.assets], replace=body.replace)
    return json_out(s.Imported(imported=count))


@API.route(
    "GET",
    "/assets/{name}/credentials",
    summary="The credentials stored for an asset (never their secrets)",
    tag="inventory",
    roles=ADMIN,
    response=s.CredentialList,
)
async def list_credentials(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    found = await backend(request).assets.credentials_of(name)
    items = [s.CredentialOut(asset=name.lower(), kind=k, username=u, key_id=key) for k, u, key in found]
    return json_out(s.CredentialList(items=items))


@API.route(
    "PUT",
    "/assets/{name}/credentials/{kind}",
    summary="Store (or replace) a credential: ssh_key, password, winrm",
    tag="inventory",
    roles=ADMIN,
    body=s.CredentialIn,
    response=s.CredentialOut,
)
async def put_credential(request: web.Request) -> web.Response:
    body = await body_of(request, s.CredentialIn)
    name, kind = request.match_info["name"], request.match_info["kind"]
    repo = backend(request).assets
    await repo.set_credential(name, cast(CredentialKind, kind), body.username, body.secret)
    stored = {k: (u, key) for k, u, key in await repo.credentials_of(name)}
    username, key_id = stored[kind]
    return json_out(s.CredentialOut(asset=name.lower(), kind=kind, username=username, key_id=key_id))
