"""The alert webhooks on the HTTP API: `POST /api/v1/alerts/alertmanager` and `/alerts/webhook`.

Both take `Authorization: Bearer <alerts.token>` (Alertmanager: `http_config.authorization`),
compared in constant time; they answer 202 with a `Receipt` at once and diagnose afterwards.
"""

from __future__ import annotations

from aiohttp import web

from adapters.alerts.diagnosis import AlertDiagnosis
from adapters.alerts.payloads import AlertmanagerWebhook, GenericWebhook, Receipt
from adapters.api.problems import ApiProblem
from adapters.api.routes import API, backend, body_of, json_out


@API.route(
    "POST",
    "/alerts/alertmanager",
    summary="Prometheus Alertmanager webhook (version 4): new alerts start a read-only diagnosis",
    tag="alerts",
    roles=None,
    auth="alerts",
    body=AlertmanagerWebhook,
    response=Receipt,
    status=202,
)
async def alertmanager_webhook(request: web.Request) -> web.Response:
    body = await body_of(request, AlertmanagerWebhook)
    group = body.groupKey or f"{body.receiver}:{sorted(body.groupLabels.items())}"
    return json_out(await _diagnosis(request).receive(body.normalised(), group), 202)


@API.route(
    "POST",
    "/alerts/webhook",
    summary="Generic JSON alert webhook: new alerts start a read-only diagnosis",
    tag="alerts",
    roles=None,
    auth="alerts",
    body=GenericWebhook,
    response=Receipt,
    status=202,
)
async def generic_webhook(request: web.Request) -> web.Response:
    body = await body_of(request, GenericWebhook)
    return json_out(await _diagnosis(request).receive(body.normalised(), body.group), 202)


def _diagnosis(request: web.Request) -> AlertDiagnosis:
    found: AlertDiagnosis | None = backend(request).alerts
    if found is None:
        raise ApiProblem(
            404, "alerts are not enabled (alerts.enabled, and alerts.channel or alerts.teams_channel)"
        )
    return found
