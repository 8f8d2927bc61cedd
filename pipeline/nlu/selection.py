"""Selections that must be checked against the inventory: 'the london db' (one asset),
'both app servers' (two), and service changes only where the service runs."""

from __future__ import annotations

from pipeline.contracts import AssetFilter, AssetRef
from pipeline.nlu import messages
from pipeline.nlu.guards import Clarify
from pipeline.nlu.inventory import InventoryIndex


def one_asset(selector: AssetFilter, index: InventoryIndex) -> None:
    """'the london db server' must name one asset; several candidates are asked back."""
    matches = matching(selector, index)
    if len(matches) > 1:
        raise Clarify(messages.which_one([a.name for a in matches]))


def exactly(count: int, selector: AssetFilter, service: str, index: InventoryIndex) -> AssetFilter:
    """'both london app servers' must be two: narrow by the service, or ask which."""
    found = matching(selector, index)
    if len(found) == count:
        return selector
    running = [a for a in found if service.lower() in {s.lower() for s in a.services}]
    if service and len(running) == count:
        return selector.model_copy(update={"services": (service,)})
    raise Clarify(messages.which_one([a.name for a in found], count))


def running(
    selector: AssetFilter, service: str, index: InventoryIndex
) -> tuple[list[str], AssetFilter | None]:
    """'restart iis on all windows servers': only the selected assets that run it.

    For changes only: a status check on every selected asset still answers something
    ('is redis running on all app servers?' -> not on those without it).

    Assets whose inventory entry lists no services at all are kept (nothing is known about
    them); when the inventory says none of the selected assets runs the service, ask back.
    """
    if selector.services:
        return [], selector
    found = [a for a in matching(selector, index) if a.name not in selector.exclude]
    wanted = service.lower()
    running = [a for a in found if wanted in {s.lower() for s in a.services}]
    unlisted = [a for a in found if not a.services]
    if len(running) + len(unlisted) == len(found):
        return [], selector  # nothing to narrow
    if not running:
        shown = ", ".join(a.name for a in found[:6])
        raise Clarify(f"The inventory lists no {service} on {shown}. Which hosts do you mean?")
    if unlisted:
        return [a.name for a in found if a in running or a in unlisted], None
    return [], selector.model_copy(update={"services": (service,)})


def matching(selector: AssetFilter, index: InventoryIndex) -> list[AssetRef]:
    return index.select(
        types=selector.types,
        os=selector.os,
        environments=selector.environments,
        locations=selector.locations,
        tags=selector.tags,
        services=selector.services,
    )
