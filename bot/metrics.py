"""Prometheus metrics of a replica or worker, and the decorators that feed them.

    opsconductor_stage_seconds{stage}            plan (stages A-C), step (E, per step), submit, decide
    opsconductor_llm_calls{stage,result}         LLM requests answered / cached / retried / failed
    opsconductor_llm_tokens{stage,kind}          prompt / completion tokens
    opsconductor_tool_results{tool,status}       one per target result (ok, failed, timeout ...)
    opsconductor_tool_seconds{tool}              duration of each target result, per tool
    opsconductor_step_queue_depth                steps waiting for a worker (arq engine)
    opsconductor_approval_wait_seconds{decision} from approval prompt to decision
    opsconductor_step_jobs{outcome}              worker side: step jobs run, retried after a lost worker
    opsconductor_rate_limited{scope}             requests refused by a rate limit (person, channel, ...)

HTTP requests are counted by the server itself (opsconductor_http_requests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from pipeline.contracts import Decision, InboundMessage, Plan, PlanStep, Principal, Response, StepResult
from pipeline.dispatch import REQUEST_ID, StepDispatcher, StepJob, current_request_id
from pipeline.ports import ApprovalRecord, ProgressCallback

STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
WAIT_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.stage_seconds = Histogram(
            "opsconductor_stage_seconds", "Latency per pipeline stage", ["stage"], registry=registry,
            buckets=STAGE_BUCKETS,
        )  # fmt: skip
        self.tool_results = Counter(
            "opsconductor_tool_results",
            "Target results by tool and status",
            ["tool", "status"],
            registry=registry,
        )
        self.tool_seconds = Histogram(
            "opsconductor_tool_seconds", "Duration of each target result, by tool", ["tool"],
            registry=registry, buckets=STAGE_BUCKETS,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "opsconductor_step_queue_depth", "Steps waiting for or running on a worker", registry=registry
        )
        self.approval_wait = Histogram(
            "opsconductor_approval_wait_seconds", "Time from approval prompt to decision", ["decision"],
            registry=registry, buckets=WAIT_BUCKETS,
        )  # fmt: skip
        self.rate_limited = Counter(
            "opsconductor_rate_limited",
            "Requests refused by a rate limit, by scope",
            ["scope"],
            registry=registry,
        )
        self.step_jobs = Counter(
            "opsconductor_step_jobs",
            "Step jobs run by this worker, by outcome",
            ["outcome"],
            registry=registry,
        )

    def observe_step(self, result: StepResult) -> None:
        for target in result.results:
            self.tool_results.labels(result.tool or "-", target.status.value).inc()
            self.tool_seconds.labels(result.tool or "-").observe(target.duration_ms / 1000)

    def observe_job(self, job: StepJob, result: StepResult, job_try: int) -> None:
        """StepJobHandler's observer: what a worker ran (tool results are counted by the replica that
        dispatched the step, so sums over a deployment count each result once)."""
        self.step_jobs.labels("ok" if result.ok else "failed").inc()
        if job_try > 1:
            self.step_jobs.labels("after_lost_worker").inc()


class LLMCollector(Collector):
    """Reads an adapters.llm LLMUsageMeter at scrape time."""

    def __init__(self, meter: Any) -> None:
        self.meter = meter

    def collect(self) -> Iterator[CounterMetricFamily]:
        calls = CounterMetricFamily(
            "opsconductor_llm_calls", "LLM calls by stage and result", labels=["stage", "result"]
        )
        tokens = CounterMetricFamily(
            "opsconductor_llm_tokens", "LLM tokens by stage and kind", labels=["stage", "kind"]
        )
        for stage, usage in self.meter.snapshot().items():
            for result, key in (("answered", "requests"), ("cached", "cache_hits"), ("retried", "retries"),
                                ("failed", "failures")):  # fmt: skip
                calls.add_metric([stage, result], usage[key])
            tokens.add_metric([stage, "prompt"], usage["prompt_tokens"])
            tokens.add_metric([stage, "completion"], usage["completion_tokens"])
        yield calls
        yield tokens


class TimedPlanner:
    """Planner decorator: times stages A-C."""

    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self.inner, self.metrics = inner, metrics

    async def plan(self, text: str, principal: Principal, conversation: str = "") -> Plan:
        with self.metrics.stage_seconds.labels("plan").time():
            plan: Plan = await self.inner.plan(text, principal, conversation)
        return plan


class MeteredDispatcher:
    """StepDispatcher decorator: times each step and counts its target results."""

    def __init__(self, inner: StepDispatcher, metrics: Metrics) -> None:
        self.inner, self.metrics = inner, metrics

    async def dispatch(self, job: StepJob, step: PlanStep, progress: ProgressCallback | None) -> StepResult:
        with self.metrics.stage_seconds.labels("step").time():
            result = await self.inner.dispatch(job, step, progress)
        self.metrics.observe_step(result)
        return result


class MeteredLimiter:
    """RateLimiter decorator: counts refusals by scope (the key's prefix, `person:...`)."""

    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self.inner, self.metrics = inner, metrics

    async def allow(self, key: str, limit: int, per_s: float) -> bool:
        allowed: bool = await self.inner.allow(key, limit, per_s)
        if not allowed:
            self.metrics.rate_limited.labels(key.split(":", 1)[0]).inc()
        return allowed


class Front:
    """What adapters call instead of the kernel: request id bound, latency measured."""

    def __init__(self, kernel: Any, metrics: Metrics) -> None:
        self.kernel, self.metrics = kernel, metrics

    async def submit(
        self, message: InboundMessage, progress: ProgressCallback | None = None, *, admitted: bool = False
    ) -> Response:
        async with _bound(message.message_id):
            with self.metrics.stage_seconds.labels("submit").time():
                response: Response = await self.kernel.submit(message, progress, admitted=admitted)
        return response

    async def decide(self, decision: Decision, progress: ProgressCallback | None = None) -> Response:
        async with _bound(decision.execution_id):
            with self.metrics.stage_seconds.labels("decide").time():
                response: Response = await self.kernel.decide(decision, progress)
        return response


class MeteredStore:
    """ExecutionStore decorator: the one decision that takes effect records how long it waited."""

    def __init__(self, inner: Any, metrics: Metrics, approval_ttl_s: float) -> None:
        self.inner, self.metrics, self.approval_ttl_s = inner, metrics, approval_ttl_s

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def decide_approval(
        self, execution_id: str, approve: bool, decided_by: str, now: datetime, via: str = ""
    ) -> tuple[ApprovalRecord, bool]:
        record, won = await self.inner.decide_approval(execution_id, approve, decided_by, now, via)
        if won:
            opened = record.expires_at.timestamp() - self.approval_ttl_s
            decided = (record.decided_at or now).timestamp()
            self.metrics.approval_wait.labels(record.state).observe(max(0.0, decided - opened))
        return record, won


class _bound:
    """Binds a request id for the block unless one is bound already (e.g. by the HTTP server)."""

    def __init__(self, fallback: str) -> None:
        self.fallback = fallback
        self.token: Any = None

    async def __aenter__(self) -> None:
        if not current_request_id():
            self.token = REQUEST_ID.set(self.fallback)

    async def __aexit__(self, *exc: object) -> None:
        if self.token is not None:
            REQUEST_ID.reset(self.token)


def instrument(kernel: Any, registry: CollectorRegistry, approval_ttl_s: float) -> tuple[Metrics, Front]:
    """Decorate the kernel's planner, store and step dispatcher; returns the metrics and the front."""
    metrics = Metrics(registry)
    planner = getattr(kernel, "planner", None)
    if planner is not None and not isinstance(planner, TimedPlanner):
        kernel.planner = TimedPlanner(planner, metrics)
        meter = llm_meter(planner)
        if meter is not None:
            registry.register(LLMCollector(meter))
    store = getattr(kernel, "store", None)
    if store is not None and not isinstance(store, MeteredStore):
        kernel.store = MeteredStore(store, metrics, approval_ttl_s)
    admission = getattr(kernel, "admission", None)
    if admission is not None and not isinstance(admission.limiter, MeteredLimiter):
        admission.limiter = MeteredLimiter(admission.limiter, metrics)
    executor = getattr(kernel, "executor", None)
    if executor is not None and not isinstance(executor.dispatcher, MeteredDispatcher):
        executor.dispatcher = MeteredDispatcher(executor.dispatcher, metrics)
    return metrics, Front(kernel, metrics)


def llm_meter(planner: Any) -> Any:
    """The LLM client's usage meter behind a HybridPlanner's fallback, if there is one."""
    client = getattr(getattr(planner, "fallback", None), "client", None)
    return getattr(client, "meter", None)


def queue_refresher(dispatcher: Any, metrics: Metrics) -> Callable[[], Awaitable[None]]:
    """A pre-scrape hook setting the queue depth gauge from the arq dispatcher."""

    async def refresh() -> None:
        if hasattr(dispatcher, "queue_depth"):
            metrics.queue_depth.set(await dispatcher.queue_depth())

    return refresh
