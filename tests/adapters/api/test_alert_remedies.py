"""A diagnosis that finds a stopped service offers its restart as a button in the alert's thread; a
click is the clicker's own request and waits for an approver like a typed one. The runbook is a
team's own catalog definition checking a real host (the sshd testbed) for an nginx process."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from domains.packs import SHIPPED
from tests.adapters.api.conftest import serve_api
from tests.adapters.api.test_alerts import CHANNEL, FIRING, post_alert, posted, settings_for, slack, until
from tests.fakes.slack_api import TEAM, SlackApiStandIn
from tests.integration.sshd_fixtures import in_testbed, sshd_testbed, testbed_known_hosts
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["in_testbed", "slack", "sshd_testbed", "testbed_known_hosts"]

NGINX_STATE = """
name: web.nginx_state
description: Whether nginx runs on the host (a process named nginx).
risk: read
linux:
  script: |
    if pgrep -x nginx >/dev/null 2>&1; then state=active; else state=inactive; fi
    echo "nginx $state"
timeout: 10s
output:
  format: regex
  regex: '^(?P<service>\\S+) (?P<active>\\S+)$'
summary: "{service} is {active}"
phrasing:
  verbs: [check]
  objects: [nginx state]
  examples:
    - check the nginx state on web-01
"""


def signed(body: str, secret: str) -> dict[str, str]:
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def click(slack: SlackApiStandIn, button: dict[str, Any], thread: str, user: str) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "test"},
        "user": {"id": user, "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A1",
        "container": {"type": "message", "message_ts": thread, "channel_id": CHANNEL, "thread_ts": thread},
        "channel": {"id": CHANNEL, "name": "alerts"},
        "message": {"type": "message", "ts": "1700000000.000009", "thread_ts": thread, "text": "findings"},
        "response_url": slack.response_url("remedy"),
        "trigger_id": "trig.remedy",
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "opsconductor_suggestions",
                "value": button["value"],
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_a_stopped_service_found_by_an_alert_offers_a_restart_that_needs_approval(
    in_testbed: SshdTestbed, testbed_known_hosts: Path, slack: SlackApiStandIn, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "nginx_state.yaml").write_text(NGINX_STATE)
    ssh = {
        "username": "root",
        "known_hosts": str(testbed_known_hosts),
        "client_keys": [str(in_testbed.client_key)],
    }
    settings = settings_for(
        tmp_path,
        slack,
        alerts={"runbooks": {"NginxDown": "web.nginx_state"}},
        ssh=ssh,
        catalog={"paths": [str(SHIPPED), str(catalog)]},
    )
    alert = json.loads(json.dumps(FIRING).replace("HighLoad", "NginxDown"))
    async for api in serve_api(settings):
        status, receipt = await post_alert(api, "/alerts/alertmanager", alert)
        assert status == 202 and receipt["diagnosing"], receipt
        await until(lambda: len(posted(slack)) >= 2)
        findings = posted(slack)[1]
        assert findings["thread_ts"] == receipt["thread"]
        (actions,) = [b for b in findings["blocks"] if b["type"] == "actions"]
        (button,) = [b for b in actions["elements"] if b["value"] == "restart nginx on web-01"]

        body = click(slack, button, receipt["thread"], user="UALICE")
        async with api.session.post(
            api.url.removesuffix("/api/v1") + "/slack/events", data=body, headers=signed(body, "s" * 32)
        ) as resp:
            assert resp.status == 200
        await until(lambda: any("Approval needed" in json.dumps(m.get("blocks")) for m in posted(slack)))
        prompt = next(m for m in posted(slack) if "Approval needed" in json.dumps(m.get("blocks")))
        assert prompt["thread_ts"] == receipt["thread"]  # asked in the alert's thread
        _, page, _ = await api.call("GET", "/executions", params={"state": "awaiting_approval"})
        (pending,) = page["items"]
        assert pending["person"] == "alice" and pending["tools"] == ["automation.service_control"]
        _, detail, _ = await api.call("GET", f"/executions/{pending['id']}")
        assert detail["steps"][0]["args"] == {"service": "nginx", "action": "restart"}
        status, answer, _ = await api.call(
            "POST",
            f"/executions/{pending['id']}/approve",
            as_="alice",
            json={"digest": detail["approval"]["digest"]},
        )
        assert status == 403, answer  # the requester holds no approver role: same rules as the button
        status, answer, _ = await api.call(
            "POST",
            f"/executions/{pending['id']}/approve",
            as_="bob",
            json={"digest": detail["approval"]["digest"]},
        )
        assert status in (200, 202) and answer["state"] == "approved", answer
