"""Policy's answers for one running step, asked by the tool itself about what only the run reveals.

    check_path(path)             the real path a file tool is about to read or write (links resolved)
    check_address(target, ip)    the address a target's host name resolved to
    check_destination(ip, what)  an address the bot itself connects to (a notification channel)
    check_target(asset)          another inventory asset the step reaches besides its targets
                                 (copy_file's destination): the step's own rules, on that asset

Each raises NotPermitted naming the rule; the executor hands one to every step (`ToolContext.guard`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.contracts import AssetRef, PlanStep, Principal
from pipeline.errors import NotPermitted

if TYPE_CHECKING:
    from pipeline.policy import Policy


class StepGuard:
    """Policy's answers for one running step. Raises NotPermitted."""

    def __init__(self, policy: Policy, step: PlanStep, principal: Principal, roles: Sequence[str]) -> None:
        self.policy = policy
        self.step = step
        self.principal = principal
        self.roles = roles

    def check_path(self, path: str) -> None:
        denial = self.policy._first_pass(self.roles, lambda role: self.policy.path_denial(role, path))
        if denial:
            raise NotPermitted(f"{self.step.tool}: {denial}")

    def check_destination(self, address: str, what: str) -> None:
        reason = self.policy._first_pass(
            self.roles, lambda role: self.policy.destination_denial(role, address)
        )
        if reason:
            raise NotPermitted(f"{self.step.tool}: {what} resolves to {address}: {reason}")

    def check_address(self, target: AssetRef, address: str) -> None:
        def denial(role: str) -> str | None:
            return self.policy.target_denial(role, target, address)

        reason = self.policy._first_pass(self.roles, denial)
        if reason:
            raise NotPermitted(f"{self.step.tool}: {target.name} resolves to {address}: {reason}")

    def check_target(self, target: AssetRef) -> None:
        """The step as if it ran on `target` too: grants, scope, address rules, path rules."""
        on_it = self.step.model_copy(update={"targets": (target,)})
        denial = self.policy.step_denial(on_it, self.principal)
        if denial:
            raise NotPermitted(f"{self.step.tool} on {target.name}: {denial}")
