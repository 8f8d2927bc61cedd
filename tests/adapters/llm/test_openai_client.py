"""OpenAICompatibleClient against the scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

import asyncio
import email.utils
import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.llm.openai_client import OpenAIClientConfig, OpenAICompatibleClient, retry_after_s
from pipeline.errors import InvalidModelOutput, LLMUnavailable
from tests.adapters.llm.conftest import DictCache
from tests.fakes.openai_server import ScriptedOpenAIServer

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "maxLength": 20}},
    "required": ["answer"],
    "additionalProperties": False,
}
MESSAGES = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "hi"}]


async def ask(client: OpenAICompatibleClient, messages: list[dict[str, str]] = MESSAGES) -> Any:
    return await client.complete_json(
        messages, SCHEMA, schema_name="probe", stage="understand", max_tokens=64
    )


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


async def test_answer_is_parsed_and_request_is_schema_constrained(
    llm_server: ScriptedOpenAIServer, make_client: Any
) -> None:
    llm_server.reply_json({"answer": "hello"}, prompt_tokens=42, completion_tokens=7)
    client = make_client(api_key="sk-test")

    value, usage = await ask(client)

    assert value == {"answer": "hello"}
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached) == (42, 7, False)
    body = llm_server.requests[0].body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "probe", "schema": SCHEMA, "strict": True},
    }
    assert body["temperature"] == 0
    assert body["max_completion_tokens"] == body["max_tokens"] == 64
    assert body["model"] == "stand-in-model"
    assert llm_server.requests[0].headers["Authorization"] == "Bearer sk-test"


async def test_llama_cpp_mode_sends_json_object_with_schema(
    llm_server: ScriptedOpenAIServer, make_client: Any
) -> None:
    llm_server.reply_json({"answer": "x"})
    client = make_client(structured_output="json_object")

    await ask(client)

    assert llm_server.requests[0].body["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert "Authorization" not in llm_server.requests[0].headers


@pytest.mark.parametrize(
    ("content", "finish"),
    [('{"answer": "unterminated', "stop"), ('["not", "an", "object"]', "stop"), ('{"answer": "a', "length")],
    ids=["invalid-json", "not-an-object", "cut-off"],
)
async def test_malformed_output_raises_invalid_model_output(
    llm_server: ScriptedOpenAIServer, make_client: Any, content: str, finish: str
) -> None:
    llm_server.reply_text(content, finish_reason=finish)
    client = make_client()

    with pytest.raises(InvalidModelOutput):
        await ask(client)
    assert len(llm_server.requests) == 1  # a bad answer is not retried: temperature 0 repeats it
    assert client.meter.snapshot()["understand"]["failures"] == 1


async def test_timeout_is_retried_then_succeeds(llm_server: ScriptedOpenAIServer, make_client: Any) -> None:
    llm_server.stall(5)
    llm_server.reply_json({"answer": "late"})
    client = make_client(timeout_s=0.3)

    value, _ = await ask(client)

    assert value == {"answer": "late"}
    assert len(llm_server.requests) == 2
    assert client.meter.snapshot()["understand"]["retries"] == 1


async def test_timeouts_exhaust_the_retries(llm_server: ScriptedOpenAIServer, make_client: Any) -> None:
    llm_server.stall(5)
    llm_server.stall(5)
    client = make_client(timeout_s=0.3, retries=1)

    with pytest.raises(LLMUnavailable, match="after 2 attempts: timed out"):
        await ask(client)
    assert len(llm_server.requests) == 2


async def test_5xx_then_success_with_exponential_jittered_backoff(
    llm_server: ScriptedOpenAIServer, make_client: Any
) -> None:
    llm_server.reply_status(503)
    llm_server.reply_status(500)
    llm_server.reply_json({"answer": "ok"})
    client = make_client(backoff_base_s=1.0, backoff_max_s=10.0)
    client.sleep = sleep = RecordingSleep()

    value, _ = await ask(client)

    assert value == {"answer": "ok"}
    assert len(llm_server.requests) == 3
    first, second = sleep.calls
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0


async def test_5xx_exhausting_retries_raises(llm_server: ScriptedOpenAIServer, make_client: Any) -> None:
    for _ in range(3):
        llm_server.reply_status(502)
    client = make_client(retries=2)

    with pytest.raises(LLMUnavailable, match="HTTP 502"):
        await ask(client)
    assert len(llm_server.requests) == 3


@pytest.mark.parametrize("header", ["delta", "http-date"])
async def test_429_honours_retry_after(
    llm_server: ScriptedOpenAIServer, make_client: Any, header: str
) -> None:
    value = "3"
    if header == "http-date":
        value = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    llm_server.reply_status(429, headers={"Retry-After": value})
    llm_server.reply_json({"answer": "ok"})
    client = make_client()
    client.sleep = sleep = RecordingSleep()

    await ask(client)

    assert len(sleep.calls) == 1
    assert 1.5 <= sleep.calls[0] <= 3.0


async def test_retry_after_is_capped(llm_server: ScriptedOpenAIServer, make_client: Any) -> None:
    llm_server.reply_status(429, headers={"Retry-After": "3600"})
    llm_server.reply_json({"answer": "ok"})
    client = make_client(retry_after_max_s=2.0)
    client.sleep = sleep = RecordingSleep()

    await ask(client)

    assert sleep.calls == [2.0]


async def test_client_error_is_not_retried(llm_server: ScriptedOpenAIServer, make_client: Any) -> None:
    llm_server.reply_status(404, body='{"error": "model not found"}')
    client = make_client()

    with pytest.raises(LLMUnavailable, match=r"HTTP 404.*model not found"):
        await ask(client)
    assert len(llm_server.requests) == 1


async def test_server_down_raises_llm_unavailable_at_once() -> None:
    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = OpenAIClientConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", retries=3)
    sleep = RecordingSleep()
    async with OpenAICompatibleClient(config, sleep=sleep) as client:
        with pytest.raises(LLMUnavailable, match="cannot connect"):
            await ask(client)
    assert sleep.calls == []


async def test_identical_request_is_served_from_cache(
    llm_server: ScriptedOpenAIServer, make_client: Any
) -> None:
    llm_server.reply_json({"answer": "first"}, prompt_tokens=100)
    llm_server.reply_json({"answer": "second"}, prompt_tokens=100)
    cache = DictCache()
    client = make_client(cache=cache)

    first, usage1 = await ask(client)
    again, usage2 = await ask(client)

    assert first == again == {"answer": "first"}
    assert len(llm_server.requests) == 1
    assert usage1.prompt_tokens == 100 and not usage1.cached
    assert usage2.cached and usage2.prompt_tokens == 0
    other = [*MESSAGES[:1], {"role": "user", "content": "something else"}]
    assert (await ask(client, other))[0] == {"answer": "second"}
    assert len(llm_server.requests) == 2
    snapshot = client.meter.snapshot()["understand"]
    assert (snapshot["requests"], snapshot["cache_hits"], snapshot["prompt_tokens"]) == (2, 1, 200)


async def test_cache_key_depends_on_model_messages_and_schema(make_client: Any) -> None:
    a = make_client(model="a")
    b = make_client(model="b")
    key = a.cache_key(MESSAGES, SCHEMA)
    assert key.startswith("llm:a:") and key != b.cache_key(MESSAGES, SCHEMA)
    assert key != a.cache_key(MESSAGES, {**SCHEMA, "maxProperties": 1})
    assert key == a.cache_key([dict(m) for m in MESSAGES], json.loads(json.dumps(SCHEMA)))


async def test_a_broken_cache_does_not_break_the_call(
    llm_server: ScriptedOpenAIServer, make_client: Any
) -> None:
    class BrokenCache(DictCache):
        async def get(self, key: str) -> bytes | None:
            raise ConnectionError("redis is down")

        async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
            raise ConnectionError("redis is down")

    llm_server.reply_json({"answer": "ok"})
    client = make_client(cache=BrokenCache())

    assert (await ask(client))[0] == {"answer": "ok"}


async def test_concurrency_limit_is_honoured(llm_server: ScriptedOpenAIServer, make_client: Any) -> None:
    for i in range(6):
        llm_server.reply_json({"answer": str(i)}, delay_s=0.1)
    client = make_client(max_concurrency=2)

    results = await asyncio.gather(
        *(ask(client, [{"role": "user", "content": f"question {i}"}]) for i in range(6))
    )

    assert len(results) == 6
    assert llm_server.max_in_flight == 2


def test_retry_after_parsing() -> None:
    assert retry_after_s("7") == 7.0
    assert retry_after_s(None) is None
    assert retry_after_s("soon") is None
    past = email.utils.format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert retry_after_s(past) == 0.0


def test_config_from_settings_mirrors_llm_settings() -> None:
    from bot.settings import LLMSettings

    settings = LLMSettings(base_url="http://127.0.0.1:9/v1", api_key="k", structured_output="json_object")
    config = OpenAIClientConfig.from_settings(settings, backoff_base_s=0.1)
    assert config.api_key == "k"
    assert config.structured_output == "json_object"
    assert (config.retries, config.max_concurrency, config.backoff_base_s) == (2, 4, 0.1)


async def test_in_process_cache_serves_the_repeat(llm_server: ScriptedOpenAIServer, make_client: Any) -> None:
    from adapters.cache import InProcessCache

    llm_server.reply_json({"answer": "once"})
    client = make_client(cache=InProcessCache())

    assert (await ask(client))[0] == (await ask(client))[0] == {"answer": "once"}
    assert len(llm_server.requests) == 1


async def test_redis_cache_is_shared_between_replicas(
    llm_server: ScriptedOpenAIServer, make_client: Any, redis_url: str
) -> None:
    from adapters.cache import RedisCache

    llm_server.reply_json({"answer": "from replica one"})
    caches = [RedisCache.from_url(redis_url, "test:"), RedisCache.from_url(redis_url, "test:")]
    try:
        one, two = make_client(cache=caches[0]), make_client(cache=caches[1])
        first, _ = await ask(one)
        second, usage = await ask(two)
    finally:
        for cache in caches:
            await cache.close()

    assert first == second == {"answer": "from replica one"}
    assert usage.cached and len(llm_server.requests) == 1
