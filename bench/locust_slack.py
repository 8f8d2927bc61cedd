"""Locust users for `bench.slack_ack`: each sends Slack `app_mention` events to `/slack/events`,
signed as Slack signs them (a fresh event id each, so nothing is a retry), as fast as answered.

    locust -f bench/locust_slack.py --headless -u 200 -r 50 -t 30s --host http://127.0.0.1:PORT

BENCH_SIGNING_SECRET signs; BENCH_TEXT is what the events ask (default: a read-only query).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import uuid

from locust import FastHttpUser, constant, task

SECRET = os.environ.get("BENCH_SIGNING_SECRET", "bench-signing-secret")
TEXT = os.environ.get("BENCH_TEXT", "list the web servers")


def signed_event(text: str) -> tuple[str, dict[str, str]]:
    ts = f"{time.time():.6f}"
    event = {"type": "app_mention", "user": "U1", "text": f"<@UBOT> {text}", "ts": ts, "channel": "C1"}
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "event_id": f"Ev{uuid.uuid4().hex[:16]}",
            "event_time": int(time.time()),
        }
    )
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    return body, headers


class SlackEvents(FastHttpUser):
    wait_time = constant(0)

    @task
    def mention(self) -> None:
        body, headers = signed_event(TEXT)
        self.client.post("/slack/events", data=body, headers=headers, name="app_mention")
