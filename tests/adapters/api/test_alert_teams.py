"""Alert diagnosis threads in a Teams channel next to the Slack one: the real `serve` app posts to
the Bot Connector stand-in (tests/fakes/bot_connector.py) the way Teams takes a new channel thread."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.api.conftest import serve_api
from tests.adapters.api.test_alerts import FIRING, post_alert, posted, settings_for, slack, until
from tests.fakes.bot_connector import BotConnectorStandIn
from tests.fakes.slack_api import SlackApiStandIn

__all__ = ["slack"]

TEAMS_CHANNEL = "19:alerts0123@thread.tacv2"


@pytest.fixture
async def connector() -> AsyncIterator[BotConnectorStandIn]:
    stand_in = BotConnectorStandIn()
    await stand_in.start()
    yield stand_in
    await stand_in.close()
    assert not stand_in.unexpected, stand_in.unexpected


async def test_an_alert_gets_a_thread_in_the_teams_channel_too_with_its_findings_and_resolution(
    slack: SlackApiStandIn, connector: BotConnectorStandIn, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path,
        slack,
        ssh={"connect_timeout_s": 1},
        teams={"enabled": True, "app_id": ""},  # no app id: the stand-in takes unauthenticated calls
        alerts={"teams_channel": TEAMS_CHANNEL, "teams_service_url": connector.base},
    )
    async for api in serve_api(settings):
        status, receipt = await post_alert(api, "/alerts/alertmanager", FIRING)
        assert status == 202 and receipt["diagnosing"] == ["a1b2c3d4e5f60718"], receipt
        assert (
            set(receipt["threads"]) == {"slack", "teams"} and receipt["thread"] == receipt["threads"]["slack"]
        )
        (created,) = connector.of("create")
        assert created.body["channelData"]["channel"]["id"] == TEAMS_CHANNEL and created.body["isGroup"]
        assert "HighLoad" in created.body["activity"]["text"] and "web-01" in created.body["activity"]["text"]
        thread = receipt["threads"]["teams"]
        assert thread == created.conversation and thread.startswith(TEAMS_CHANNEL + ";messageid=")

        await until(lambda: len(connector.posted()) >= 1 and len(posted(slack)) >= 2)
        (findings,) = connector.posted()
        assert findings.conversation == thread  # in the alert's thread, as an Adaptive Card
        card = findings.body["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert "web-01" in str(card["content"])

        status, receipt = await post_alert(api, "/alerts/alertmanager", FIRING)  # a repeat: nothing new
        assert receipt["duplicates"] == ["a1b2c3d4e5f60718"] and len(connector.of("create")) == 1

        resolved = copy.deepcopy(FIRING)
        resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
        status, receipt = await post_alert(api, "/alerts/alertmanager", resolved)
        assert receipt["resolved"] == ["a1b2c3d4e5f60718"]
        last = connector.posted()[-1]
        assert last.conversation == thread and "Resolved" in last.body["text"]
        assert "Resolved" in posted(slack)[-1]["text"]
