"""Which inventory assets an alert is about, from its labels.

The labels are tried in the configured order (default: instance, host, hostname, nodename,
job); the first whose value names assets wins. A value matches an asset's name or address
(an `instance` such as `10.0.0.5:9100` loses its port) or, for any label, an asset tag of the
same key and value (`job: api` matches assets tagged `job=api`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.contracts import AssetRef


def assets_for(labels: dict[str, str], assets: Sequence[AssetRef], order: Sequence[str]) -> list[str]:
    for label in order:
        value = labels.get(label, "").strip()
        if not value:
            continue
        found = _matching(label, value, assets)
        if found:
            return found
    return []


def _matching(label: str, value: str, assets: Sequence[AssetRef]) -> list[str]:
    wanted = {value.lower(), _without_port(value).lower()}
    return [
        a.name
        for a in assets
        if a.name.lower() in wanted or a.address.lower() in wanted or a.tags.get(label, "").lower() in wanted
    ]


def _without_port(value: str) -> str:
    if value.startswith("["):  # [::1]:9100
        return value[1:].split("]", 1)[0]
    host, sep, port = value.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else value
