"""Contract tests generated from the served OpenAPI document (schemathesis): every operation, fed
bodies, queries and path parameters generated from its schemas, answers as the document says
(no 5xx, a declared status, the declared media type, a body that fits its schema), against the
real `serve` app on loopback running in its own thread (schemathesis calls are synchronous)."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck
from schemathesis import checks

from tests.adapters.api.conftest import api_settings, serve_api

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(server root URL, tokens by person) of a `serve` app running on another thread's loop."""
    ready: queue.Queue[tuple[str, dict[str, str]]] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        settings = api_settings(
            tmp_path,
            f"sqlite+aiosqlite:///{tmp_path}/api.db",
            rate_limits={"per_person": 0, "per_token": 0, "per_channel": 0},
        )
        async for api in serve_api(settings):
            ready.put((api.url.removesuffix("/api/v1"), dict(api.tokens)))
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    yield ready.get(timeout=120)
    stop.set()
    thread.join(60)


def test_every_operation_answers_as_the_document_says(live: tuple[str, dict[str, str]]) -> None:
    root, tokens = live
    document = requests.get(root + "/api/v1/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {tokens['adam']}"}  # an admin: every route is reachable
    tried: list[str] = []
    statuses: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(f"{operation.method.upper()} {operation.path}")

        @hypothesis.settings(
            max_examples=8,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy())
        def conforms(case: Any) -> None:
            response = case.call_and_validate(base_url=root, headers=headers, checks=CHECKS, timeout=30)
            statuses.setdefault(f"{case.method.upper()} {case.operation.path}", set()).add(
                response.status_code
            )

        conforms()
    assert len(tried) >= 20 and "POST /api/v1/requests" in tried
    # the generated calls got through the door and reached the handlers (not only 401 / 429)
    reached = {op for op, codes in statuses.items() if codes - {401, 429}}
    assert reached >= set(tried) - {"POST /api/v1/alerts/alertmanager", "POST /api/v1/alerts/webhook"}, (
        statuses
    )
