"""How people ask for the inventory tools (read by the understanding layer from the declarations)."""

from __future__ import annotations

from pipeline.phrasing import Call, Counterparts, Phrasing, Slot

_FILTER = Slot(kind="filter")
_FIELD = Slot(kind="field")
_INVENTORY = ("inventory", "asset", "assets", "cmdb")

QUERY = Phrasing(
    objects=(
        *_INVENTORY, "details", "detail", "owner", "owners", "team", "location", "located", "address",
        "addresses", "ip", "hostname", "hostnames", "fqdn", "tags", "tagged", "labels", "role", "environment",
        "env", "site", "datacenter", "contact", "responsible", "summary", "number", "total", "names", "info",
        "information", "everything about",
    ),
    questions=(
        "which", "what", "who", "where", "how many", "who owns", "list", "find", "count",
        "enumerate", "search", "describe", "show", "display", "give",
    ),
    slots={
        key: _FILTER for key in ("name", "type", "os", "environment", "location", "tags", "service")
    },
    examples=("assets os=windows location=london", "which hosts run redis?", "list prod windows hosts"),
    untargeted="all",
)  # fmt: skip

CREATE = Phrasing(
    verbs=("add", "register", "create", "onboard", "enroll"),
    objects=_INVENTORY,
    slots={
        "name": Slot(kind="new_name"),
        **{key: _FIELD for key in ("address", "type", "os", "environment", "location", "tags", "services")},
    },
    examples=("add asset name=web-05 address=192.0.2.15 type=web_server",),
)

UPDATE = Phrasing(
    verbs=("set", "change", "update", "move", "rename", "tag", "retag", "mark", "modify", "assign"),
    objects=_INVENTORY,
    slots={key: _FIELD for key in ("address", "type", "os", "environment", "location", "tags", "services")},
    examples=("move web-04 to london in the inventory",),
)
UPDATE_READ = Counterparts(read=Call("assets.query", {}))

DELETE = Phrasing(
    verbs=("delete", "remove", "decommission", "deregister", "retire", "unregister", "drop", "purge"),
    objects=_INVENTORY,
    examples=("delete web-04 from the inventory",),
)
DELETE_READ = Counterparts(read=Call("assets.query", {}))
