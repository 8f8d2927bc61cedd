"""process_list `match`: a real name (matching/named/filtered by X, X processes), never a verb or pronoun."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


@pytest.mark.parametrize(
    ("text", "targets", "match"),
    [
        ("fetch the process list from api-02 filtered to gunicorn", ["api-02"], "gunicorn"),
        ("display all processes on db-stg-01 called postmaster", ["db-stg-01"], "postmaster"),
        ("grep processes for celery on api-01", ["api-01"], "celery"),
        ("list processes named after java on api-01", ["api-01"], "java"),
        ("show processes whose name contains java on win-app-01", ["win-app-01"], "java"),
        ("show their processes on web-01 and web-02", ["web-01", "web-02"], None),
        ("give me the running processes for cache-01", ["cache-01"], None),
        ("ping db-01 then show its processes", ["db-01"], None),
    ],
)
async def test_match_is_a_real_name_or_absent(
    planner: HybridPlanner, text: str, targets: list[str], match: str | None
) -> None:
    plan = await planner.plan(text, OPERATOR)
    step = next(s for s in plan.steps if s.tool == "automation.process_list")
    assert sorted(step.target_names) == targets
    assert step.args.get("match") == match
