"""The floor of `bench.slack_ack`: a bare Slack Bolt app that verifies each request's signature and
acknowledges its `app_mention` events, and does nothing else.

    .venv/bin/python -m bench.bolt_floor --port 3000 --signing-secret S --api-url http://127.0.0.1:P/api/

The bot token's one `auth.test` call goes to the Slack Web API stand-in at `--api-url`.
"""

from __future__ import annotations

import argparse

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def floor_app(signing_secret: str, api_url: str) -> AsyncApp:
    app = AsyncApp(
        signing_secret=signing_secret,
        client=AsyncWebClient(token="xoxb-bench-floor", base_url=api_url),
    )

    @app.event("app_mention")
    async def acknowledge_only() -> None:
        """Bolt has acknowledged the event before this listener runs."""

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    served = floor_app(args.signing_secret, args.api_url).web_app(path="/slack/events", port=args.port)
    served.router.add_get("/health", lambda _: web.json_response({"status": "ok"}))  # type: ignore[arg-type,return-value]
    web.run_app(served, host="127.0.0.1", port=args.port, access_log=None, print=None)
