"""Catalog files' `read:` key: the read that answers talk about a change (a question, advice, a
report). Validated with file:line; planned for such talk, with the change offered, never planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import load_directory
from domains.catalog import build_registry
from domains.packs.loader import CatalogInvalid
from pipeline.contracts import Principal
from pipeline.planner import HybridPlanner

DATA = Path(__file__).resolve().parents[2] / "data"
OPERATOR = Principal(subject="t-operator", roles=frozenset({"operator"}))
FLUSH = """\
name: demo.queue_flush
description: Drop every message waiting in a message queue.
risk: write
params:
  queue: {{type: string, pattern: '[a-z][a-z0-9-]{{0,31}}', follows: [queue]}}
linux:
  argv: [/usr/local/bin/qtool, flush, "{{queue}}"]
phrasing:
  verbs: [flush, purge]
  objects: [queue]
  examples:
    - flush the orders queue on ber-mq-1
{extra}
"""


def _catalog(folder: Path, extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flush.yaml").write_text(FLUSH.format(extra=extra))
    return folder


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("read: {tool: demo.nothing}", "read.tool: there is no read tool named demo.nothing"),
        ("read: {tool: automation.reboot}", "read.tool: there is no read tool named automation.reboot"),
        ("read: {tool: automation.service_status}", "read.args: automation.service_status needs service"),
        (
            "read: {tool: automation.service_status, args: {service: x, colour: red}}",
            "read.args.colour: automation.service_status has no parameter colour",
        ),
        (
            "read: {tool: automation.service_status, args: {service: '{topic}'}}",
            "read.args.service: {topic} is not a parameter",
        ),
    ],
)
def test_the_read_key_is_validated_with_lines(tmp_path: Path, extra: str, problem: str) -> None:
    folder = _catalog(tmp_path / "catalog", extra)
    with pytest.raises(CatalogInvalid) as raised:
        build_registry([folder])  # with the built-in tools a read may name
    [reported] = raised.value.problems
    assert problem in reported and "flush.yaml:" in reported


def test_a_read_tool_declares_no_read(tmp_path: Path) -> None:
    folder = _catalog(tmp_path / "catalog", "read: {tool: automation.service_status, args: {service: x}}")
    text = (folder / "flush.yaml").read_text().replace("risk: write", "risk: read")
    (folder / "flush.yaml").write_text(text)
    with pytest.raises(CatalogInvalid) as raised:
        build_registry([folder])
    assert "read is for change tools" in raised.value.problems[0]


@pytest.fixture
def planner(tmp_path: Path) -> HybridPlanner:
    extra = "read: {tool: automation.service_status, args: {service: rabbitmq-server}}"
    registry = build_registry([_catalog(tmp_path / "catalog", extra)])
    return HybridPlanner(registry, load_directory(DATA / "inventory_reads.yaml"))


@pytest.mark.parametrize(
    "text",
    ["should I flush the orders queue on ber-mq-1?", "is it safe to purge the orders queue on ber-mq-1"],
)
async def test_advice_about_the_change_plans_its_declared_read(planner: HybridPlanner, text: str) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert [(s.tool, s.args, s.target_names) for s in plan.steps] == [
        ("automation.service_status", {"service": "rabbitmq-server"}, ["ber-mq-1"])
    ]
    assert "demo.queue_flush ber-mq-1 queue=orders" in plan.message


async def test_the_order_still_plans_the_change(planner: HybridPlanner) -> None:
    plan = await planner.plan("flush the orders queue on ber-mq-1", OPERATOR)
    assert [(s.tool, s.args) for s in plan.steps] == [("demo.queue_flush", {"queue": "orders"})]
