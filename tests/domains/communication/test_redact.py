"""Secrets inside channel URLs never show: URL redaction, recipient masking, free-text scrubbing."""

from __future__ import annotations

import pytest

from domains.communication.redact import ChannelRedactor, mask_recipient, redact_url, url_secrets

R = "[REDACTED]"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "mailto://bot:pa55w0rd!@smtp.example.test:587?from=bot@example.test&to=ops@example.test",
            f"mailto://bot:{R}@smtp.example.test:587?from=bot@example.test&to=ops@example.test",
        ),
        (
            "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops-alerts",
            f"slack://{R}/{R}/{R}/#ops-alerts",
        ),
        (
            "json://ops:hunter22@127.0.0.1:8080/hooks/deploy?token=abc123def456&method=POST",
            f"json://ops:{R}@127.0.0.1:8080/hooks/deploy?token={R}&method=POST",
        ),
        (
            "twilio://AC1234567890abcdef:authtoken99887766@15551234567/15557654321",
            f"twilio://{R}:{R}@15551234567/15557654321",
        ),
        (
            "https://discord.com/api/webhooks/123456789012/AbCdEfGhIjKlMnOp1234",
            f"https://discord.com/api/webhooks/123456789012/{R}",  # the id is public, the token not
        ),
        (
            "msteams://TeamName/abcdefgh-1234-5678-9abc-def012345678@11111111-2222-3333/IncomingWebhook/zz99yy88xx77/",
            f"msteams://{R}/{R}/{R}/{R}/",
        ),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    for secret in url_secrets(url):
        assert secret not in shown.replace(R, "")


def test_plain_webhook_paths_and_hosts_stay_readable() -> None:
    assert redact_url("json://127.0.0.1:8080/hook") == "json://127.0.0.1:8080/hook"
    assert url_secrets("json://127.0.0.1:8080/hook") == []


def test_channel_redactor_scrubs_whole_urls_and_their_parts() -> None:
    url = "json://ops:hunter22@127.0.0.1:8080/deploy?token=abc123def456"
    redact = ChannelRedactor([url, "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/"])
    text = (
        f"POST {url} failed; retry with token abc123def456, password hunter22 "
        "and slack hook TIiajkdnlazkcOXrIdevi7FQ (encoded: hunter22%21)"
    )
    scrubbed = redact(text)
    for secret in ("hunter22", "abc123def456", "TIiajkdnlazkcOXrIdevi7FQ"):
        assert secret not in scrubbed
    assert "json://ops:[REDACTED]@127.0.0.1:8080/deploy?token=[REDACTED]" in scrubbed
    assert redact(scrubbed) == scrubbed  # idempotent


@pytest.mark.parametrize(
    ("to", "shown"),
    [
        ("oncall@example.test", "o***@example.test"),
        ("+1 555 010 4321", "***4321"),
        ("#ops-alerts", "#ops-alerts"),
        ("deploys", "deploys"),
    ],
)
def test_mask_recipient(to: str, shown: str) -> None:
    assert mask_recipient(to) == shown
