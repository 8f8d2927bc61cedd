"""A definition's typed parameters as a pydantic args model and the slots people write them in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from domains.packs.schema import ParamDef, seconds
from pipeline.params import RemotePath
from pipeline.phrasing import Slot

_SLOT_KIND = {"duration": "duration", "path": "path"}


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _matches(pattern: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} does not match {pattern}")
        return value

    return AfterValidator(check)


def _absolute(value: str) -> str:
    if not (value.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", value)):
        raise ValueError("path must be absolute")
    if any(c in value for c in "\x00\n\r"):
        raise ValueError("path contains control characters")
    return value


def _annotation(param: ParamDef) -> Any:
    if param.choices:
        return Literal[param.choices]
    if param.type == "integer":
        return Annotated[int, Field(ge=param.min, le=param.max, strict=False)]
    if param.type == "boolean":
        return bool
    if param.type == "duration":
        return Annotated[float, BeforeValidator(seconds), Field(ge=0)]
    if param.type == "path":
        return Annotated[RemotePath, Field(min_length=1, max_length=4096), AfterValidator(_absolute)]
    checks: list[Any] = [Field(max_length=param.max_length), AfterValidator(_no_nul)]
    if param.pattern is not None:
        checks.append(_matches(param.pattern))
    return Annotated[str, *checks]


def args_model(
    name: str, declared: Mapping[str, ParamDef], base: type[BaseModel] | None = None
) -> type[BaseModel]:
    """The pydantic model the registry validates arguments with (extra arguments refused)."""
    fields: dict[str, Any] = {}
    for param_name, param in declared.items():
        annotation = _annotation(param)
        if param.is_required:
            fields[param_name] = (annotation, Field(..., description=param.description))
        else:
            default = Field(param.default, description=param.description, validate_default=True)
            fields[param_name] = (annotation | None, default)
    title = "".join(part.title() for part in re.split(r"[._]", name)) + "Args"
    if base is not None:
        return create_model(title, __base__=base, **fields)
    return create_model(title, __config__=ConfigDict(extra="forbid"), **fields)


def slots(declared: Mapping[str, ParamDef]) -> dict[str, Slot]:
    """How each parameter is written, from its type and its declared words."""
    found: dict[str, Slot] = {}
    for name, param in declared.items():
        kind = param.kind or _SLOT_KIND.get(param.type, "")
        if param.words or param.leads or param.follows or kind or param.narrows:
            found[name] = Slot(
                kind=kind,  # type: ignore[arg-type]
                leads=param.leads,
                follows=param.follows,
                values=dict(param.words),
                narrows=param.narrows,
            )
    return found
