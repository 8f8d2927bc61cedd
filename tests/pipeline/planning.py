"""The understanding tests' bench: the test inventories, the operator who asks, planners over an
inventory (the built-in catalog, or with the shipped packs as the bot runs) and the shapes the
tests compare plans by. The `planner` fixture (reference inventory, built-in catalog) is in
tests/pipeline/conftest.py; a module wanting other planners names them with `planner_fixture`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.evaluation import load_directory
from domains.catalog import build_registry
from domains.packs import SHIPPED
from pipeline.contracts import Plan, Principal
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.registry import ToolRegistry

DATA = Path(__file__).resolve().parents[1] / "data"
_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "inventory.yaml"
REFERENCE = _SHARED if _SHARED.exists() else DATA / "inventory_fixture_copy.yaml"
ALT = DATA / "inventory_alt.yaml"  # another company: app-eu-7, pg-main, ...
BLIND2 = DATA / "inventory_blind2.yaml"
CAMPUS = DATA / "inventory_campus.yaml"
THIRD = DATA / "inventory_third.yaml"
FLAGS = DATA / "inventory_flags.yaml"
OPERATOR = Principal(subject="t-operator", roles=frozenset({"operator"}))

Step = tuple[str, list[str], dict[str, Any]]


def catalog(*, packs: bool = False) -> ToolRegistry:
    """The built-in tools, and with `packs` the shipped catalog packs too."""
    return build_registry([SHIPPED]) if packs else build_registry()


def planner_on(inventory: Path, registry: ToolRegistry | None = None) -> HybridPlanner:
    """A grammar-only planner over the inventory file (a fresh built-in catalog by default)."""
    return HybridPlanner(registry or catalog(), load_directory(inventory))


def planner_fixture(inventory: Path, *, packs: bool = False) -> Callable[[], HybridPlanner]:
    """A module-scoped fixture: a planner over `inventory`, named by the attribute it is bound to."""

    @pytest.fixture(scope="module")
    def fixture() -> HybridPlanner:
        return planner_on(inventory, catalog(packs=packs))

    return fixture


def planners_fixture(
    inventories: Mapping[str, Path], *, packs: bool = True
) -> Callable[[], dict[str, HybridPlanner]]:
    """A module-scoped fixture: one planner per named inventory, sharing one catalog."""

    @pytest.fixture(scope="module")
    def fixture() -> dict[str, HybridPlanner]:
        registry = catalog(packs=packs)
        return {name: planner_on(path, registry) for name, path in inventories.items()}

    return fixture


async def policed(planner: HybridPlanner, text: str, principal: Principal = OPERATOR) -> Plan:
    """The plan as the bot would hold it: planned, then the default policy applied."""
    return Policy.default(planner.registry).apply(await planner.plan(text, principal), principal)


def only(plan: Plan) -> Step:
    """The one step a plan holds: tool, targets (in the planned order), args."""
    assert plan.outcome == "plan", plan.message
    [step] = plan.steps
    return step.tool, step.target_names, step.args


def only_sorted(plan: Plan) -> Step:
    """The one step a plan holds: tool, sorted targets, args."""
    tool, targets, args = only(plan)
    return tool, sorted(targets), args


def rows(plan: Plan) -> list[Step]:
    """Every step as tool, sorted targets, args."""
    return [(s.tool, sorted(s.target_names), s.args) for s in plan.steps]
