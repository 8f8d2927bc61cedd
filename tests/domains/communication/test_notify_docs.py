"""The NOTIFY__CHANNELS example of docs/operations.md works as written: it is the JSON the setting
takes, Apprise accepts every URL in it (e-mail, Slack, Teams, webhooks, SMS), and each request of
the table next to it takes the route the table names, its URL still one Apprise accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import apprise
import pytest

from domains.communication.config import NotifyConfig
from domains.communication.notifier import route_for

DOCS = Path(__file__).resolve().parents[3] / "docs" / "operations.md"


def documented() -> NotifyConfig:
    block = re.search(r"export OPSCONDUCTOR_NOTIFY__CHANNELS='(\{.*?\})'", DOCS.read_text(), re.DOTALL)
    assert block is not None, "docs/operations.md shows no NOTIFY__CHANNELS example"
    return NotifyConfig.model_validate({"channels": json.loads(block.group(1))})


def test_every_documented_url_is_one_apprise_takes() -> None:
    config = documented()
    kinds = {name.split(":", 1)[0] for name in config.channels}
    assert kinds == {"email", "slack", "teams", "webhook", "sms"}
    for name in config.channels:
        assert apprise.Apprise.instantiate(config.url(name)) is not None, name


@pytest.mark.parametrize(
    ("channel", "to", "route"),
    [  # the table under the example: request -> route used
        ("email", "oncall@example.com", "email"),
        ("slack", "#ops", "slack"),
        ("slack", "#ops-alerts", "slack:#ops-alerts"),
        ("teams", "service desk", "teams:service desk"),
        ("webhook", "deploys", "webhook:deploys"),
        ("webhook", "https://hooks.example.com/ci", "webhook:https://hooks.example.com/ci"),
        ("sms", "+15551234567", "sms"),
    ],
)
def test_each_documented_request_takes_its_route(channel: str, to: str, route: str) -> None:
    config = documented()
    found = route_for(config, channel, to)
    if ":" in route:  # a named destination: its own URL as configured
        assert found.url == config.url(route)
    else:  # a kind's default URL, with the request's recipient as its to=
        assert found.name == route and parse_qs(urlsplit(found.url).query)["to"] == [to]
    assert apprise.Apprise.instantiate(found.url) is not None
