"""Prometheus metrics of the Slack adapter, registered on the registry the server exposes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class SlackMetrics:
    """Requests by kind and outcome, acks, duplicates, queue depth and rejections."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "opsconductor_slack_requests",
            "Slack requests received, by kind (event, command, action, other) and outcome",
            ["kind", "outcome"],
            registry=registry,
        )
        self.acks = Counter("opsconductor_slack_acks", "Slack requests acknowledged", registry=registry)
        self.retries = Counter(
            "opsconductor_slack_retries",
            "Deliveries Slack marked as retries (X-Slack-Retry-Num)",
            registry=registry,
        )
        self.duplicates = Counter(
            "opsconductor_slack_duplicates", "Retried or duplicated deliveries ignored", registry=registry
        )
        self.rejected = Counter(
            "opsconductor_slack_queue_rejections",
            "Requests refused because the queue was full",
            registry=registry,
        )
        self.queue_depth = Gauge(
            "opsconductor_slack_queue_depth", "Requests waiting for a worker", registry=registry
        )
        self.api_calls = Counter(
            "opsconductor_slack_api_calls",
            "Slack Web API calls made, by method",
            ["method"],
            registry=registry,
        )
