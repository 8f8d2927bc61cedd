"""The web console in a real browser: Debian's chromium driven by Selenium (chromium-driver),
against the real `serve` app on loopback. A failing test leaves a screenshot beside its log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.api.conftest import Api, api_settings, serve_api
from tests.adapters.web.browsing import in_thread, token_sign_in, wait_for_text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

UPDATE = {"steps": [{"tool": "assets.update", "targets": ["web-02"], "args": {"location": "lab-7"}}]}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for running in serve_api(api_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/api.db")):
        yield running


async def test_sign_in_approve_a_pending_write_watch_it_finish_and_find_it_in_history(
    api: Api, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    status, body, _ = await api.call("POST", "/requests", as_="adam", json=UPDATE)
    assert status == 202, body
    execution_id = body["execution_id"]
    site = api.url.removesuffix("/api/v1")

    await in_thread(browser.get, site + "/ui/")
    assert browser.current_url.endswith("/ui/login")  # not signed in: to the sign-in page
    field = await in_thread(browser.find_element, By.ID, "token")
    await in_thread(field.send_keys, "oct_not_a_real_token_at_all")
    await in_thread(field.submit)
    await wait_for_text(browser, ".flash", "unknown, expired or revoked")

    field = await in_thread(browser.find_element, By.ID, "token")
    await in_thread(field.send_keys, api.tokens["bob"])
    await in_thread(field.submit)
    await wait_for_text(browser, "h1", "Pending approvals")
    card = await in_thread(browser.find_element, By.CSS_SELECTOR, f'[aria-labelledby="p-{execution_id}"]')
    text = await in_thread(lambda: card.text)
    assert "assets.update" in text and "web-02" in text and "lab-7" in text and "adam" in text
    approve = await in_thread(card.find_element, By.CSS_SELECTOR, "button.approve")
    await in_thread(approve.click)

    await wait_for_text(browser, "#state", "succeeded")
    assert f"/ui/executions/{execution_id}" in browser.current_url
    assert "approval.approved" in await in_thread(lambda: browser.find_element(By.TAG_NAME, "main").text)
    asset = await api.app.assets.get("web-02")
    assert asset is not None and asset.location == "lab-7"

    await in_thread(browser.get, site + "/ui/executions?person=adam")
    link = await in_thread(browser.find_element, By.CSS_SELECTOR, f'a[href="/ui/executions/{execution_id}"]')
    row = await in_thread(lambda: link.find_element(By.XPATH, "./ancestor::tr").text)
    assert "succeeded" in row and "adam" in row
    await in_thread(browser.get, site + "/ui/")
    await wait_for_text(browser, "main", "Nothing is waiting for a decision.")

    await in_thread(browser.get, site + "/ui/assets?q=lab-7")  # inventory search finds the change
    (row,) = await in_thread(browser.find_elements, By.CSS_SELECTOR, "tbody tr")
    assert (await in_thread(getattr, row, "text")).startswith("web-02")
    await in_thread(browser.get, site + "/ui/audit")
    await wait_for_text(browser, "#chain", "Intact")
    await in_thread(browser.get, site + "/ui/tools")
    await wait_for_text(browser, "main", "assets.update")


async def test_a_viewer_signed_in_cannot_approve(api: Api, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _, body, _ = await api.call("POST", "/requests", as_="adam", json=UPDATE)
    site = api.url.removesuffix("/api/v1")
    await token_sign_in(browser, site, api.tokens["vera"])
    approve = await in_thread(browser.find_element, By.CSS_SELECTOR, "button.approve")
    await in_thread(approve.click)
    await wait_for_text(browser, ".flash", "Not permitted")
    _, detail, _ = await api.call("GET", f"/executions/{body['execution_id']}")
    assert detail["approval"]["state"] == "pending"


async def test_undo_a_finished_change_from_its_page(api: Api, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    from tests.adapters.api.test_undo import changed, finished

    original = await changed(api)  # web-02 moved to lab-7, approved, finished
    site = api.url.removesuffix("/api/v1")
    await token_sign_in(browser, site, api.tokens["adam"])
    await in_thread(browser.get, site + f"/ui/executions/{original}")
    await in_thread(lambda: browser.find_element(By.CSS_SELECTOR, "button.undo").click())

    await wait_for_text(browser, "#state", "awaiting_approval")  # the undo's own page
    undo_id = browser.current_url.split("/ui/executions/")[1].split("?")[0]
    assert undo_id != original
    assert f"Undo of execution {original}" in await in_thread(
        lambda: browser.find_element(By.TAG_NAME, "main").text
    )
    assert not await in_thread(browser.find_elements, By.CSS_SELECTOR, "button.undo")  # nothing to undo yet
    _, detail, _ = await api.call("GET", f"/executions/{undo_id}")
    status, _, _ = await api.call(
        "POST", f"/executions/{undo_id}/approve", as_="bob", json={"digest": detail["approval"]["digest"]}
    )
    assert status in (200, 202)
    assert (await finished(api, undo_id))["status"] == "succeeded"
    asset = await api.app.assets.get("web-02")
    assert asset is not None and asset.location != "lab-7"

    # undone already: a second Undo on the change's page is a conflict, said with its reason
    await in_thread(browser.get, site + f"/ui/executions/{original}")
    await in_thread(lambda: browser.find_element(By.CSS_SELECTOR, "button.undo").click())
    await wait_for_text(browser, ".flash", f"already undone by execution {undo_id} (succeeded)")
    assert f"/ui/executions/{original}" in browser.current_url
