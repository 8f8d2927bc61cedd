"""Arguments of the file tools (read_file, fetch_file, write_file, copy_file), and the content
write_file puts: written out, or a file template rendered for the host.

Templates (`FileTemplates`, e.g. the catalog folders' ``templates/``) are Jinja2 in a sandbox,
strict about undefined names, rendered with the target: ``{{ asset.name }}``,
``{{ asset.address }}``, ``{{ asset.environment }}``, ``{{ asset.location }}``, ``{{ asset.os }}``,
``{{ asset.type }}``, ``{{ asset.tags.role }}``.
"""

from __future__ import annotations

import re

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domains.automation.ports import FileTemplates
from pipeline.contracts import AssetRef
from pipeline.errors import ToolFailed
from pipeline.params import RemotePath
from pipeline.registry import ToolContext

OWNER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$")
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


class FetchFileArgs(FileArgs):
    max_bytes: int | None = Field(None, ge=1, le=1024**3, description="fetch at most this many bytes")


class WriteFileArgs(FileArgs):
    content: str | None = Field(None, max_length=1024 * 1024, description="the file's new content")
    template: str | None = Field(
        None, max_length=128, description="a file template's name, rendered per host"
    )
    mode: str | None = Field(None, description="permission bits in octal, e.g. 0644 (default: kept)")
    owner: str | None = Field(None, description="user or user:group (default: kept)")

    @field_validator("mode", mode="before")
    @classmethod
    def octal(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # 'mode 0640' read as the number 640: the digits are the octal bits
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"0?[0-7]{3,4}", value)):
            raise ValueError(f"mode must be octal permission bits like 0644, not {value!r}")
        return value

    @field_validator("owner")
    @classmethod
    def user_group(cls, value: str | None) -> str | None:
        if value is not None and not all(OWNER.match(part) for part in value.split(":", 1)):
            raise ValueError(f"owner must be user or user:group, not {value!r}")
        return value

    @model_validator(mode="after")
    def one_source(self) -> WriteFileArgs:
        if (self.content is None) == (self.template is None):
            raise ValueError("give either content or template")
        return self


class CopyFileArgs(FileArgs):
    to: str = Field(..., min_length=1, max_length=128, description="the inventory asset to copy to")
    to_path: RemotePath | None = Field(
        None, min_length=1, max_length=1024, description="the path there (default: the same path)"
    )
    if_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="only over a file with this SHA-256 (an undo: never over a later change)",
    )

    @field_validator("to_path")
    @classmethod
    def absolute_there(cls, value: str | None) -> str | None:
        return None if value is None else absolute_path(value)

    @model_validator(mode="after")
    def same_path(self) -> CopyFileArgs:
        """No path given for the destination: the file lands where it is on the source."""
        if self.to_path is None:
            self.to_path = self.path
        return self

    @property
    def destination_path(self) -> str:
        return self.to_path or self.path


async def render_content(
    ctx: ToolContext, target: AssetRef, content: str | None, template: str | None
) -> str:
    """`content` as given (with a final newline), or the named template rendered for `target`."""
    if content is not None:  # a text file ends with a newline; chat cannot easily type one
        return content if not content or content.endswith("\n") else content + "\n"
    assert template is not None
    store = ctx.find(FileTemplates)  # type: ignore[type-abstract]
    source = await store.get(template) if store is not None else None
    if source is None:
        raise ToolFailed(f"there is no file template named {template!r}")
    try:
        return _ENV.from_string(source).render(asset=target.model_dump(mode="json"))
    except TemplateError as err:
        raise ToolFailed(f"template {template} does not render for {target.name}: {err}") from err
