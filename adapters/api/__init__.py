"""The HTTP API (`/api/v1`): the kernel's requests, approvals, history, inventory, catalog and audit.

Thin translation like every adapter: a JSON body becomes an `InboundMessage` or a `Decision`
for the kernel; answers and every error (RFC 9457 problem details) go back as JSON.
"""

from adapters.api.app import PREFIX, build_api_app
from adapters.api.auth import ApiIdentities, Caller, TokenAuthenticator
from adapters.api.routes import ApiBackend, Submit

__all__ = ["PREFIX", "ApiBackend", "ApiIdentities", "Caller", "Submit", "TokenAuthenticator", "build_api_app"]
