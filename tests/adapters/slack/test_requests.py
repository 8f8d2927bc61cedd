"""Events and slash commands end to end: signed requests to the real Bolt endpoint in our
aiohttp server, the real kernel behind it, assertions on what Slack would have received."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import load_inventory
from domains.catalog import build_registry
from pipeline.planner import HybridPlanner
from tests.adapters.slack.conftest import CALLS, World


def texts(blocks: list[dict[str, Any]] | None) -> str:
    """All visible text of a message's blocks, for assertions."""
    out: list[str] = []
    for block in blocks or []:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(out)


ALT = Path(__file__).resolve().parents[2] / "data" / "inventory_alt.yaml"


async def test_mention_answers_in_a_thread_with_block_kit(world: World) -> None:
    response = await world.slack.mention("read web-01 web-02")
    assert response.status == 200
    [post] = world.api.of("chat.postMessage")
    assert post.token == "xoxb-test"
    assert post.args["channel"] == "C1"
    assert post.args["thread_ts"].startswith("1699999999.")  # under the asking message
    shown = texts(post.args["blocks"])
    assert shown.splitlines()[0].startswith("*✅ probe.read on 2 targets")  # summary first
    assert "✅ *web-01*" in shown and "result: fine on web-01" in shown
    assert sorted(CALLS) == [("read", "web-01"), ("read", "web-02")]


async def test_identity_carries_team_user_and_email_from_users_info_cached(world: World) -> None:
    await world.slack.mention("read web-01")
    await world.slack.mention("read web-02")
    assert len(world.api.of("users.info")) == 1  # cached after the first lookup
    assert world.api.of("users.info")[0].args["user"] == "U1"
    first, second = world.identities
    assert first == second
    assert (first.platform, first.tenant, first.user_id) == ("slack", "T1", "U1")
    assert (first.email, first.display_name) == ("alice@example.com", "alice")


async def test_users_without_a_visible_email_are_still_identified(world: World) -> None:
    await world.slack.mention("read web-01", user="U3")  # users.info answers user_not_found
    [identity] = world.identities
    assert identity.user_id == "U3" and identity.email is None
    assert CALLS == [("read", "web-01")]


async def test_dm_without_mention_answers_in_the_dm(world: World) -> None:
    await world.slack.dm("read web-01")
    [post] = world.api.of("chat.postMessage")
    assert post.args["channel"] == "D1"
    assert "thread_ts" not in post.args or post.args["thread_ts"] is None
    assert CALLS == [("read", "web-01")]


async def test_bot_messages_are_ignored_unless_configured(world: World) -> None:
    await world.slack.dm("read web-01", bot_id="B999", subtype="bot_message")
    await world.slack.dm("read web-01", user="UBOT", bot_id="BBOT")  # our own message
    await world.slack.dm("edited", subtype="message_changed")
    assert CALLS == []
    assert world.api.of("chat.postMessage") == []


@pytest.mark.parametrize("adapter_config", [{"answer_bots": True}])
async def test_other_bots_are_answered_when_configured(world: World) -> None:
    await world.slack.dm("read web-01", user="U1", bot_id="B999")
    assert CALLS == [("read", "web-01")]


async def test_slash_command_acks_at_once_then_answers_in_the_channel(world: World) -> None:
    response = await world.slack.command("read web-01")
    assert response.status == 200
    assert "Working on `read web-01`" in await response.text()  # Slack shows a plain-text ack to the user
    [post] = world.api.of("chat.postMessage")
    assert post.args["channel"] == "C1"
    assert "<@U1> asked: read web-01" in texts(post.args["blocks"])
    assert CALLS == [("read", "web-01")]


async def test_slash_command_echo_masks_a_secret(world: World) -> None:
    """The adapter's own echo of a command (the ack, the 'asked:' header) is redacted; what the
    kernel answers is redacted by the kernel (tests/security/test_secrets.py)."""
    response = await world.slack.command("read web-01 `mysql -uroot -pS3cretSlash -e 'select 1'`")
    ack = await response.text()
    assert "-p[REDACTED]" in ack and "S3cretSlash" not in ack
    [post] = world.api.of("chat.postMessage")
    header = texts(post.args["blocks"][:1])
    assert "asked: read web-01" in header and "-p[REDACTED]" in header and "S3cretSlash" not in header


