"""What one clause asks for: a catalog tool with a confidence, or a question to ask back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """The tool a clause asks for; `problem` set means ask back instead."""

    tool: str | None
    confidence: float
    problem: str = ""
    action: str = ""  # service_control action; reboot vs power-off etc.
    explicit: bool = False  # the tool was named in the structured form
