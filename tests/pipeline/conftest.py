"""Fixtures of the pipeline tests: `planner`, a grammar-only planner over the reference inventory
with the built-in catalog (module-scoped); `server`, the scripted OpenAI-compatible stand-in for
vLLM (every request it saw must follow the protocol), and `client`, the project's LLM client on it.
The inventories and other planners: planning.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.llm import OpenAIClientConfig, OpenAICompatibleClient
from tests.fakes.openai_server import ScriptedOpenAIServer
from tests.pipeline.planning import REFERENCE, planner_fixture

planner = planner_fixture(REFERENCE)


@pytest.fixture
async def server() -> AsyncIterator[ScriptedOpenAIServer]:
    async with ScriptedOpenAIServer() as s:
        yield s
        assert s.problems == []


@pytest.fixture
async def client(server: ScriptedOpenAIServer) -> AsyncIterator[OpenAICompatibleClient]:
    config = OpenAIClientConfig(base_url=server.base_url, model="stand-in-model", timeout_s=2, retries=0)
    async with OpenAICompatibleClient(config) as c:
        yield c
