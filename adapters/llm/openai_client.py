"""`LLMClient` over any OpenAI-compatible /v1/chat/completions endpoint (vLLM, llama.cpp).

Plain httpx rather than the `openai` package: httpx is already a dependency, the
request needs non-standard fields (llama.cpp's ``{"type": "json_object", "schema": S}``
and both ``max_completion_tokens`` and ``max_tokens``), and the retry policy
(backoff with jitter, Retry-After, no retry on refused connections) must be ours,
not the SDK's second layer of retries underneath it.

Contract of `complete_json`: temperature 0, schema-constrained output, at most
``1 + retries`` HTTP attempts per call (timeouts, 5xx, 429 and dropped connections
are retried with exponential backoff and full jitter; a Retry-After header wins),
at most ``max_concurrency`` requests in flight, answers cached by model + sha256 of
(messages, schema). Raises `LLMUnavailable` when the server cannot be reached or
keeps failing, `LLMContextOverflow` when it refuses the prompt as longer than the model's
context (vLLM: HTTP 400 "This model's maximum context length is N tokens. However, ..."),
`InvalidModelOutput` when it answers with something that is not a JSON object.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from adapters.llm.usage import LLMUsageMeter
from pipeline.errors import InvalidModelOutput, LLMContextOverflow, LLMUnavailable
from pipeline.ports import Cache, LLMUsage

log = logging.getLogger(__name__)

StructuredOutput = Literal["json_schema", "json_object"]
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# vLLM (and OpenAI) word it "This model's maximum context length is 8192 tokens. However, you
# requested 8203 tokens (...)" / "... However, your request has 9000 input tokens ..."
CONTEXT_OVERFLOW = re.compile(r"maximum context length is (\d+) tokens", re.IGNORECASE)
_REQUESTED = re.compile(r"(?:you requested|your request has) (\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class OpenAIClientConfig:
    """Mirrors `bot.settings.LLMSettings`, plus the backoff knobs tests shorten."""

    base_url: str
    model: str
    api_key: str = ""
    structured_output: StructuredOutput = "json_schema"
    timeout_s: float = 20.0
    retries: int = 2
    max_concurrency: int = 4
    cache_ttl_s: float = 3600.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_max_s: float = 30.0
    cache_prefix: str = "llm:"

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> OpenAIClientConfig:
        """Build from an `LLMSettings`-shaped object (duck-typed: adapters never import bot)."""
        key = settings.api_key
        values: dict[str, Any] = {
            "base_url": settings.base_url,
            "model": settings.model,
            "api_key": key.get_secret_value() if hasattr(key, "get_secret_value") else str(key),
            "structured_output": settings.structured_output,
            "timeout_s": settings.timeout_s,
            "retries": settings.retries,
            "max_concurrency": settings.max_concurrency,
            "cache_ttl_s": settings.cache_ttl_s,
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class _Attempt:
    """What one HTTP attempt produced: a body, or a reason to retry after `delay_s`."""

    body: dict[str, Any] | None = None
    retry_reason: str = ""
    delay_s: float | None = None


@dataclass
class OpenAICompatibleClient:
    """Schema-constrained chat completions; one instance per app, shared by all stages."""

    config: OpenAIClientConfig
    cache: Cache | None = None
    meter: LLMUsageMeter = field(default_factory=LLMUsageMeter)
    http: httpx.AsyncClient | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._semaphore = asyncio.Semaphore(self.config.max_concurrency)
        self._owns_http = self.http is None
        if self.http is None:
            headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
            self.http = httpx.AsyncClient(
                base_url=self.config.base_url.rstrip("/") + "/",
                headers=headers,
                timeout=httpx.Timeout(self.config.timeout_s),
            )

    async def aclose(self) -> None:
        if self._owns_http and self.http is not None:
            await self.http.aclose()

    async def __aenter__(self) -> OpenAICompatibleClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ public

    async def complete_json(
        self,
        messages: Sequence[dict[str, str]],
        schema: dict[str, Any],
        *,
        schema_name: str,
        stage: str,
        max_tokens: int = 512,
    ) -> tuple[dict[str, Any], LLMUsage]:
        """Return the parsed JSON object and token usage. Raises LLMUnavailable."""
        key = self.cache_key(messages, schema)
        cached = await self._cache_get(key)
        if cached is not None:
            self.meter.record(stage, LLMUsage(cached=True), 0.0)
            return cached, LLMUsage(cached=True)
        body = self._request_body(messages, schema, schema_name, max_tokens)
        started = time.perf_counter()
        try:
            answer = await self._post_with_retries(body, stage)
            result, usage = parse_completion(answer)
        except LLMUnavailable:
            self.meter.failed(stage)
            raise
        self.meter.record(stage, usage, time.perf_counter() - started, cached_prompt=_cached_prompt(answer))
        await self._cache_set(key, result)
        return result, usage

    def cache_key(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> str:
        """Model + sha256 of the canonical JSON of (messages, schema)."""
        canonical = json.dumps(
            {"messages": list(messages), "schema": schema}, sort_keys=True, separators=(",", ":")
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        return f"{self.config.cache_prefix}{self.config.model}:{digest}"

    # ------------------------------------------------------------------ request

    def _request_body(
        self, messages: Sequence[dict[str, str]], schema: dict[str, Any], name: str, max_tokens: int
    ) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "messages": list(messages),
            "temperature": 0,
            "max_completion_tokens": max_tokens,
            "max_tokens": max_tokens,  # llama.cpp and older servers read only this one
            "response_format": response_format(self.config.structured_output, name, schema),
        }

    async def _post_with_retries(self, body: dict[str, Any], stage: str) -> dict[str, Any]:
        attempts = 1 + self.config.retries
        reason = ""
        for attempt in range(attempts):
            async with self._semaphore:
                outcome = await self._post_once(body)
            if outcome.body is not None:
                return outcome.body
            reason = outcome.retry_reason
            if attempt + 1 < attempts:
                self.meter.retried(stage)
                delay = self._backoff(attempt, outcome.delay_s)
                log.info("LLM %s: %s; retry %d in %.2fs", stage, reason, attempt + 1, delay)
                await self.sleep(delay)
        raise LLMUnavailable(f"LLM failed after {attempts} attempts: {reason}")

    async def _post_once(self, body: dict[str, Any]) -> _Attempt:
        assert self.http is not None
        try:
            response = await self.http.post("chat/completions", json=body)
        except httpx.ConnectError as err:  # nothing listening: fail fast, the planner falls back
            raise LLMUnavailable(f"cannot connect to the LLM at {self.config.base_url}: {err}") from err
        except httpx.TimeoutException:
            return _Attempt(retry_reason=f"timed out after {self.config.timeout_s:g}s")
        except httpx.TransportError as err:
            return _Attempt(retry_reason=f"connection error: {err!r}")
        if response.status_code in RETRY_STATUSES:
            delay = retry_after_s(response.headers.get("retry-after"))
            return _Attempt(retry_reason=f"HTTP {response.status_code}", delay_s=delay)
        if response.status_code != 200:
            detail = response.text[:300]
            if response.status_code == 400 and CONTEXT_OVERFLOW.search(response.text):
                raise LLMContextOverflow(_overflow_detail(response.text))
            raise LLMUnavailable(f"LLM refused the request: HTTP {response.status_code}: {detail}")
        try:
            answer = response.json()
        except ValueError as err:
            raise LLMUnavailable("LLM answered with a body that is not JSON") from err
        if not isinstance(answer, dict):
            raise LLMUnavailable("LLM answered with an unexpected body")
        return _Attempt(body=answer)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.config.retry_after_max_s)
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2**attempt)
        return self.rng.uniform(ceiling / 2, ceiling)

    # ------------------------------------------------------------------ cache

    async def _cache_get(self, key: str) -> dict[str, Any] | None:
        if self.cache is None or self.config.cache_ttl_s <= 0:
            return None
        try:
            raw = await self.cache.get(key)
        except Exception as err:  # a broken cache must not take the LLM path down with it
            log.warning("LLM cache read failed: %r", err)
            return None
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    async def _cache_set(self, key: str, value: dict[str, Any]) -> None:
        if self.cache is None or self.config.cache_ttl_s <= 0:
            return
        try:
            await self.cache.set(key, json.dumps(value).encode(), ttl_s=self.config.cache_ttl_s)
        except Exception as err:
            log.warning("LLM cache write failed: %r", err)


def response_format(mode: StructuredOutput, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """vLLM/OpenAI `json_schema`, or llama.cpp's `json_object` carrying the schema."""
    if mode == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def parse_completion(answer: dict[str, Any]) -> tuple[dict[str, Any], LLMUsage]:
    """The JSON object in the first choice, and usage; raise InvalidModelOutput otherwise."""
    try:
        choice = answer["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError) as err:
        raise LLMUnavailable("LLM answer has no choices[0].message.content") from err
    usage = _usage(answer)
    if choice.get("finish_reason") == "length":
        raise InvalidModelOutput(f"model output was cut off at the token limit ({usage.completion_tokens})")
    if not isinstance(content, str):
        raise InvalidModelOutput("model returned no text")
    try:
        value = json.loads(content)
    except ValueError as err:
        raise InvalidModelOutput(f"model output is not valid JSON: {content[:120]!r}") from err
    if not isinstance(value, dict):
        raise InvalidModelOutput("model output is JSON but not an object")
    return value, usage


def _usage(answer: dict[str, Any]) -> LLMUsage:
    raw = answer.get("usage") or {}
    return LLMUsage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
    )


def _cached_prompt(answer: dict[str, Any]) -> int:
    details = (answer.get("usage") or {}).get("prompt_tokens_details") or {}
    return int(details.get("cached_tokens") or 0)


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _overflow_detail(body: str) -> str:
    """'the model takes 8192 tokens, this request needed 9210' from the server's refusal."""
    limit, requested = CONTEXT_OVERFLOW.search(body), _REQUESTED.search(body)
    said = f"the model takes {limit.group(1)} tokens" if limit else "the model's context is full"
    return f"{said}, this request needed {requested.group(1)}" if requested else said
