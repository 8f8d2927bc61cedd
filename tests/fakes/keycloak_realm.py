"""A stand-in for a Keycloak realm's public endpoints, on loopback: what an API resource server reads.

    GET /realms/<realm>/.well-known/openid-configuration   issuer and jwks_uri
    GET /realms/<realm>/protocol/openid-connect/certs      the JWKS (the realm's RSA public key)

`sign` issues access tokens shaped like Keycloak's (RS256 with the key id, `iss` = the realm,
`aud`/`azp`, `realm_access.roles`, `resource_access.<client>.roles`, `preferred_username`);
`rogue_sign` signs with a key the JWKS does not hold, under the same key id (a forgery). Any
other path answers 404 and is recorded in `unexpected`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.openid_server import _key

KEY_ID = "realm-key-1"


class KeycloakRealmStandIn:
    def __init__(self, realm: str = "opsconductor", client_id: str = "opsconductor-api") -> None:
        self.realm = realm
        self.client_id = client_id
        self._key: rsa.RSAPrivateKey = _key("published")
        self._rogue: rsa.RSAPrivateKey = _key("rogue")
        self.cert_requests = 0
        self.unexpected: list[str] = []
        self._server: TestServer | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(f"/realms/{self.realm}/.well-known/openid-configuration", self._metadata)
        app.router.add_get(f"/realms/{self.realm}/protocol/openid-connect/certs", self._certs)
        self.add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._other)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self.base = str(self._server.make_url("")).rstrip("/")

    def add_routes(self, app: web.Application) -> None:
        """More of the realm's endpoints (tests.fakes.keycloak_login adds the sign-in ones)."""

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    @property
    def issuer(self) -> str:
        return f"{self.base}/realms/{self.realm}"

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/protocol/openid-connect/certs"}

    async def _metadata(self, _: web.Request) -> web.Response:
        return web.json_response(self.metadata())

    async def _certs(self, _: web.Request) -> web.Response:
        self.cert_requests += 1
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": [jwk]})

    async def _other(self, request: web.Request) -> web.Response:
        self.unexpected.append(f"{request.method} {request.path}")
        return web.Response(status=404)

    def claims(
        self,
        subject: str,
        *,
        realm_roles: tuple[str, ...] = (),
        client_roles: tuple[str, ...] = (),
        lifetime_s: float = 300,
        **override: Any,
    ) -> dict[str, Any]:
        now = int(time.time())
        return {
            "exp": now + int(lifetime_s),
            "iat": now,
            "jti": uuid.uuid4().hex,
            "iss": self.issuer,
            "aud": "account",
            "sub": subject,
            "typ": "Bearer",
            "azp": self.client_id,
            "preferred_username": subject.split("-")[0],
            "realm_access": {"roles": list(realm_roles)},
            "resource_access": {self.client_id: {"roles": list(client_roles)}, "account": {"roles": ["x"]}},
            **override,
        }

    def sign(self, claims: dict[str, Any], *, kid: str = KEY_ID, algorithm: str = "RS256") -> str:
        return jwt.encode(claims, self._key, algorithm=algorithm, headers={"kid": kid})

    def rogue_sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._rogue, algorithm="RS256", headers={"kid": KEY_ID})
