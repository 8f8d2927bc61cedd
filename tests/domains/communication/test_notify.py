"""communication.notify through a real SMTP server and a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
from email.message import Message
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DeliveryLog as DeliveryLogRow
from db.templates import SqlDeliveryLog, SqlTemplateStore, seed_default_templates
from domains.catalog import build_registry
from domains.communication.config import NotifyConfig
from domains.communication.ports import DeliveryLog, MessageTemplate, TemplateStore
from domains.communication.services import communication_services
from domains.communication.tools import ListTemplatesArgs, NotifyArgs, list_templates, notify
from pipeline.contracts import PlanStep, Principal, Risk
from pipeline.errors import InvalidRequest, NotPermitted, ToolFailed
from pipeline.policy import Policy
from pipeline.registry import ToolContext
from tests.domains.communication.conftest import Mailbox, Webhooks

Sessions = async_sessionmaker[AsyncSession]
SECRET = "s3cr3tPassw0rd"
TOKEN = "abcd1234efgh5678ijkl"


def context(channels: dict[str, str], *services: tuple[type[Any], Any], retries: int = 2) -> ToolContext:
    config = NotifyConfig(
        channels={k: SecretStr(v) for k, v in channels.items()},
        retries=retries,
        backoff_s=0.01,
        attempt_timeout_s=5,
    )
    return ToolContext("exec-n", "step-1", {NotifyConfig: config, **dict(services)})


async def test_email_goes_to_the_requested_address(smtp_server: tuple[int, Mailbox]) -> None:
    port, mailbox = smtp_server
    url = f"mailto://127.0.0.1:{port}?from=bot@example.test&to=nobody@example.test&mode=insecure"
    args = NotifyArgs(channel="email", to="oncall@example.test", message="disk full on web-01")
    output = await notify(context({"email": url}), None, args)
    assert output.data["status"] == "sent" and output.data["attempts"] == 1
    assert output.data["to"] == "o***@example.test" and "oncall@" not in output.summary
    [(recipients, mail)] = mailbox.mails
    assert recipients == ["oncall@example.test"]
    assert mail["Subject"] == "OpsConductor"
    assert "disk full on web-01" in plain_text(mail)


async def test_webhook_by_configured_name(webhook_server: tuple[int, Webhooks]) -> None:
    port, hooks = webhook_server
    ctx = context(
        {"webhook:deploys": f"json://127.0.0.1:{port}/deploys", "webhook": f"json://127.0.0.1:{port}/x"}
    )
    output = await notify(ctx, None, NotifyArgs(channel="webhook", to="deploys", message="v2.3 rolled out"))
    assert output.summary == "sent by webhook to deploys (1 attempt)"
    [payload] = hooks.received["deploys"]
    assert payload["message"] == "v2.3 rolled out" and payload["title"] == "OpsConductor"


async def test_unknown_webhook_name_lists_names_never_urls(webhook_server: tuple[int, Webhooks]) -> None:
    port, _ = webhook_server
    ctx = context({"webhook:deploys": f"json://user:{SECRET}@127.0.0.1:{port}/deploys"})
    with pytest.raises(ToolFailed) as failure:
        await notify(ctx, None, NotifyArgs(channel="webhook", to="alerts", message="x"))
    assert str(failure.value) == "no webhook named 'alerts' is configured; configured: deploys"


async def test_retries_with_backoff_until_delivered(
    webhook_server: tuple[int, Webhooks], sessions: Sessions
) -> None:
    port, hooks = webhook_server
    hooks.fail_first["flaky"] = 2
    ctx = context(
        {"webhook:flaky": f"json://127.0.0.1:{port}/flaky"},
        (DeliveryLog, SqlDeliveryLog(sessions)),
        retries=3,
    )
    output = await notify(ctx, None, NotifyArgs(channel="webhook", to="flaky", message="retry me"))
    assert output.data["attempts"] == 3 and len(hooks.received["flaky"]) == 3
    rows = await _log_rows(sessions)
    assert [(r.status, r.attempts) for r in rows] == [("retrying", 1), ("retrying", 2), ("sent", 3)]
    assert rows[0].error and rows[-1].error == ""
    assert {r.to_redacted for r in rows} == {"flaky"} and rows[0].execution_id is None


async def test_permanent_failure_is_logged_and_never_echoes_secrets(
    webhook_server: tuple[int, Webhooks], sessions: Sessions
) -> None:
    port, hooks = webhook_server
    url = f"json://ops:{SECRET}@127.0.0.1:{port}/down?token={TOKEN}"
    ctx = context({"webhook:down": url}, (DeliveryLog, SqlDeliveryLog(sessions)), retries=1)
    with pytest.raises(ToolFailed) as failure:
        await notify(ctx, None, NotifyArgs(channel="webhook", to="down", message="x"))
    assert "after 2 attempts" in str(failure.value) and "503" in str(failure.value)
    assert failure.value.output is not None and failure.value.output.data["status"] == "failed"
    rows = await _log_rows(sessions)
    assert [(r.status, r.attempts) for r in rows] == [("retrying", 1), ("failed", 2)]
    shown = str(failure.value) + repr(failure.value.output) + "".join(r.error + r.to_redacted for r in rows)
    assert SECRET not in shown and TOKEN not in shown
    assert len(hooks.received["down"]) == 2
    assert hooks.headers[0]["Authorization"].startswith("Basic ")  # the receiver did get the credentials


async def test_email_needs_an_address(smtp_server: tuple[int, Mailbox]) -> None:
    ctx = context({"email": f"mailto://127.0.0.1:{smtp_server[0]}?from=bot@example.test"})
    with pytest.raises(InvalidRequest, match="not an e-mail address"):
        await notify(ctx, None, NotifyArgs(channel="email", to="#ops", message="x"))


async def test_unconfigured_channel() -> None:
    with pytest.raises(ToolFailed, match="no sms channel is configured"):
        await notify(context({}), None, NotifyArgs(channel="sms", to="+15550100", message="x"))


async def test_template_by_name_renders_into_the_mail(
    smtp_server: tuple[int, Mailbox], sessions: Sessions
) -> None:
    port, mailbox = smtp_server
    store = SqlTemplateStore(sessions)
    await store.save(
        MessageTemplate(
            name="incident",
            subject="[{{ channel | upper }}] incident",
            body="Incident: {{ message }}\n{% for n in range(2) %}step {{ n }}\n{% endfor %}",
        )
    )
    url = f"mailto://127.0.0.1:{port}?from=bot@example.test&mode=insecure"
    ctx = context({"email": url}, (TemplateStore, store))
    args = NotifyArgs(channel="email", to="ops@example.test", message="db-01 down", template="incident")
    output = await notify(ctx, None, args)
    assert output.data["template"] == "incident"
    [(_, mail)] = mailbox.mails
    assert mail["Subject"] == "[EMAIL] incident"
    assert "Incident: db-01 down\nstep 0\nstep 1" in plain_text(mail)


async def test_list_templates(sessions: Sessions) -> None:
    store = SqlTemplateStore(sessions)
    await store.save(MessageTemplate(name="b-maintenance", body="{{ message }}", channel="slack"))
    await store.save(MessageTemplate(name="a-incident", body="{{ message }}", subject="Incident"))
    ctx = ToolContext("exec-n", "step-1", {TemplateStore: store})
    output = await list_templates(ctx, None, ListTemplatesArgs())
    assert output.summary == "2 templates: a-incident, b-maintenance"
    assert output.data["templates"][1] == {"name": "b-maintenance", "channel": "slack", "subject": ""}


async def test_unknown_template_and_wrong_channel(sessions: Sessions) -> None:
    store = SqlTemplateStore(sessions)
    await store.save(MessageTemplate(name="slack-only", body="{{ message }}", channel="slack"))
    ctx = context({"email": "mailto://127.0.0.1:1?from=bot@example.test"}, (TemplateStore, store))
    with pytest.raises(ToolFailed, match="no template named 'nope'; available: slack-only"):
        await notify(ctx, None, NotifyArgs(channel="email", to="a@example.test", template="nope"))
    with pytest.raises(ToolFailed, match="template 'slack-only' is for slack, not email"):
        await notify(ctx, None, NotifyArgs(channel="email", to="a@example.test", template="slack-only"))


async def test_nothing_to_send() -> None:
    ctx = context({"webhook": "json://127.0.0.1:1/x"})
    with pytest.raises(InvalidRequest, match="nothing to send"):
        await notify(ctx, None, NotifyArgs(channel="webhook", to="default", message="  "))


def plain_text(mail: Message) -> str:
    part = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")


async def _log_rows(sessions: Sessions) -> list[DeliveryLogRow]:
    async with sessions() as session:
        return list((await session.scalars(select(DeliveryLogRow).order_by(DeliveryLogRow.id))).all())


async def test_shipped_templates_seed_once_and_render(
    sessions: Sessions, webhook_server: tuple[int, Webhooks]
) -> None:
    store = SqlTemplateStore(sessions)
    seeded = await asyncio.gather(*(seed_default_templates(SqlTemplateStore(sessions)) for _ in range(3)))
    assert sum(seeded) == 3  # processes starting together seed each template once, nobody fails
    assert await seed_default_templates(store) == 0
    port, hooks = webhook_server
    services = communication_services(
        NotifyConfig(channels={"webhook": SecretStr(f"json://127.0.0.1:{port}/ops")}),
        templates=store,
        delivery_log=SqlDeliveryLog(sessions),
    )
    ctx = ToolContext("exec-t", "step-1", services)
    args = NotifyArgs(channel="webhook", to="default", message="web-01 is down", template="incident")
    await notify(ctx, None, args)
    [payload] = hooks.received["ops"]
    assert payload["title"] == "[INCIDENT] web-01 is down"
    assert payload["message"].startswith(
        "Incident reported by OpsConductor\n\nweb-01 is down\n\nExecution: exec-t"
    )
    assert [r.status for r in await _log_rows(sessions)] == ["sent"]


def guarded(channels: dict[str, str], policy: Policy, *roles: str) -> ToolContext:
    """A context as the executor builds it: the step's policy guard for a requester with `roles`."""
    ctx = context(channels, retries=0)
    step = PlanStep(id="s1", tool="communication.notify", risk=Risk.WRITE)
    ctx.guard = policy.guard(step, Principal(subject="alice", roles=frozenset(roles)))
    return ctx


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("json://169.254.169.254/hook", "cloud-metadata"),
        (f"json://user:{SECRET}@2852039166:8080/x", "cloud-metadata"),  # decimal spelling
        ("jsons://0xa9.0xfe.0xa9.0xfe/x", "cloud-metadata"),
        ("xml://[::ffff:169.254.170.2]/x", "cloud-metadata"),
        ("form://169.254.1.1/x", "link-local"),
        ("mailto://bot@example.test?smtp=169.254.169.254&from=bot@example.test", "cloud-metadata"),
        ("slack://169.254.169.254/B1/C1", "cloud-metadata"),  # a token host is only checked as a literal
    ],
)
async def test_a_channel_pointing_at_metadata_or_link_local_is_refused_before_sending(
    webhook_server: tuple[int, Webhooks], url: str, rule: str
) -> None:
    port, hooks = webhook_server
    policy = Policy.default(build_registry())
    ctx = guarded({"webhook:meta": url, "webhook:ok": f"json://localhost:{port}/ok"}, policy, "operator")
    with pytest.raises(NotPermitted) as refused:
        await notify(ctx, None, NotifyArgs(channel="webhook", to="meta", message="hello"))
    said = str(refused.value)
    assert "the webhook:meta channel's host resolves to" in said and f"restricted range {rule}" in said
    assert SECRET not in said and "example.test" not in said
    output = await notify(
        ctx, None, NotifyArgs(channel="webhook", to="ok", message="fine")
    )  # a name, resolved
    assert output.data["status"] == "sent" and [p["message"] for p in hooks.received["ok"]] == ["fine"]


def test_a_role_that_lists_the_range_may_notify_there() -> None:
    raw = {
        "roles": {
            "ops": {"grants": [{"tools": ["communication.*"], "max_risk": "write"}]},
            "cloud": {
                "grants": [{"tools": ["communication.*"], "max_risk": "write"}],
                "addresses": ["169.254.169.254/32"],
            },
        }
    }
    policy = Policy.from_mapping(raw, build_registry())
    step = PlanStep(id="s1", tool="communication.notify", risk=Risk.WRITE)
    policy.guard(step, Principal(subject="a", roles=frozenset({"cloud"}))).check_destination(
        "169.254.169.254", "x"
    )
    with pytest.raises(NotPermitted, match="cloud-metadata"):
        policy.guard(step, Principal(subject="a", roles=frozenset({"ops"}))).check_destination(
            "169.254.169.254", "x"
        )
