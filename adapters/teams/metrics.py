"""Prometheus metrics of the Teams adapter, registered on the registry the server exposes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class TeamsMetrics:
    """Requests by activity kind and HTTP status, duplicates ignored, requests refused when busy."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "opsconductor_teams_requests",
            "Teams activities received, by kind (message, invoke, ...) and HTTP status answered",
            ["kind", "status"],
            registry=registry,
        )
        self.duplicates = Counter(
            "opsconductor_teams_duplicates", "Redelivered activities ignored", registry=registry
        )
        self.rejected = Counter(
            "opsconductor_teams_queue_rejections",
            "Requests refused because the queue was full",
            registry=registry,
        )
