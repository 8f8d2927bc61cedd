"""Fixtures of the pipeline tests: `planner`, a grammar-only planner over the reference inventory
with the built-in catalog (module-scoped). The inventories and other planners: planning.py."""

from __future__ import annotations

from tests.pipeline.planning import REFERENCE, planner_fixture

planner = planner_fixture(REFERENCE)