async def test_slash_command_help_shows_examples_on_the_live_inventory_to_the_asker(world: World) -> None:
    """`/opsconductor help`: the usage line in the ack, then the kernel's help (examples on the
    inventory it plans over, not the reference one's web-01) for the asker only."""
    world.kernel.planner = HybridPlanner(build_registry(), InMemoryAssetDirectory(load_inventory(ALT)))
    response = await world.slack.command("help")
    assert "/opsconductor <request>" in await response.text()
    [answer] = world.api.responses
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    shown = texts(answer["blocks"])
    assert "ping app-eu-7" in shown and "restart tomcat on app-eu-7" in shown
    assert "web-01" not in shown and "db-01" not in shown
    assert world.api.of("chat.postMessage") == []  # nothing public in the channel


async def test_slash_command_outside_the_bots_channels_answers_through_response_url(world: World) -> None:
    world.api.not_member.add("C9")
    await world.slack.command("read web-01", channel="C9")
    [answer] = world.api.responses
    assert answer["response_type"] == "in_channel"
    assert "probe.read" in answer["text"]


async def test_unknown_user_gets_a_polite_refusal(world: World) -> None:
    await world.slack.mention("read web-01", user="U9")
    [post] = world.api.of("chat.postMessage")
    assert "I don't know who you are yet" in texts(post.args["blocks"])
    assert CALLS == []


async def test_oversized_text_is_refused_by_the_kernel_and_rendered(world: World) -> None:
    await world.slack.mention("read " + "web-01 " * 2000)
    [post] = world.api.of("chat.postMessage")
    assert "characters long; I accept at most 5,000" in texts(post.args["blocks"])
    assert CALLS == []


async def test_retries_and_duplicate_deliveries_run_once(world: World) -> None:
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> read web-01",
        "ts": "1.000001",
        "channel": "C1",
    }
    first = await world.slack.event(event, event_id="EvSAME")
    again = await world.slack.event(event, event_id="EvSAME", retry=1)
    third = await world.slack.event(event, event_id="EvSAME", retry=2)
    assert [first.status, again.status, third.status] == [200, 200, 200]
    assert CALLS == [("read", "web-01")]
    assert len(world.api.of("chat.postMessage")) == 1


async def test_same_message_as_two_event_types_runs_once(world: World) -> None:
    event = {"user": "U1", "text": "<@UBOT> read web-01", "ts": "1.000002", "channel": "C1"}
    await world.slack.event({"type": "app_mention", **event})
    await world.slack.event({"type": "message", "channel_type": "channel", **event})
    assert CALLS == [("read", "web-01")]


async def test_bad_signature_is_refused_with_401_and_logged_without_body(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = json.dumps({"type": "event_callback", "event_id": "EvX", "event": {"text": "SECRET-BODY"}})
    response = await world.slack.post(body, "application/json", secret="wrong")
    assert response.status == 401
    assert "bad signature or stale timestamp" in caplog.text
    assert "SECRET-BODY" not in caplog.text
    assert world.api.calls == []


async def test_stale_timestamp_is_refused_with_401(world: World) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "EvY", "event": {}})
    response = await world.slack.post(body, "application/json", timestamp=int(time.time()) - 301)
    assert response.status == 401
    missing = await world.slack.client.post("/slack/events", data=b"{}")
    assert missing.status == 401


async def test_malformed_json_is_refused_with_400(world: World) -> None:
    response = await world.slack.post('{"type": "event_callback", ', "application/json")
    assert response.status == 400
    response = await world.slack.post("payload=%7Bnot-json", "application/x-www-form-urlencoded")
    assert response.status == 400


async def test_oversized_bodies_are_refused_before_parsing(world: World) -> None:
    response = await world.slack.post("{" + " " * (2 * 1024 * 1024) + "}", "application/json")
    assert response.status == 413
    assert world.api.calls == []


async def test_url_verification_is_answered(world: World) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"})
    response = await world.slack.post(body, "application/json")
    assert response.status == 200
    assert (await response.json())["challenge"] == "abc123"


async def test_health_and_metrics(world: World) -> None:
    await world.slack.mention("read web-01")
    await world.slack.post("{}", "application/json", secret="wrong")
    health = await world.slack.client.get("/health")
    assert health.status == 200
    assert await health.json() == {"status": "ok", "checks": {"db": "ok"}}
    metrics = await (await world.slack.client.get("/metrics")).text()
    assert 'opsconductor_slack_requests_total{kind="event",outcome="200"} 1.0' in metrics
    assert 'opsconductor_slack_requests_total{kind="event",outcome="401"} 1.0' in metrics
    assert "opsconductor_slack_acks_total 1.0" in metrics
    assert "opsconductor_slack_queue_depth 0.0" in metrics
    assert "opsconductor_slack_retries_total 0.0" in metrics
    assert 'opsconductor_http_requests_total{route="/slack/events",status="401"} 1.0' in metrics
