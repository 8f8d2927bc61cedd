"""Fixtures for the LLM client: the scripted OpenAI-compatible server and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.llm import OpenAIClientConfig, OpenAICompatibleClient
from tests.fakes.openai_server import ScriptedOpenAIServer


class DictCache:
    """A plain in-memory `Cache` (TTL ignored) that counts reads and writes."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.gets = 0
        self.sets = 0

    async def get(self, key: str) -> bytes | None:
        self.gets += 1
        return self.data.get(key)

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        self.sets += 1
        self.data[key] = value

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        if key in self.data:
            return False
        self.data[key] = value
        return True

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)


@pytest.fixture
async def llm_server() -> AsyncIterator[ScriptedOpenAIServer]:
    async with ScriptedOpenAIServer() as server:
        yield server
        assert server.problems == []


@pytest.fixture
async def make_client(llm_server: ScriptedOpenAIServer) -> AsyncIterator[Any]:
    """Factory: a client on the scripted server with short backoff; closed at teardown."""
    clients: list[OpenAICompatibleClient] = []

    def make(**overrides: Any) -> OpenAICompatibleClient:
        cache = overrides.pop("cache", None)
        values: dict[str, Any] = {
            "base_url": llm_server.base_url,
            "model": "stand-in-model",
            "timeout_s": 2.0,
            "retries": 2,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
        }
        values.update(overrides)
        client = OpenAICompatibleClient(OpenAIClientConfig(**values), cache=cache)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
