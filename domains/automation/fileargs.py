"""Arguments shared by the file tools (read_file, fetch_file, write_file, copy_file), and the
content write_file puts: written out, or a file template rendered for the host.

Templates (`FileTemplates`, e.g. the catalog folders' ``templates/``) are Jinja2 in a sandbox,
strict about undefined names, rendered with the target: ``{{ asset.name }}``,
``{{ asset.address }}``, ``{{ asset.environment }}``, ``{{ asset.location }}``, ``{{ asset.os }}``,
``{{ asset.type }}``, ``{{ asset.tags.role }}``.
"""

from __future__ import annotations

import re

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator

from domains.automation.ports import FileTemplates
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest, ToolFailed
from pipeline.params import RemotePath
from pipeline.registry import ToolContext

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


def absolute_path(value: str) -> str:
    """`value` if it is an absolute path (POSIX or Windows) without control characters."""
    if not (value.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", value)):
        raise ValueError("path must be absolute")
    if "\x00" in value or "\n" in value:
        raise ValueError("path contains control characters")
    return value


class FileArgs(BaseModel):
    """A file on the target: `path`, absolute, checked by the path policy."""

    model_config = ConfigDict(extra="forbid")

    path: RemotePath = Field(..., min_length=1, max_length=1024)

    @field_validator("path")
    @classmethod
    def absolute(cls, value: str) -> str:
        return absolute_path(value)


async def render_content(
    ctx: ToolContext, target: AssetRef, content: str | None, template: str | None
) -> str:
    """`content` as given, or the named template rendered for `target`."""
    if content is not None:
        return content
    assert template is not None
    store = ctx.find(FileTemplates)  # type: ignore[type-abstract]
    source = await store.get(template) if store is not None else None
    if source is None:
        raise InvalidRequest(f"there is no file template named {template!r}")
    try:
        return _ENV.from_string(source).render(asset=target.model_dump(mode="json"))
    except TemplateError as err:
        raise ToolFailed(f"template {template} does not render for {target.name}: {err}") from err
