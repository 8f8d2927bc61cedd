"""Hole 9: hostile bodies on `/api/messages` (nested 200,000 deep, not UTF-8, unpaired surrogates)
answer 400 with one log line and no traceback; nothing reaches the kernel or the connector."""

from __future__ import annotations

import json
import logging

import pytest

from tests.adapters.teams.conftest import CALLS, World


def activity_bytes(world: World, text: str) -> bytes:
    return json.dumps(world.teams.personal_message("read web-01")).replace("read web-01", text).encode()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda w: b'{"type": "message", "value": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
            id="200000-deep",
        ),
        pytest.param(
            lambda w: activity_bytes(w, "read web-01").replace(
                b'"locale": "en-US"', b'"locale": ' + b"[" * 100 + b"]" * 100, 1
            ),
            id="100-deep",
        ),
        pytest.param(
            lambda w: activity_bytes(w, "read web-01").replace(b"web-01", b"web-\xff01"), id="not-utf8"
        ),
        pytest.param(lambda w: activity_bytes(w, "read web-01 \\udc80"), id="unpaired-surrogate"),
    ],
)
async def test_hostile_bodies_answer_400_and_reach_nothing(
    world: World, make: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    raw = make(world)  # type: ignore[operator]
    response = await world.teams.post(None, raw=raw)
    assert response.status == 400
    refused = [r for r in caplog.records if "teams request refused" in r.getMessage()]
    assert len(refused) == 1 and refused[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert CALLS == [] and world.connector.calls == [] and world.store.executions == {}


async def test_a_sane_body_still_gets_through(world: World) -> None:
    response = await world.teams.post(None, raw=activity_bytes(world, "read web-01"))
    assert response.status == 201
    assert CALLS == [("read", "web-01")]
