"""A stand-in for Microsoft's identity endpoints in Bot Framework JWT tests, on loopback.

    GET  /.well-known/openid-configuration   OpenID metadata naming the JWKS
    GET  /keys                               the JWKS: the stand-in's RSA public key
    POST /token                              client-credentials grant (the bot's outbound token)

It runs in its own thread: botbuilder 4.17.1 fetches the metadata and keys with the
synchronous `requests` library from inside the event loop, so a server on that loop
would never get to answer. `sign` issues tokens the way the Bot Connector does
(RS256, issuer https://api.botframework.com, audience = the bot's app id, a
`serviceurl` claim); `rogue_sign` signs with a key the JWKS does not hold, under the
same key id, which is what a forged token looks like.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
KEY_ID = "opsconductor-test-key"


@functools.cache
def _key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per name and process (generating one costs about half a second)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OpenIdStandIn:
    """Start with `start()` (a daemon thread), stop with `close()`; `metadata_url` for the bot."""

    def __init__(
        self, client_id: str = "", client_secret: str = "", endorsements: tuple[str, ...] = ("msteams",)
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.endorsements = list(endorsements)
        self._key = _key("published")
        self._rogue = _key("rogue")
        self.issued: list[str] = []  # outbound access tokens handed out
        self.requests: list[str] = []
        self.unexpected: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base = ""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in.requests.append(f"GET {self.path}")
                if self.path == "/.well-known/openid-configuration":
                    self._json(stand_in.metadata())
                elif self.path == "/keys":
                    self._json(stand_in.jwks())
                else:
                    stand_in.unexpected.append(f"GET {self.path}")
                    self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                stand_in.requests.append(f"POST {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                if self.path != "/token":
                    stand_in.unexpected.append(f"POST {self.path}")
                    self._json({"error": "not_found"}, 404)
                    return
                status, body = stand_in.token_answer({k: v[0] for k, v in form.items()})
                self._json(body, status)

            def _json(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="openid-stand-in", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/.well-known/openid-configuration"

    @property
    def token_url(self) -> str:
        return f"{self.base}/token"

    # ------------------------------------------------------------------ documents

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": BOT_FRAMEWORK_ISSUER,
            "authorization_endpoint": f"{self.base}/authorize",
            "jwks_uri": f"{self.base}/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": KEY_ID, "use": "sig", "alg": "RS256", "endorsements": self.endorsements})
        return {"keys": [jwk]}

    def token_answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The client-credentials grant, checked like Azure AD would (id, secret, grant type)."""
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client"}
        token = f"outbound-{uuid.uuid4().hex}"
        self.issued.append(token)
        return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token}

    # ------------------------------------------------------------------ tokens

    def claims(self, app_id: str, service_url: str, lifetime_s: float = 3600, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 5,
            "iat": now - 5,
            "exp": int(now + lifetime_s),
            **extra,
        }

    def sign(self, claims: dict[str, Any], kid: str = KEY_ID) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": kid})

    def rogue_sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._rogue, algorithm="RS256", headers={"kid": KEY_ID})
