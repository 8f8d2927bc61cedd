"""The approval prompt with its impact, as Slack and Teams would show it: rendered to HTML
(tests/adapters/card_html.py stands in for the clients), screenshotted by headless Chromium in a
network namespace of its own (no network at all), and the pictures checked: the expected size, not
blank, the risk line's colour present. The PNGs stay in the test's tmp directory to be looked at."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from adapters.slack.render import render_prompt as slack_prompt
from adapters.teams.render import render_prompt as teams_prompt
from pipeline.contracts import (
    ApprovalPrompt,
    AssetRef,
    Dependant,
    Impact,
    Plan,
    PlanStep,
    RecentChange,
    Risk,
)
from tests.adapters.card_html import slack_page, teams_page

WIDTH, HEIGHT = 820, 1100
NOW = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)


def prompt() -> ApprovalPrompt:
    hosts = tuple(
        AssetRef(name=f"web-0{i}", address=f"10.0.1.{i}", environment="production", location="london")
        for i in (1, 2, 3)
    )
    step = PlanStep(
        id="s1",
        tool="automation.service_control",
        args={"service": "nginx", "action": "restart"},
        targets=hosts,
        risk=Risk.WRITE,
    )
    impact = Impact(
        hosts=3,
        environments=("production",),
        locations=("london",),
        production=("web-01", "web-02", "web-03"),
        dependants=(
            Dependant(name="shop-api", environment="production", via="depends_on web-01", production=True),
            Dependant(name="reports", environment="staging", via="connects_to shop-api", outside_scope=True),
        ),
        locked={"web-02": "5f0c2a9e41d0"},
        recent={
            "web-03": RecentChange(execution_id="a81b", tool="automation.service_control", by="olga", at=NOW)
        },
        level="high",
        risk=(
            "High risk: changes 3 host(s), 3 of them in production; 2 other asset(s) depend on them "
            "(1 in production); web-02 locked by another run; web-03 changed in the last 60 minutes."
        ),
        four_eyes=("production target(s): web-01, web-02, web-03",),
    )
    plan = Plan(steps=(step,), requires_approval=True, four_eyes=True, impact=impact)
    return ApprovalPrompt(
        execution_id="3c1d9a7f00b24c55a0e1f2d3c4b5a697",
        plan=plan,
        requester="olga",
        requester_name="Olga Operator",
        risk=Risk.WRITE,
        four_eyes=True,
        expires_at=NOW + timedelta(minutes=15),
        summary="This plan needs approval before it runs (a second person must approve).",
        digest=plan.digest(),
    )


def screenshot(page: str, out: Path) -> Image.Image:
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is missing (scripts/test.sh installs it)"
    source = out.with_suffix(".html")
    source.write_text(page, encoding="utf-8")
    argv = [
        "unshare", "--net",  # a namespace with no network: the browser cannot reach anything
        chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        f"--user-data-dir={out.parent / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={out}", source.as_uri(),
    ]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return Image.open(out).convert("RGB")


def pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    raw = image.tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def ink(image: Image.Image) -> float:
    """The share of pixels that are not (near) white."""
    seen = pixels(image)
    return sum(1 for r, g, b in seen if min(r, g, b) < 230) / len(seen)


def reds(image: Image.Image) -> int:
    return sum(1 for r, g, b in pixels(image) if r > 180 and g < 90 and b < 110)


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_the_prompt_with_impact_is_drawn_readably(platform: str, tmp_path: Path) -> None:
    shown = prompt()
    page = slack_page(slack_prompt(shown).blocks) if platform == "slack" else teams_page(teams_prompt(shown))
    assert shown.plan.impact is not None and shown.plan.impact.risk in page.replace("&amp;", "&")
    assert page.index("High risk") < page.index("automation.service_control") < page.index("Approve")
    image = screenshot(page, tmp_path / f"{platform}-prompt.png")
    assert image.size == (WIDTH, HEIGHT)
    assert 0.02 < ink(image) < 0.6  # text on a white page: neither blank nor a solid block
    assert reds(image) > 50  # the red risk marker (and Slack's red Reject button) is drawn
