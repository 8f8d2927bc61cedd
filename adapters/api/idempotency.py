"""`Idempotency-Key` on POSTs: the first answer is stored and replayed to retries.

Keys are per caller (two people's keys never collide) and kept `ttl_s` (24 h) in the cache
(Redis across replicas, in-process on one). A retry with the same key but another method,
path or body is refused (422); one that arrives while the first is still being answered
gets 409 and can retry. Answers of 5xx are not stored, so a retry after an outage acts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.api.problems import ApiProblem
from adapters.api.routes import CALLER, backend

KEY_HEADER = "Idempotency-Key"
TTL_S = 24 * 3600.0
PENDING_TTL_S = 120.0
PENDING = b"pending"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get(KEY_HEADER, "")
    who = CALLER.get()
    if request.method != "POST" or not key or who is None:  # alert webhooks have their own dedupe
        return await handler(request)
    if len(key) > 255:
        raise ApiProblem(400, f"{KEY_HEADER} is longer than 255 characters")
    cache = backend(request).cache
    slot = "api:idempotency:" + hashlib.sha256(f"{who.principal.subject}\0{key}".encode()).hexdigest()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.path_qs.encode() + b"\0" + await request.read()
    ).hexdigest()
    if not await cache.add(slot, PENDING, PENDING_TTL_S):
        return _replay(await cache.get(slot), fingerprint)
    try:
        response = await handler(request)
    except BaseException:
        await cache.set(slot, b"failed", ttl_s=1.0)
        raise
    if response.status >= 500 or not isinstance(response, web.Response):
        await cache.set(slot, b"failed", ttl_s=1.0)
        return response
    stored = {
        "fingerprint": fingerprint,
        "status": response.status,
        "content_type": response.content_type,
        "body": (response.body or b"").decode() if isinstance(response.body, bytes) else "",
        "location": response.headers.get("Location", ""),
    }
    await cache.set(slot, json.dumps(stored).encode(), ttl_s=TTL_S)
    return response


def _replay(raw: bytes | None, fingerprint: str) -> web.Response:
    if raw is None or raw in (PENDING, b"failed"):
        raise ApiProblem(409, "a request with this Idempotency-Key is still being answered; retry shortly")
    stored = json.loads(raw)
    if stored["fingerprint"] != fingerprint:
        raise ApiProblem(422, "this Idempotency-Key was used for a different request")
    headers = {"Idempotent-Replayed": "true"}
    if stored["location"]:
        headers["Location"] = stored["location"]
    return web.Response(
        status=stored["status"],
        body=stored["body"].encode(),
        content_type=stored["content_type"],
        headers=headers,
    )
