"""What the Slack guide and README say about who sees slash-command results; the behaviour they
describe is tested in test_requests.py (posted to the channel, or in_channel through the reply URL)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_guide_and_readme_say_slash_command_results_are_public() -> None:
    guide = (ROOT / "docs" / "slack" / "INSTALL.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "Slash-command results are public" in guide and "direct message" in guide
    assert "slash command are posted in the channel for everyone" in readme.replace("\n  ", " ")
