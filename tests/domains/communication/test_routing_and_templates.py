"""Channel routing (`to` per channel kind) and sandboxed template rendering."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from domains.communication.config import NotifyConfig
from domains.communication.notifier import route_for, with_recipient
from domains.communication.ports import MessageTemplate
from domains.communication.templates import render
from pipeline.errors import InvalidRequest, ToolFailed

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/"


def config(**channels: str) -> NotifyConfig:
    return NotifyConfig(channels={k.replace("__", ":"): SecretStr(v) for k, v in channels.items()})


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_email_recipient_replaces_the_configured_one() -> None:
    route = route_for(
        config(email="mailto://u:p@127.0.0.1?to=old@example.test&from=b@example.test"),
        "email",
        "new@example.test",
    )
    assert query(route.url) == {"to": ["new@example.test"], "from": ["b@example.test"]}
    assert (route.name, route.to_redacted) == ("email", "n***@example.test")


def test_slack_channel_goes_into_to() -> None:
    route = route_for(config(slack=SLACK), "slack", "#ops-alerts")
    assert query(route.url) == {"to": ["#ops-alerts"]}
    with pytest.raises(InvalidRequest, match="not a Slack channel"):
        route_for(config(slack=SLACK), "slack", "ops alerts; rm -rf")


def test_sms_number_is_normalised() -> None:
    route = route_for(config(sms="twilio://AC1:tok@15551234567"), "sms", "+1 (555) 010-4321")
    assert query(route.url) == {"to": ["+15550104321"]} and route.to_redacted == "***4321"
    with pytest.raises(InvalidRequest, match="not a phone number"):
        route_for(config(sms="twilio://AC1:tok@15551234567"), "sms", "ops")


def test_an_exact_named_route_wins() -> None:
    cfg = config(slack=SLACK, slack__ops="json://127.0.0.1:1/ops-slack-bridge")
    assert route_for(cfg, "slack", "ops").url == "json://127.0.0.1:1/ops-slack-bridge"


def test_teams_and_webhook_routes_by_name() -> None:
    cfg = config(
        teams="msteams://a/b/c/d/", teams__sre="msteams://e/f/g/h/", webhook__deploys="json://127.0.0.1:1/d"
    )
    assert route_for(cfg, "teams", "default").name == "teams"
    assert route_for(cfg, "teams", "sre").url == "msteams://e/f/g/h/"
    assert route_for(cfg, "webhook", "deploys").name == "webhook:deploys"
    with pytest.raises(ToolFailed, match="no webhook named 'default' is configured; configured: deploys"):
        route_for(cfg, "webhook", "default")


def test_with_recipient_keeps_other_parameters() -> None:
    assert with_recipient("json://h/x?method=PUT&to=a", "b") == "json://h/x?method=PUT&to=b"


def template(body: str, subject: str = "") -> MessageTemplate:
    return MessageTemplate(name="t", body=body, subject=subject)


def test_render_subject_and_body() -> None:
    rendered = render(
        template("{{ message | upper }} for {{ to }}", "[{{ channel }}]"),
        {"message": "disk full", "to": "ops", "channel": "email"},
    )
    assert (rendered.subject, rendered.body) == ("[email]", "DISK FULL for ops")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("{{ missing_variable }}", "undefined"),
        ("{% for x in %}", "Expected an expression"),
        ("{{ cycler.__init__.__globals__ }}", "unsafe"),
    ],
)
def test_sandbox_and_strictness(body: str, why: str) -> None:
    with pytest.raises(ToolFailed, match=rf"template 't' cannot be rendered: .*{why}"):
        render(template(body), {"message": "x"})


def test_runaway_output_is_cut() -> None:
    rendered = render(template("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}"), {}, max_chars=1000)
    assert len(rendered.body) == 1000 + len("\n[truncated]")
