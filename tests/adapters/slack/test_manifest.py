"""The shipped Slack manifest matches what the adapter serves and uses, scope for scope."""

from __future__ import annotations

from pathlib import Path

import yaml

from adapters.slack import COMMAND, SLACK_PATH

MANIFEST = Path(__file__).parents[3] / "docs" / "slack" / "manifest.yaml"
USED_SCOPES = {
    "app_mentions:read",  # app_mention
    "im:history",  # message.im
    "commands",  # /opsconductor
    "chat:write",  # chat.postMessage, chat.update
    "files:write",  # files.getUploadURLExternal, files.completeUploadExternal
    "users:read",  # users.info
    "users:read.email",  # users.info profile.email
}


def test_manifest_scopes_events_command_and_urls() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == USED_SCOPES
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    urls = [
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert all(url.startswith("https://") and url.endswith(SLACK_PATH) for url in urls)
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
