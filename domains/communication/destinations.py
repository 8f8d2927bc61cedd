"""Where a notification channel connects, checked by policy before anything is sent.

A channel URL is configured by an administrator, but the bot makes the connection: a
webhook or mail server URL pointing at a cloud metadata service or a link-local address
would let a chat message reach it. `check_channel_host` resolves the channel's host and
asks the step's policy guard (`ToolContext.check_destination`) about every address:
restricted ranges (link-local, metadata) are refused unless a role of the requester lists
them. Hosts are resolved only for schemes whose host is a server the bot connects to
(generic webhooks, SMTP, self-hosted services); for cloud services (slack://, msteams://
...) the "host" is a token and is never looked up, but an IP literal there is checked too.
A name that resolves differently between this check and Apprise's own lookup is not caught.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import parse_qsl, urlsplit

from pipeline import addresses
from pipeline.errors import ToolFailed
from pipeline.registry import ToolContext

_SERVER_SCHEMES = frozenset(
    f"{base}{tls}"
    for base in ("json", "xml", "form", "mailto", "ntfy", "gotify", "apprise", "mmost", "rocket", "matrix")
    for tls in ("", "s")
)


def channel_host(url: str) -> tuple[str, bool]:
    """(the host the channel names, whether it is a server to resolve); ("", False) for none."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "", False
    scheme = parts.scheme.lower()
    if scheme.startswith("mailto"):  # an explicit SMTP server comes first
        smtp = dict((k.lower(), v) for k, v in parse_qsl(parts.query)).get("smtp", "")
        host = smtp or host
    return host, scheme in _SERVER_SCHEMES


async def check_channel_host(ctx: ToolContext, url: str, route: str) -> None:
    """NotPermitted (from policy) when the channel's host is, or resolves to, a restricted address."""
    host, server = channel_host(url)
    if not host:
        return
    literal = addresses.canonical(host)
    found = [str(literal)] if literal is not None else await _resolve(host) if server else []
    for address in found:
        ctx.check_destination(address, f"the {route} channel's host")


async def _resolve(host: str) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ToolFailed(f"the channel's host does not resolve ({err.strerror})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
