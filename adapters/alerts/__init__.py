"""Alerts in, diagnosis out: Alertmanager and generic webhooks start a read-only runbook and post
its findings to a chat thread (adapters.alerts.diagnosis)."""

from adapters.alerts.diagnosis import AlertConfig, AlertDiagnosis, AlertPoster

__all__ = ["AlertConfig", "AlertDiagnosis", "AlertPoster"]
