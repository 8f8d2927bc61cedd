"""Rendering stored notification templates in a sandboxed, immutable Jinja2 environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from domains.communication.ports import MessageTemplate
from pipeline.errors import ToolFailed

_ENV = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
)


DEFAULT_TEMPLATES: tuple[MessageTemplate, ...] = (
    MessageTemplate(
        name="incident",
        subject="[INCIDENT] {{ message | truncate(80) }}",
        body=(
            "Incident reported by OpsConductor\n\n{{ message }}\n\n"
            "Execution: {{ execution_id }}\nTime: {{ now }}"
        ),
    ),
    MessageTemplate(
        name="maintenance",
        subject="[MAINTENANCE] {{ message | truncate(80) }}",
        body="Planned maintenance\n\n{{ message }}\n\nTime: {{ now }}",
    ),
    MessageTemplate(
        name="resolved",
        subject="[RESOLVED] {{ message | truncate(80) }}",
        body="Resolved: {{ message }}\n\nExecution: {{ execution_id }}\nTime: {{ now }}",
    ),
)
"""Shipped templates; `db.templates.seed_default_templates` stores the missing ones."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(template: MessageTemplate, context: Mapping[str, Any], *, max_chars: int = 20_000) -> Rendered:
    """Render subject and body; ToolFailed names the template on syntax, undefined or sandbox errors.

    Output is cut off at `max_chars` while rendering, so a runaway loop cannot build a huge message.
    """
    try:
        subject = _render_text(template.subject, context, 255) if template.subject else ""
        body = _render_text(template.body, context, max_chars)
    except TemplateError as err:
        raise ToolFailed(f"template {template.name!r} cannot be rendered: {err}") from err
    return Rendered(subject.strip(), body)


def _render_text(source: str, context: Mapping[str, Any], max_chars: int) -> str:
    chunks: list[str] = []
    size = 0
    for chunk in _ENV.from_string(source).generate(dict(context)):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_chars:
            return "".join(chunks)[:max_chars] + "\n[truncated]"
    return "".join(chunks)


def check(source: str) -> None:
    """Raise ToolFailed when `source` is not a valid template (for saving templates)."""
    try:
        _ENV.parse(source)
    except TemplateError as err:
        raise ToolFailed(f"invalid template: {err}") from err
