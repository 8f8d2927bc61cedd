"""Rendering the console's pages: one Jinja environment over `templates/`, autoescaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def page(template: str, status: int = 200, **context: Any) -> web.Response:
    context.setdefault("who", None)
    context.setdefault("flash", "")
    context.setdefault("csrf", "")
    html = _ENV.get_template(template).render(**context)
    return web.Response(text=html, content_type="text/html", status=status)
