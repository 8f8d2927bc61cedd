"""RFC 9457 problem details: the one error shape of the HTTP API.

Every error answer, whatever raised it (a refused token, a body that does not validate, an
unknown route, a rate limit, a database that is down), is ``application/problem+json``::

    {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "...", "instance": "/api/v1/..."}

Extension members (``errors`` for validation problems, ``execution_id``) sit beside them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline import messages
from pipeline.errors import (
    ApprovalClosed,
    DependencyError,
    InvalidRequest,
    NotPermitted,
    OpsError,
    RateLimited,
    UnknownTarget,
    UserError,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    instance: str = ""


class ApiProblem(Exception):
    """Raise to answer with a problem; `extra` adds extension members."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem_response(
    status: int,
    detail: str = "",
    *,
    instance: str = "",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, instance=instance, **extra)
    return web.Response(
        status=status,
        body=json.dumps(body.model_dump(mode="json"), ensure_ascii=False).encode(),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


# OpsError subclasses the API answers with their own status; the rest of the tree falls back
# along the MRO (UserError 400, DependencyError 503).
STATUS_OF: dict[type[OpsError], int] = {
    UnknownTarget: 404,
    InvalidRequest: 422,
    NotPermitted: 403,
    ApprovalClosed: 409,
    RateLimited: 429,
    UserError: 400,
    DependencyError: 503,
}


def status_of(err: OpsError) -> int:
    for cls in type(err).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure under /api/v1 into a problem response."""
    try:
        return await handler(request)
    except ApiProblem as err:
        return problem_response(
            err.status, err.detail, instance=request.path, headers=err.headers, **err.extra
        )
    except ValidationError as err:
        return problem_response(422, _first(err), instance=request.path, errors=_errors(err))
    except OpsError as err:
        status = status_of(err)
        if status >= 500:
            log.warning("API request failed: %s", err)
        return problem_response(status, messages.error_reply(err), instance=request.path)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        return problem_response(err.status, err.text or "", instance=request.path, headers=_allow(err))
    except Exception:  # a bug somewhere: still one shape, and the details stay in the log
        log.exception("API request failed: %s %s", request.method, request.path)
        return problem_response(500, "internal error; the server log has the details", instance=request.path)


def _allow(err: web.HTTPException) -> dict[str, str]:
    return {"Allow": err.headers["Allow"]} if "Allow" in err.headers else {}


def _first(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _errors(err: ValidationError) -> list[dict[str, str]]:
    return [
        {"location": ".".join(str(p) for p in e["loc"]), "message": str(e["msg"])}
        for e in err.errors(include_url=False)
    ]
