"""Per-stage LLM counters (requests, cache hits, retries, failures, tokens, seconds).

The client records into one `LLMUsageMeter`; the app exports `snapshot()` as metrics
(e.g. a Prometheus collector reading it at scrape time) and the eval command reads
the totals per request from the `LLMUsage` each call returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pipeline.ports import LLMUsage


@dataclass
class StageUsage:
    """Running totals for one stage name (e.g. "understand", "answer")."""

    requests: int = 0  # answered by the server
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0  # served from the server's prefix cache, when it says so
    completion_tokens: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass
class LLMUsageMeter:
    stages: dict[str, StageUsage] = field(default_factory=dict)

    def _stage(self, stage: str) -> StageUsage:
        return self.stages.setdefault(stage, StageUsage())

    def record(self, stage: str, usage: LLMUsage, seconds: float, *, cached_prompt: int = 0) -> None:
        s = self._stage(stage)
        if usage.cached:
            s.cache_hits += 1
            return
        s.requests += 1
        s.prompt_tokens += usage.prompt_tokens
        s.completion_tokens += usage.completion_tokens
        s.cached_prompt_tokens += cached_prompt
        s.seconds += seconds

    def retried(self, stage: str) -> None:
        self._stage(stage).retries += 1

    def failed(self, stage: str) -> None:
        self._stage(stage).failures += 1

    def snapshot(self) -> dict[str, dict[str, float]]:
        """{stage: {counter: value}}, a copy safe to hand to an exporter."""
        return {name: s.as_dict() for name, s in sorted(self.stages.items())}
