"""Impact in the approval prompt, through the whole pipeline (FakeChat) on SQLite and PostgreSQL:
transitive dependants from the inventory's relationships (capped, production flagged, outside the
requester's scope flagged), targets locked by another run or changed in the last hour, the risk
line, and the policy's four-eyes rules on impact; shown by the Slack, Teams and console renderers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.console.render import render as console_render
from adapters.slack.render import render_prompt as slack_prompt
from adapters.teams.render import render_prompt as teams_prompt
from db.assets import SqlAssetRepository
from db.audit import SqlAuditLog
from db.executions import SqlExecutionStore
from db.impact import SqlImpactFacts
from db.locks import SqlTargetLocks
from domains.assets.importer import demo_inventory
from domains.catalog import build_registry
from pipeline.contracts import ApprovalPrompt, Reply
from pipeline.policy import Policy
from tests.fakes.chat import FakeChat

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def assets(sessions: Sessions) -> SqlAssetRepository:
    """The demo inventory; loopback-2 (staging web) depends on loopback-3 (staging db),
    loopback-4 (production cache) connects to loopback-2, localhost runs on loopback-4."""
    repo = SqlAssetRepository(sessions)
    await repo.import_assets(demo_inventory())
    await repo.relate("loopback-2", "depends_on", "loopback-3")
    await repo.relate("loopback-4", "connects_to", "loopback-2")
    await repo.relate("localhost", "runs_on", "loopback-4")
    await repo.relate("loopback-v6", "member_of", "loopback-3")  # membership is not a dependency
    return repo


def chat(sessions: Sessions, assets: SqlAssetRepository, policy: dict[str, Any] | None = None) -> FakeChat:
    registry = build_registry()
    return FakeChat(
        store=SqlExecutionStore(sessions),
        audit=SqlAuditLog(sessions),
        directory=assets,
        impact=SqlImpactFacts(sessions, assets),
        policy=Policy.from_mapping(policy, registry) if policy else None,
    )


async def prompt_for(fake: FakeChat, text: str, user: str = "olga") -> ApprovalPrompt:
    response = await fake.say(text, user=user)
    assert isinstance(response, ApprovalPrompt), response
    return response


async def test_the_prompt_lists_transitive_dependants_and_production_needs_four_eyes(
    sessions: Sessions, assets: SqlAssetRepository
) -> None:
    fake = chat(sessions, assets)
    prompt = await prompt_for(fake, "restart postgresql on loopback-3", user="root")
    impact = prompt.plan.impact
    assert impact is not None
    assert (impact.hosts, impact.environments, impact.locations, impact.production) == (
        1,
        ("staging",),
        ("local",),
        (),
    )
    assert [(d.name, d.via, d.production) for d in impact.dependants] == [
        ("loopback-2", "depends_on loopback-3", False),
        ("loopback-4", "connects_to loopback-2", True),
        ("localhost", "runs_on loopback-4", False),
    ]
    assert not impact.dependants_capped and not impact.locked and not impact.recent
    assert impact.level == "high"
    assert impact.risk == ("High risk: changes 1 host; 3 other asset(s) depend on them (1 in production).")
    assert impact.four_eyes == ("production dependant(s): loopback-4",)
    assert prompt.four_eyes  # a write plan, yet a second person must approve

    own = await fake.click(prompt, "root")  # root is an admin: may approve writes, not their own here
    assert own.outcome == "refused" and "production dependant(s): loopback-4" in own.summary
    stored = await fake.store.load(prompt.execution_id)
    assert stored is not None and stored[0].impact == impact  # kept with the plan, not in its digest
    assert stored[0].digest() == prompt.digest

    other = await fake.click(prompt, "alan")
    assert isinstance(other, Reply) and other.outcome == "answer"


async def test_locked_and_recently_changed_targets_are_named(
    sessions: Sessions, assets: SqlAssetRepository
) -> None:
    fake = chat(sessions, assets)
    first = await prompt_for(fake, "restart nginx on loopback-2")
    assert first.plan.impact is not None and first.plan.impact.risk.startswith("High risk")  # loopback-4
    done = await fake.click(first, "alan")
    assert done.outcome == "answer"  # ran (and failed on the host: no SSH in FakeChat), so it counts
    await SqlTargetLocks(sessions).acquire(first.execution_id, ["loopback-2"], ttl_s=300)

    again = await prompt_for(fake, "stop nginx on loopback-2")
    impact = again.plan.impact
    assert impact is not None
    assert impact.locked == {"loopback-2": first.execution_id}
    recent = impact.recent["loopback-2"]
    assert (recent.execution_id, recent.tool, recent.by) == (
        first.execution_id,
        "automation.service_control",
        "olga",
    )
    assert "loopback-2 locked by another run" in impact.risk
    assert "loopback-2 changed in the last 60 minutes" in impact.risk


async def test_dependants_are_capped_and_out_of_scope_ones_need_four_eyes(
    sessions: Sessions, assets: SqlAssetRepository
) -> None:
    policy = {
        "roles": {
            "operator": {
                "grants": [
                    {"tools": ["assets.query"], "max_risk": "read"},
                    {
                        "tools": ["automation.*"],
                        "max_risk": "critical",
                        "scope": {"environments": ["staging"]},
                    },
                ]
            },
            "approver": {"grants": [{"tools": ["*"], "max_risk": "read"}], "approves": ["write", "critical"]},
        },
        "impact": {"max_dependants": 2, "four_eyes": {"dependants_outside_scope": True}},
    }
    fake = chat(sessions, assets, policy)
    prompt = await prompt_for(fake, "restart postgresql on loopback-3")
    impact = prompt.plan.impact
    assert impact is not None
    assert [d.name for d in impact.dependants] == ["loopback-2", "loopback-4"] and impact.dependants_capped
    assert [d.name for d in impact.dependants if d.outside_scope] == ["loopback-4"]
    assert impact.four_eyes == ("dependant(s) outside your scope: loopback-4",)
    assert "2+ other asset(s) depend on them" in impact.risk


async def test_many_hosts_need_four_eyes_and_reads_are_not_assessed(
    sessions: Sessions, assets: SqlAssetRepository
) -> None:
    fake = chat(
        sessions,
        assets,
        {
            "roles": Policy.default().data.model_dump(mode="json")["roles"],
            "impact": {"four_eyes": {"hosts_over": 1}},
        },
    )
    prompt = await prompt_for(fake, "restart nginx on loopback-2 and loopback-v6")
    assert prompt.plan.impact is not None and prompt.plan.impact.hosts == 2
    assert prompt.plan.impact.four_eyes == ("2 hosts, over the policy's 1",) and prompt.four_eyes
    read = await fake.say("ping loopback-2")
    assert isinstance(read, Reply) and read.plan is not None and read.plan.impact is None


async def test_slack_teams_and_console_show_the_impact(
    sessions: Sessions, assets: SqlAssetRepository
) -> None:
    fake = chat(sessions, assets)
    prompt = await prompt_for(fake, "restart postgresql on loopback-3", user="root")
    impact = prompt.plan.impact
    assert impact is not None

    slack = slack_prompt(prompt)
    texts = [b["text"]["text"] for b in slack.blocks if b.get("type") == "section"]
    risk_at = next(i for i, t in enumerate(texts) if impact.risk in t)
    assert texts[risk_at].startswith("*🔴 High risk")
    facts = texts[risk_at + 1]
    assert "Hosts: 1 · environments: staging · locations: local" in facts
    assert "loopback-4 (⚠️ production; connects_to loopback-2)" in facts
    assert "Four eyes by policy: production dependant(s): loopback-4" in facts
    steps_at = next(i for i, t in enumerate(texts) if "automation.service_control" in t)
    assert risk_at < steps_at  # impact before the plan and the buttons
    assert slack.blocks[-2]["type"] == "actions" and not slack.must_attach

    card = teams_prompt(prompt)
    runs = [i["text"] for i in _inlines(card)]
    assert any(impact.risk in r for r in runs)
    assert any("localhost (development; runs_on loopback-4)" in r for r in runs)
    assert json.dumps(card).index(impact.risk) < json.dumps(card).index("automation.service_control")

    console = Console(width=200, record=True)
    console.print(console_render(prompt))
    text = console.export_text()
    assert impact.risk in text and "loopback-2 (staging; depends_on loopback-3)" in text


def _inlines(element: Any) -> list[dict[str, Any]]:
    if isinstance(element, dict):
        found = [element] if element.get("type") == "TextRun" else []
        return found + [i for v in element.values() for i in _inlines(v)]
    if isinstance(element, list):
        return [i for v in element for i in _inlines(v)]
    return []
