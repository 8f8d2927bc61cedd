"""Alert bodies: Prometheus Alertmanager's webhook (version 4) and a generic JSON shape, both
normalised to `Alert`."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["firing", "resolved"]


class Alert(BaseModel):
    """One alert as the diagnosis sees it."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: Status
    labels: dict[str, str]
    summary: str = ""
    fingerprint: str


class AlertmanagerAlert(BaseModel):
    status: Status
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class AlertmanagerWebhook(BaseModel):
    """What Alertmanager POSTs to a webhook receiver (`version: "4"`)."""

    version: str = "4"
    groupKey: str = ""
    truncatedAlerts: int = 0
    status: Status = "firing"
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertmanagerAlert] = Field(max_length=1000)

    def normalised(self) -> list[Alert]:
        return [
            Alert(
                name=a.labels.get("alertname", "alert"),
                status=a.status,
                labels=a.labels,
                summary=a.annotations.get("summary") or a.annotations.get("description", ""),
                fingerprint=a.fingerprint or fingerprint(a.labels),
            )
            for a in self.alerts
        ]


class GenericAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    status: Status = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str = Field("", max_length=2000)
    fingerprint: str = Field("", max_length=128)


class GenericWebhook(BaseModel):
    """A generic alert webhook: `{"group": "...", "alerts": [{"name", "status", "labels", ...}]}`."""

    model_config = ConfigDict(extra="forbid")

    group: str = Field("", max_length=255)
    alerts: list[GenericAlert] = Field(min_length=1, max_length=1000)

    def normalised(self) -> list[Alert]:
        return [
            Alert(
                name=a.name,
                status=a.status,
                labels=a.labels,
                summary=a.summary,
                fingerprint=a.fingerprint or fingerprint({"alertname": a.name, **a.labels}),
            )
            for a in self.alerts
        ]


class Receipt(BaseModel):
    """What the webhook answers: what became of each alert."""

    diagnosing: list[str] = Field(default_factory=list, description="Fingerprints whose diagnosis started.")
    duplicates: list[str] = Field(default_factory=list, description="Already being diagnosed: nothing new.")
    resolved: list[str] = Field(default_factory=list, description="Resolved; their threads were told.")
    unmatched: list[str] = Field(default_factory=list, description="No inventory asset matches the labels.")
    thread: str = Field("", description="The diagnosis thread (on the first chat platform).")
    threads: dict[str, str] = Field(
        default_factory=dict, description="The diagnosis thread per chat platform."
    )


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager-like: a stable hash of the label set."""
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
