"""Stand-ins for Microsoft Entra's login endpoint (login.microsoftonline.com), on loopback.

`EntraLoginStandIn` speaks what MSAL's client-credentials flow calls, over TLS with a
certificate for 127.0.0.1 made here (`ca_path` is what the client must trust):

    GET  /{tenant}/v2.0/.well-known/openid-configuration   tenant discovery
    POST /{tenant}/oauth2/v2.0/token                        client_credentials grant

A wrong client id answers 400 `unauthorized_client` (AADSTS700016), a wrong secret 401
`invalid_client` (AADSTS7000215), as Entra does; anything else lands in `unexpected`.

`SilentListener` is what a firewall that drops traffic looks like from the client: it
accepts TCP connections and never sends a byte.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
TENANT = "72f988bf-0000-4000-8000-00000000beef"


def loopback_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "login-cert.pem", folder / "login-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class EntraLoginStandIn:
    """Start with `start()` (a daemon thread), stop with `close()`; `authority` for MSAL."""

    def __init__(self, folder: Path, client_id: str, client_secret: str, tenant: str = TENANT) -> None:
        self.client_id, self.client_secret, self.tenant = client_id, client_secret, tenant
        self.ca_path, self._key_path = loopback_certificate(folder)
        self.issued: list[str] = []
        self.requests: list[str] = []
        self.unexpected: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self.base = ""

    @property
    def authority(self) -> str:
        return f"{self.base}/{self.tenant}"

    def start(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in.requests.append(f"GET {self.path}")
                if self.path == f"/{stand_in.tenant}/v2.0/.well-known/openid-configuration":
                    self._json(200, stand_in.configuration())
                else:
                    stand_in.unexpected.append(f"GET {self.path}")
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                stand_in.requests.append(f"POST {self.path}")
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                if self.path != f"/{stand_in.tenant}/oauth2/v2.0/token":
                    stand_in.unexpected.append(f"POST {self.path}")
                    self._json(404, {"error": "not_found"})
                    return
                self._json(*stand_in.token_answer({k: v[0] for k, v in form.items()}))

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_path, self._key_path)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.base = f"https://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, name="entra-stand-in", daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def configuration(self) -> dict[str, Any]:
        root = f"{self.base}/{self.tenant}"
        return {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "issuer": f"{root}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        }

    def token_answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        trace = (
            f"Trace ID: {uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}\r\nTimestamp: 2027-01-15 08:00:00Z"
        )
        if form.get("grant_type") != "client_credentials" or not form.get("scope", "").endswith("/.default"):
            return 400, {
                "error": "invalid_request",
                "error_description": f"AADSTS900144: bad request.\r\n{trace}",
            }
        if form.get("client_id") != self.client_id:
            return 400, {
                "error": "unauthorized_client",
                "error_description": f"AADSTS700016: Application with identifier '{form.get('client_id')}' "
                f"was not found in the directory.\r\n{trace}",
            }
        if form.get("client_secret") != self.client_secret:
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                f"sent in the request is the client secret value, not the client secret ID.\r\n{trace}",
            }
        token = f"entra-{uuid.uuid4().hex}"
        self.issued.append(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token}


class SilentListener:
    """Accepts TCP connections on 127.0.0.1 and never answers (a black-holing firewall)."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.port = self._socket.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-listener", daemon=True)

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self.port}/{TENANT}"

    def start(self) -> SilentListener:
        self._socket.settimeout(0.2)
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)
            self.accepted += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._socket.close()
