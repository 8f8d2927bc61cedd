"""Structured host facts shared by the Linux and Windows parsers, and their one-line summary."""

from __future__ import annotations

from typing import Any


def human_duration(seconds: float) -> str:
    """``3 days 4 h 12 min`` / ``5 h 1 min`` / ``42 s``."""
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes and days < 7:
        parts.append(f"{minutes} min")
    return " ".join(parts) or f"{secs} s"


def uptime_fact(seconds: float) -> dict[str, Any]:
    return {"seconds": int(seconds), "human": human_duration(seconds)}


def memory_fact(total_mb: float, available_mb: float) -> dict[str, Any]:
    used = max(total_mb - available_mb, 0)
    return {
        "total_mb": round(total_mb),
        "used_mb": round(used),
        "available_mb": round(available_mb),
        "used_percent": round(100 * used / total_mb, 1) if total_mb else 0.0,
    }


def disk_fact(mount: str, filesystem: str, size_mb: float, used_mb: float, avail_mb: float) -> dict[str, Any]:
    basis = used_mb + avail_mb  # what df reports as Use% (reserved blocks excluded)
    return {
        "mount": mount,
        "filesystem": filesystem,
        "size_mb": round(size_mb),
        "used_mb": round(used_mb),
        "avail_mb": round(avail_mb),
        "use_percent": round(100 * used_mb / basis) if basis else 0,
    }


def summarize(data: dict[str, Any]) -> str:
    """One line out of whatever facts are present."""
    parts: list[str] = []
    if "uptime" in data:
        parts.append(f"up {data['uptime']['human']}")
    if "cpu" in data:
        cpu = data["cpu"]
        load = cpu.get("load_1m")
        parts.append(f"load {load:.2f}/{cpu['count']} cpu" if load is not None else f"{cpu['count']} cpu")
    if "memory" in data:
        mem = data["memory"]
        parts.append(
            f"mem {mem['used_mb'] / 1024:.1f}/{mem['total_mb'] / 1024:.1f} GB ({mem['used_percent']:.0f}%)"
        )
    if data.get("disk"):
        fullest = max(data["disk"], key=lambda d: d["use_percent"])
        parts.append(f"disk {fullest['mount']} {fullest['use_percent']}%")
    if "os" in data:
        parts.append(data["os"].get("name") or "")
    return "; ".join(p for p in parts if p)
