"""Checks on request bodies from chat platforms, after their signature and before any parsing
that trusts them: strict UTF-8, bounded JSON nesting, no unpaired surrogates.

A signed body is still untrusted input (a leaked secret, a compromised workspace): one nested
200,000 levels deep or holding bytes that are not UTF-8 is answered 400 by the door, never
passed on to a parser that fails with a RecursionError or to storage that cannot encode it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

MAX_DEPTH = 64  # real Slack and Teams payloads nest about 10 levels


class PayloadRejected(ValueError):
    """The body is not acceptable; the message says why in a few words (no body content)."""


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PayloadRejected(f"not UTF-8 (byte {err.start})") from None


def parse_json(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value, or PayloadRejected when malformed, too deep or not encodable as UTF-8."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise PayloadRejected(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError:
        raise PayloadRejected("malformed JSON") from None
    check_value(value, max_depth)
    return value


def parse_form(text: str, max_depth: int = MAX_DEPTH) -> dict[str, list[str]]:
    """A form-encoded body; percent-escapes must decode to UTF-8, a `payload` field must be sane JSON."""
    try:
        form = parse_qs(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeDecodeError:
        raise PayloadRejected("form field not UTF-8") from None
    for value in form.get("payload", []):
        parse_json(value, max_depth)
    check_value(form, max_depth)
    return form


def check_value(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Walk a parsed value (without recursion): depth within `max_depth`, every string UTF-8 encodable."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _encodable(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise PayloadRejected(f"JSON nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                _encodable(str(key))
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadRejected("a string holds an unpaired surrogate (not UTF-8)") from None
