"""Requests through the real `/api/messages` endpoint: mentions in channels, personal chats,
identity and tenants, dedupe, bad input; answers as cards in the Bot Connector stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.teams.render import CARD_BUDGET
from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import load_inventory
from domains.catalog import build_registry
from pipeline.planner import HybridPlanner
from tests.adapters.teams.cards import card_of, texts
from tests.adapters.teams.conftest import CALLS, CHANNEL, OTHER_TENANT, TENANT, World


async def test_a_channel_mention_is_answered_in_its_thread_with_a_card(world: World) -> None:
    activity = world.teams.channel_message("read web-01 db-01")
    response = await world.teams.post(activity)
    assert response.status == 201
    assert CALLS == [("read", "web-01"), ("read", "db-01")]
    [reply] = world.connector.posted()
    assert reply.kind == "reply"
    assert reply.conversation == f"{CHANNEL};messageid={activity['id']}"
    assert reply.activity_id == activity["id"]
    assert reply.body["replyToId"] == activity["id"]
    shown = texts(card_of(reply.body))
    assert "web-01" in shown and "db-01" in shown and "fine on web-01" in shown
    [execution] = world.store.executions.values()
    assert execution.message.text == "read web-01 db-01"  # mention and newline removed
    assert execution.message.channel == CHANNEL and execution.message.thread == activity["id"]


ALT = Path(__file__).resolve().parents[2] / "data" / "inventory_alt.yaml"


async def test_help_shows_examples_on_the_live_inventory(world: World) -> None:
    """The help card names the hosts and services of the inventory the kernel plans over."""
    world.kernel.planner = HybridPlanner(build_registry(), InMemoryAssetDirectory(load_inventory(ALT)))
    await world.teams.post(world.teams.personal_message("help"))
    [reply] = world.connector.posted()
    shown = texts(card_of(reply.body))
    assert "ping app-eu-7" in shown and "restart tomcat on app-eu-7" in shown
    assert "web-01" not in shown and "db-01" not in shown


async def test_the_identity_carries_tenant_aad_id_and_the_looked_up_email_once(world: World) -> None:
    await world.teams.post(world.teams.channel_message("read web-01"))
    await world.teams.post(world.teams.channel_message("read web-02"))
    identities = [e.message.identity for e in world.store.executions.values()]
    assert {i.platform for i in identities} == {"teams"}
    assert {i.tenant for i in identities} == {TENANT}
    assert {i.user_id for i in identities} == {"aad-0001-alice"}
    assert {i.email for i in identities} == {"alice@example.com"}
    assert {i.display_name for i in identities} == {"Alice Operator"}
    [lookup] = world.connector.of("member")  # cached after the first message
    assert lookup.conversation.startswith(CHANNEL) and lookup.activity_id == "29:1U1"


async def test_a_personal_chat_needs_no_mention(world: World) -> None:
    activity = world.teams.personal_message("read web-03")
    await world.teams.post(activity)
    assert CALLS == [("read", "web-03")]
    [reply] = world.connector.posted()
    assert reply.conversation == "a:1personal-U1"
    assert "fine on web-03" in texts(card_of(reply.body))


async def test_people_the_kernel_does_not_know_are_refused_politely(world: World) -> None:
    await world.teams.post(world.teams.personal_message("read web-01", user="U9"))
    [reply] = world.connector.posted()
    assert "don't know who you are" in texts(card_of(reply.body))
    assert CALLS == []


async def test_a_sender_without_aad_id_is_refused_without_asking_the_kernel(world: World) -> None:
    activity = world.teams.personal_message("read web-01")
    del activity["from"]["aadObjectId"]
    await world.teams.post(activity)
    [reply] = world.connector.posted()
    assert "don't know who you are" in reply.body["text"]
    assert world.store.executions == {}


@pytest.mark.parametrize("config_overrides", [{"allowed_tenants": (TENANT,)}])
async def test_other_tenants_are_refused_politely_and_nothing_reaches_the_kernel(world: World) -> None:
    await world.teams.post(world.teams.channel_message("read web-01", tenant=OTHER_TENANT))
    [reply] = world.connector.posted()
    assert "other organisations" in reply.body["text"]
    assert world.store.executions == {} and CALLS == []
    await world.teams.post(world.teams.channel_message("read web-01", tenant=TENANT))
    assert CALLS == [("read", "web-01")]


async def test_a_redelivered_activity_is_handled_once_and_counted(world: World) -> None:
    activity = world.teams.channel_message("read web-01")
    first = await world.teams.post(activity)
    again = await world.teams.post(activity)
    assert first.status == again.status == 201
    assert CALLS == [("read", "web-01")]
    assert len(world.connector.posted()) == 1
    await world.teams.post(None, raw=b"{broken")
    metrics = await (await world.teams.client.get("/metrics")).text()
    assert 'opsconductor_teams_requests_total{kind="message",status="201"} 2.0' in metrics
    assert 'opsconductor_teams_requests_total{kind="unreadable",status="400"} 1.0' in metrics
    assert "opsconductor_teams_duplicates_total 1.0" in metrics


async def test_long_output_is_shortened_with_a_marker_within_the_size_limit(world: World) -> None:
    await world.teams.post(world.teams.personal_message("output 400000 web-01 web-02 web-03"))
    [reply] = world.connector.posted()
    content = card_of(reply.body)
    shown = texts(content)
    assert "truncated" in shown and "more characters" in shown
    assert len(json.dumps(reply.body).encode()) < 28_000
    assert len(json.dumps(content, ensure_ascii=False).encode()) <= CARD_BUDGET + 200


async def test_oversized_text_is_refused_by_the_kernel_and_runs_nothing(world: World) -> None:
    await world.teams.post(world.teams.personal_message("read " + "x" * 6000))
    [reply] = world.connector.posted()
    assert "at most 5,000" in texts(card_of(reply.body))
    assert CALLS == []


async def test_a_body_over_the_server_limit_is_refused(world: World) -> None:
    activity = world.teams.personal_message("read " + "x" * 1_100_000)
    response = await world.teams.post(activity)
    assert response.status == 413
    assert world.connector.calls == [] and CALLS == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'{"type": "message", "text": "read web-01"}', 400),  # no conversation
        (b"\xff\xfe", 400),
    ],
)
async def test_malformed_activities_are_refused(world: World, raw: bytes, status: int) -> None:
    response = await world.teams.post(None, raw=raw)
    assert response.status == status
    assert world.connector.calls == [] and CALLS == []


async def test_an_activity_without_conversation_or_service_url_is_refused(world: World) -> None:
    for field in ("conversation", "serviceUrl"):
        activity: dict[str, Any] = world.teams.personal_message("read web-01")
        del activity[field]
        assert (await world.teams.post(activity)).status == 400
    assert world.connector.calls == [] and CALLS == []


async def test_other_activity_kinds_are_accepted_and_ignored(world: World) -> None:
    typing = {**world.teams.personal_message(""), "type": "typing"}
    assert (await world.teams.post(typing)).status == 201
    reaction = {
        **world.teams.personal_message(""),
        "type": "messageReaction",
        "reactionsAdded": [{"type": "like"}],
    }
    assert (await world.teams.post(reaction)).status == 201
    assert world.connector.calls == [] and world.store.executions == {}


async def test_installing_the_bot_in_a_team_says_hello(world: World) -> None:
    activity = world.teams.channel_message("")
    activity.update({"type": "conversationUpdate", "membersAdded": [{"id": activity["recipient"]["id"]}]})
    del activity["text"]
    await world.teams.post(activity)
    [hello] = world.connector.posted()
    assert "OpsConductor" in hello.body["text"]


async def test_a_group_chat_mention_is_answered_in_the_chat(world: World) -> None:
    activity = world.teams.channel_message("read web-04")
    chat = "19:meeting-or-group_0123@thread.v2"
    activity["conversation"] = {
        "isGroup": True,
        "conversationType": "groupChat",
        "tenantId": TENANT,
        "id": chat,
    }
    activity["channelData"] = {"tenant": {"id": TENANT}}
    await world.teams.post(activity)
    assert CALLS == [("read", "web-04")]
    [reply] = world.connector.posted()
    assert reply.conversation == chat and reply.activity_id == activity["id"]
    [lookup] = world.connector.of("member")
    assert lookup.conversation == chat


async def test_the_upn_stands_in_for_a_missing_email(world: World) -> None:
    world.connector.add_member(
        "29:1U1", "aad-0001-alice", "Alice Operator", None, upn="Alice@Contoso.onmicrosoft.com"
    )
    await world.teams.post(world.teams.personal_message("read web-01"))
    [execution] = world.store.executions.values()
    assert execution.message.identity.email == "alice@contoso.onmicrosoft.com"
