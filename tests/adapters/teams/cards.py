"""Reading what the Bot Connector stand-in received: the cards' text, buttons and sizes."""

from __future__ import annotations

from typing import Any


def card_of(body: dict[str, Any]) -> dict[str, Any]:
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = attachment["content"]
    return content


def texts(node: Any) -> str:
    """Every visible string of a card (text blocks, text runs, facts), one per line."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if isinstance(item.get("text"), str):
                found.append(item["text"])
            if "title" in item and "value" in item:
                found.append(f"{item['title']}: {item['value']}")
            for key, value in item.items():
                if key not in ("data", "fallback"):
                    walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return "\n".join(found)


def actions(content: dict[str, Any]) -> list[dict[str, Any]]:
    return list(content.get("actions", []))
