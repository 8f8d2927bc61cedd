"""How people ask for the communication tools (read by the understanding layer from the declarations)."""

from __future__ import annotations

from pipeline.phrasing import Phrasing, Slot

NOTIFY = Phrasing(
    verbs=(
        "send", "notify", "email", "e-mail", "mail", "post", "message", "tell", "inform", "page", "alert",
        "text", "announce", "sms", "let know", "write",
    ),
    objects=("notification", "message", "email", "e-mail", "alert", "page"),
    slots={
        "channel": Slot(
            values={
                "email": ("email", "e-mail", "mail"),
                "slack": ("slack",),
                "teams": ("teams", "ms teams"),
                "sms": ("sms", "text", "page"),
                "webhook": ("webhook",),
            }
        ),
        "to": Slot(kind="recipient"),
        "message": Slot(kind="message"),
        "template": Slot(kind="text", leads=("template",), follows=("template",)),
    },
    examples=(
        "email oncall@example.com that the maintenance starts at 22:00",
        'post "deploy finished" to #ops-alerts',
    ),
)  # fmt: skip

LIST_TEMPLATES = Phrasing(
    objects=("template", "templates", "notification templates", "message templates", "notifications"),
    examples=("list notification templates",),
)
