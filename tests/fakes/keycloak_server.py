"""A stand-in for Keycloak (no Keycloak server can run on these machines), on loopback.

It serves exactly the paths python-keycloak 7 calls for identity resolution, following
Keycloak's Admin REST API:

    POST /realms/{realm}/protocol/openid-connect/token          client_credentials only
    GET  /admin/realms/{realm}/users                            q=attr:value, email+exact,
                                                                idpAlias+idpUserId, username,
                                                                first/max paging
    GET  /admin/realms/{realm}/users/{id}/role-mappings/realm/composite
    GET  /admin/realms/{realm}/clients?clientId=...
    GET  /admin/realms/{realm}/users/{id}/role-mappings/clients/{cid}/composite
    GET  /admin/realms/{realm}/users/{id}/groups                first/max paging

Anything else (another path, method, realm or query parameter) is recorded in
`unexpected` and answered 404; the fixture fails the test when that list is not empty.
Every request is recorded (URL-decoded) in `requests` so tests can count Keycloak calls.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

_Q_TERM = re.compile(r'\s*(?:"(?P<ke>[^"]+)"|(?P<k>[^\s:"]+)):(?:"(?P<ve>[^"]*)"|(?P<v>\S*))')


@dataclass
class FakeUser:
    username: str
    email: str = ""
    email_verified: bool = True
    enabled: bool = True
    first_name: str = ""
    last_name: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    idp_links: list[tuple[str, str]] = field(default_factory=list)  # (alias, idp user id)
    realm_roles: list[str] = field(default_factory=list)
    client_roles: dict[str, list[str]] = field(default_factory=dict)  # clientId -> role names
    groups: list[str] = field(default_factory=list)  # group paths, e.g. "/ops/oncall"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def representation(self, brief: bool) -> dict[str, Any]:
        rep: dict[str, Any] = {
            "id": self.id,
            "username": self.username,
            "enabled": self.enabled,
            "emailVerified": self.email_verified,
            "createdTimestamp": 1_700_000_000_000,
            "totp": False,
        }
        rep.update({k: v for k, v in (("email", self.email), ("firstName", self.first_name),
                                      ("lastName", self.last_name)) if v})  # fmt: skip
        if not brief and self.attributes:
            rep["attributes"] = {k: list(v) for k, v in self.attributes.items()}
        return rep


@dataclass
class FakeGroup:
    path: str
    realm_roles: list[str] = field(default_factory=list)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class KeycloakStandIn:
    """Keycloak stand-in: a realm with users, roles, one client's roles and groups."""

    def __init__(
        self,
        realm: str = "opsconductor",
        client_id: str = "opsconductor-bot",
        client_secret: str = "stand-in-secret",
        token_lifetime_s: int = 300,
    ) -> None:
        self.realm = realm
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime_s = token_lifetime_s
        self.users: list[FakeUser] = []
        self.groups: dict[str, FakeGroup] = {}
        self.realm_composites: dict[str, list[str]] = {
            f"default-roles-{realm}": ["offline_access", "uma_authorization"],
        }
        self.client_composites: dict[str, list[str]] = {}
        self.clients: dict[str, str] = {client_id: str(uuid.uuid4()), "realm-management": str(uuid.uuid4())}
        self.requests: list[str] = []
        self.unexpected: list[str] = []
        self.tokens_issued = 0
        self.stall: asyncio.Event | None = None
        self._tokens: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ------------------------------------------------------------------ set-up

    def add_user(self, user: FakeUser) -> FakeUser:
        self.users.append(user)
        for path in user.groups:
            self.groups.setdefault(path, FakeGroup(path))
        return user

    def revoke_tokens(self) -> None:
        """Invalidate every issued token (as a Keycloak restart or key rotation would)."""
        self._tokens.clear()

    async def start(self) -> str:
        """Serve on a free 127.0.0.1 port; return the base URL (with a trailing slash)."""
        app = web.Application(middlewares=[self._record])
        r = f"/realms/{self.realm}"
        a = f"/admin/realms/{self.realm}"
        app.router.add_post(f"{r}/protocol/openid-connect/token", self._token)
        app.router.add_get(f"{a}/users", self._users)
        app.router.add_get(f"{a}/users/{{id}}/role-mappings/realm/composite", self._realm_roles)
        app.router.add_get(f"{a}/clients", self._clients)
        app.router.add_get(f"{a}/users/{{id}}/role-mappings/clients/{{cid}}/composite", self._client_roles)
        app.router.add_get(f"{a}/users/{{id}}/groups", self._user_groups)
        app.router.add_route("*", "/{tail:.*}", self._unexpected)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        """Stop listening: further connections are refused (a Keycloak outage)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ plumbing

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {unquote(request.path_qs)}")
        if self.stall is not None:
            await self.stall.wait()  # a Keycloak that accepts connections but does not answer
        response: web.StreamResponse = await handler(request)
        return response

    def _fail(self, request: web.Request, why: str) -> web.Response:
        self.unexpected.append(f"{request.method} {request.path_qs}: {why}")
        return web.json_response({"error": "stand-in does not serve this", "why": why}, status=404)

    async def _unexpected(self, request: web.Request) -> web.Response:
        return self._fail(request, "path not served")

    def _check(self, request: web.Request, allowed: set[str]) -> web.Response | None:
        """401 without a valid token; 404 (recorded) for query parameters Keycloak would not get."""
        extra = set(request.query) - allowed
        if extra:
            return self._fail(request, f"unexpected query parameters {sorted(extra)}")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in self._tokens:
            return web.json_response({"error": "HTTP 401 Unauthorized"}, status=401)
        return None

    def _user(self, user_id: str) -> FakeUser | None:
        return next((u for u in self.users if u.id == user_id), None)

    # ------------------------------------------------------------------ endpoints

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return self._fail(request, f"grant_type {form.get('grant_type')!r} not served")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return web.json_response(
                {
                    "error": "unauthorized_client",
                    "error_description": "Invalid client or Invalid client credentials",
                },
                status=401,
            )
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        self.tokens_issued += 1
        return web.json_response(
            {
                "access_token": token,
                "expires_in": self.token_lifetime_s,
                "refresh_expires_in": 0,
                "token_type": "Bearer",
                "not-before-policy": 0,
                "scope": "profile email",
            }
        )

    async def _users(self, request: web.Request) -> web.Response:
        q = request.query
        allowed = {
            "q",
            "email",
            "exact",
            "idpAlias",
            "idpUserId",
            "username",
            "first",
            "max",
            "briefRepresentation",
        }
        if (problem := self._check(request, allowed)) is not None:
            return problem
        if ("idpAlias" in q) != ("idpUserId" in q):
            return self._fail(request, "idpAlias and idpUserId go together")
        exact = q.get("exact", "false") == "true"
        found = [u for u in self.users if self._matches(u, q, exact)]
        found.sort(key=lambda u: u.username)
        brief = q.get("briefRepresentation", "false") == "true"
        return web.json_response([u.representation(brief) for u in _page(found, q)])

    def _matches(self, user: FakeUser, q: Any, exact: bool) -> bool:
        if "q" in q:
            for term in _Q_TERM.finditer(q["q"]):
                key, value = term["ke"] or term["k"], term["ve"] if term["ve"] is not None else term["v"]
                if value not in user.attributes.get(key, []):
                    return False
        if "email" in q:
            want, have = q["email"].lower(), user.email.lower()
            if (want != have) if exact else (want not in have):
                return False
        if "username" in q:
            want = q["username"].lower()
            if (want != user.username) if exact else (want not in user.username):
                return False
        return not ("idpAlias" in q and (q["idpAlias"], q["idpUserId"]) not in user.idp_links)

    async def _realm_roles(self, request: web.Request) -> web.Response:
        if (problem := self._check(request, {"briefRepresentation"})) is not None:
            return problem
        user = self._user(request.match_info["id"])
        if user is None:
            return web.json_response({"error": "User not found"}, status=404)
        direct = [*user.realm_roles, f"default-roles-{self.realm}"]
        for path in user.groups:
            direct.extend(self.groups[path].realm_roles)
        names = _expand(direct, self.realm_composites)
        return web.json_response([_role(n, self.realm, client=False) for n in sorted(names)])

    async def _clients(self, request: web.Request) -> web.Response:
        if (problem := self._check(request, {"clientId", "first", "max", "search"})) is not None:
            return problem
        want = request.query.get("clientId")
        found = [(cid, uid) for cid, uid in self.clients.items() if want is None or cid == want]
        return web.json_response([{"id": uid, "clientId": cid, "enabled": True} for cid, uid in found])

    async def _client_roles(self, request: web.Request) -> web.Response:
        if (problem := self._check(request, {"briefRepresentation"})) is not None:
            return problem
        user = self._user(request.match_info["id"])
        client = next((c for c, uid in self.clients.items() if uid == request.match_info["cid"]), None)
        if user is None or client is None:
            return web.json_response({"error": "Could not find client or user"}, status=404)
        names = _expand(user.client_roles.get(client, []), self.client_composites)
        return web.json_response([_role(n, self.clients[client], client=True) for n in sorted(names)])

    async def _user_groups(self, request: web.Request) -> web.Response:
        if (problem := self._check(request, {"briefRepresentation", "first", "max", "search"})) is not None:
            return problem
        user = self._user(request.match_info["id"])
        if user is None:
            return web.json_response({"error": "User not found"}, status=404)
        groups = sorted((self.groups[p] for p in user.groups), key=lambda g: g.path)
        return web.json_response(
            [
                {"id": g.id, "name": g.name, "path": g.path, "subGroups": []}
                for g in _page(groups, request.query)
            ]
        )


def _page(items: list[Any], query: Any) -> list[Any]:
    """Keycloak paging: `first` is an offset, `max` a page size (absent: everything)."""
    first = int(query.get("first", 0))
    size = int(query["max"]) if "max" in query else len(items)
    return items[first : first + size]


def _expand(names: list[str], composites: dict[str, list[str]]) -> set[str]:
    out: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in out:
            out.add(name)
            todo.extend(composites.get(name, []))
    return out


def _role(name: str, container: str, *, client: bool) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{container}/{name}")),
        "name": name,
        "composite": False,
        "clientRole": client,
        "containerId": container,
    }
