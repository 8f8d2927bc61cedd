"""Hole 9: signed Slack bodies that are hostile (nested 200,000 deep, not UTF-8, unpaired
surrogates) answer 400 at the real endpoint, log one line without a traceback, reach nothing."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import pytest

from tests.adapters.slack.conftest import CALLS, SECRET, World

DEEP = 200_000


async def post_signed(world: World, raw: bytes, content_type: str) -> int:
    ts = str(int(time.time()))
    signature = (
        "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    )
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    response = await world.slack.client.post("/slack/events", data=raw, headers=headers)
    await response.read()
    await world.adapter.drain()
    return response.status


def event(text: str) -> bytes:
    return (
        '{"type": "event_callback", "team_id": "T1", "event_id": "EvH1", "event": {"type": "app_mention",'
        f' "user": "U1", "text": "<@UBOT> {text}", "ts": "1699999999.000001", "channel": "C1"}}}}'
    ).encode()


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        pytest.param(
            b'{"event": ' + b"[" * DEEP + b"]" * DEEP + b"}", "application/json", id="json-200000-deep"
        ),
        pytest.param(
            b'{"event": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}", "application/json", id="json-100-deep"
        ),
        pytest.param(
            b"payload=" + b"[" * DEEP + b"]" * DEEP, "application/x-www-form-urlencoded", id="payload-deep"
        ),
        pytest.param(
            event("read web-01").replace(b"web-01", b"web-\xff\xfe01"), "application/json", id="json-not-utf8"
        ),
        pytest.param(event("read web-01 \\udc80"), "application/json", id="json-unpaired-surrogate"),
        pytest.param(
            b"command=%2Fopsconductor&text=read%20web-01%FF&user_id=U1",
            "application/x-www-form-urlencoded",
            id="form-not-utf8",
        ),
    ],
)
async def test_hostile_signed_bodies_answer_400_and_reach_nothing(
    world: World, raw: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert await post_signed(world, raw, content_type) == 400
    refused = [r for r in caplog.records if "slack request refused" in r.getMessage()]
    assert len(refused) == 1 and refused[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert CALLS == [] and world.api.calls == []


async def test_a_sane_signed_body_still_gets_through(world: World) -> None:
    assert await post_signed(world, event("read web-01"), "application/json") == 200
    assert CALLS == [("read", "web-01")]
