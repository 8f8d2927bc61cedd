"""Driving the browser from async tests: Selenium blocks, the server under test runs on the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def in_thread(call: Callable[..., Any], *args: Any) -> Any:
    """Selenium blocks; the server runs on this loop, so the browser is driven from a thread."""
    return await asyncio.to_thread(call, *args)


async def wait_for_text(driver: Any, css: str, text: str, timeout_s: float = 30.0) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(int(timeout_s / 0.25)):
        try:
            found = await in_thread(driver.find_elements, By.CSS_SELECTOR, css)
            if found and text in await in_thread(getattr, found[0], "text"):
                return
        except StaleElementReferenceException:  # the page moved on between finding and reading
            pass
        await asyncio.sleep(0.25)
    raise AssertionError(f"{css} never showed {text!r}")


async def token_sign_in(driver: Any, site: str, token: str) -> None:
    """Sign in on the console's sign-in page with an API token; on to the approvals."""
    from selenium.webdriver.common.by import By

    await in_thread(driver.get, site + "/ui/login")
    field = await in_thread(driver.find_element, By.ID, "token")
    await in_thread(field.send_keys, token)
    await in_thread(field.submit)
    await wait_for_text(driver, "h1", "Pending approvals")
