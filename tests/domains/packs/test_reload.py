"""Definitions edited on disk are used without a restart; an invalid edit changes nothing."""

from __future__ import annotations

import os
from pathlib import Path

from domains.catalog import build_registry
from pipeline.contracts import AssetRef, PlanStep, Principal, Risk
from pipeline.policy import Policy
from tests.domains.packs.test_loader import GOOD

OPERATOR = Principal(subject="olga", roles=frozenset({"operator"}))
WEB = AssetRef(name="web-01", address="127.0.0.1")


def _edit(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))  # a coarse clock still sees it


def test_an_edited_file_is_used_by_the_next_lookup(tmp_path: Path) -> None:
    path = tmp_path / "flush.yaml"
    _edit(path, GOOD)
    registry = build_registry([tmp_path])
    first, version = registry.get("app.cache_flush"), registry.version
    registry.refresh()
    assert registry.version == version  # nothing changed: nothing reloaded

    _edit(path, GOOD.replace("risk: write", "risk: critical"))
    registry.refresh()
    second = registry.get("app.cache_flush")
    assert second.risk is Risk.CRITICAL and second.digest != first.digest and registry.version > version

    _edit(path, GOOD.replace("risk: write", "risk: whenever"))
    registry.refresh()
    assert registry.get("app.cache_flush") is second  # the invalid edit is not loaded, not even in part
    _edit(tmp_path / "new.yaml", GOOD.replace("app.cache_flush", "app.cache_warm"))
    registry.refresh()
    assert "app.cache_warm" not in registry  # still invalid as a whole

    path.unlink()
    registry.refresh()
    assert "app.cache_flush" not in registry and "app.cache_warm" in registry
    registry.refresh(force=True)
    assert "app.cache_warm" in registry


def test_policy_judges_tools_loaded_after_it_was_built(tmp_path: Path) -> None:
    registry = build_registry([tmp_path])
    policy = Policy.default(registry)
    _edit(tmp_path / "flush.yaml", GOOD)
    registry.refresh()
    spec = registry.get("app.cache_flush")
    step = PlanStep(
        id="s1", tool=spec.name, risk=spec.risk, targets=(WEB,), args={"app": "shop", "log": "/etc/shadow"}
    )
    assert "app.cache_flush" in policy.permitted_tools(OPERATOR)
    denial = policy.step_denial(step, OPERATOR)
    assert denial is not None and "shadow-files" in denial  # the path policy covers the new tool
