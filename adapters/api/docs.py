"""Browsable API docs at `/api/v1/docs`: Swagger UI served from this process (no CDN).

The page and its assets come from the swagger-ui-py package's bundled Swagger UI; it reads
`/api/v1/openapi.json`. "Authorize" takes an API token for "Try it out".
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from aiohttp import web

STATIC = Path(swagger_ui.__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpsConductor API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{prefix}/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{prefix}/docs/static/swagger-ui-bundle.js"></script>
<script src="{prefix}/docs/static/swagger-ui-standalone-preset.js"></script>
<script src="{prefix}/docs/static/docs-init.js"></script>
</body></html>
"""

INIT = """window.ui = SwaggerUIBundle({url: "%s/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout"});
"""


def add_docs(app: web.Application, prefix: str) -> None:
    page = PAGE.format(prefix=prefix)
    init = INIT % prefix

    async def docs_page(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    async def docs_init(_: web.Request) -> web.Response:
        return web.Response(text=init, content_type="application/javascript")

    app.router.add_get("/docs", docs_page)
    app.router.add_get("/docs/static/docs-init.js", docs_init)
    app.router.add_static("/docs/static/", STATIC)
