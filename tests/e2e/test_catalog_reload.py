"""A definition edited while the bot runs: the next request uses it; a plan approved for the
old version never runs the new one, and each step keeps the digest of the version it ran."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.contracts import ApprovalPrompt, Reply, TargetStatus
from tests.e2e.test_catalog_newcomer import readme_tool
from tests.fakes.chat import FakeChat


def _edit(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


async def test_the_next_request_uses_the_edited_definition(tmp_path: Path) -> None:
    path = tmp_path / "app.cache_flush.yaml"
    _edit(path, readme_tool())
    chat = FakeChat(catalog_paths=[tmp_path])
    unknown = await chat.say("zap the shop cache on loopback-2")
    assert not isinstance(unknown, ApprovalPrompt)
    first = chat.registry.get("app.cache_flush").digest

    _edit(path, readme_tool().replace("flush: [purge, clear, empty]", "flush: [purge, clear, empty, zap]"))
    prompt = await chat.say("zap the shop cache on loopback-2")
    assert isinstance(prompt, ApprovalPrompt)
    [step] = prompt.plan.steps
    assert step.tool == "app.cache_flush" and step.definition == chat.registry.get("app.cache_flush").digest
    assert step.definition != first and len(step.definition) == 64


async def test_an_approval_covers_only_the_version_it_showed(tmp_path: Path) -> None:
    path = tmp_path / "app.cache_flush.yaml"
    _edit(path, readme_tool())
    chat = FakeChat(catalog_paths=[tmp_path])
    prompt = await chat.say("flush the shop cache on loopback-2")
    assert isinstance(prompt, ApprovalPrompt)
    _edit(path, readme_tool().replace('find "$dir" -mindepth 1 -delete', 'rm -rf "$dir"'))
    reply = await chat.click(prompt, "alan")
    assert isinstance(reply, Reply)
    [result] = reply.result.steps[0].results  # type: ignore[union-attr]
    assert result.status is TargetStatus.FAILED
    assert "definition of app.cache_flush changed since this plan was made" in result.error
    assert chat.memory_store.claims == 1  # claimed, refused before anything ran
