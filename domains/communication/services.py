"""What the composition root registers for the notification tools."""

from __future__ import annotations

from typing import Any

from domains.communication.config import NotifyConfig
from domains.communication.notifier import Notifier
from domains.communication.ports import DeliveryLog, TemplateStore


def communication_services(
    config: NotifyConfig, *, templates: TemplateStore | None = None, delivery_log: DeliveryLog | None = None
) -> dict[type[Any], Any]:
    """The config, one Notifier (shared redactor, delivery log) and the template store."""
    services: dict[type[Any], Any] = {
        NotifyConfig: config,
        Notifier: Notifier(config, log_store=delivery_log),
    }
    if templates is not None:
        services[TemplateStore] = templates
    if delivery_log is not None:
        services[DeliveryLog] = delivery_log
    return services
