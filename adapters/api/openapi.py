"""The OpenAPI 3.1 document, generated from the route table and its pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from adapters.api.problems import PROBLEM_JSON, Problem
from adapters.api.routes import Route

REF = "#/components/schemas/{model}"
PATH_PARAM = re.compile(r"{([a-z_]+)}")
ERRORS = {
    "400": "A malformed request (an Idempotency-Key over 255 characters, a hostile body)",
    "401": "No token, or a token that is unknown, expired, revoked or forged",
    "403": "The caller's roles or the policy do not allow it",
    "404": "No such execution, asset or route",
    "409": "A conflict: an approval already closed, a digest that is not the waiting plan's, "
    "an Idempotency-Key still being answered, an undo of a change not finished, already undone, "
    "changed since or past its undo window",
    "413": "The body is over 1 MiB",
    "415": "The body is not application/json",
    "422": "The body or the query does not validate",
    "429": "Over the rate limit (per token and per person); see Retry-After",
    "503": "A dependency (database, identity source) is unavailable",
}


def openapi_document(routes: list[Route], *, prefix: str, version: str) -> dict[str, Any]:
    pairs = _models(routes)
    refs, defs = models_json_schema(pairs, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(prefix + route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OpsConductor API",
            "version": version,
            "description": "Requests, executions, approvals, inventory, catalog and audit of OpsConductor. "
            "Every error is an RFC 9457 problem (application/problem+json).",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token or Keycloak token",
                },
                "alerts": {"type": "http", "scheme": "bearer", "description": "The alerts shared token"},
            },
        },
        "security": [{"bearer": []}],
    }


def _models(routes: list[Route]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    seen: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Problem, "serialization"): None}
    for route in routes:
        if route.body is not None:
            seen[(route.body, "validation")] = None
        if route.response is not None:
            seen[(route.response, "serialization")] = None
    return list(seen)


def _operation(route: Route, refs: dict[Any, Any]) -> dict[str, Any]:
    problem = {"content": {PROBLEM_JSON: {"schema": refs[(Problem, "serialization")]}}}
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": "OK"}
    if route.response is not None:
        ok["content"] = {route.content: {"schema": refs[(route.response, "serialization")]}}
    elif route.content != "application/json":
        ok["content"] = {route.content: {"schema": {"type": "string"}}}
    responses[str(route.status)] = ok
    if not route.public:
        responses.update({code: {"description": text, **problem} for code, text in ERRORS.items()})
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "tags": [route.tag],
        "parameters": _parameters(route),
        "responses": responses,
    }
    if route.public:
        operation["security"] = []
    elif route.auth == "alerts":
        operation["security"] = [{"alerts": []}]
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
        }
    return operation


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PATH_PARAM.findall(route.path)
    ]
    if route.query is not None:
        schema = route.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    if route.method == "POST":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Retrying with the same key replays the first answer instead of acting twice.",
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    return params
