"""Prompt templates: Jinja2 files beside this module, rendered by `render` and nothing else.

Templates:
    understand_system.j2  rules, tool list, examples, the inventory's selector values (stable prefix)
    understand_user.j2    the names/services/tags the request may refer to; the request, fenced as data
    confirm_user.j2       the same, and a change the grammar read from it, to agree with or replace
    answer_system.j2      rules for an optional LLM summary of results
    answer_user.j2        the request and the results, fenced as data

Rendering is deterministic: the same values give byte-identical text, which is what
lets an inference server's prefix cache reuse the system prompt between requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # plain text for a model, not HTML
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def render(name: str, /, **values: Any) -> str:
    """Render the template ``<name>.j2`` with `values`; unknown variables are an error."""
    return _ENV.get_template(f"{name}.j2").render(**values).strip() + "\n"
