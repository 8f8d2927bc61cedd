"""The pipeline's front door: a message in, a Reply or an ApprovalPrompt out.

    submit(message)  -> rate limit (channel) -> identity -> rate limit (person)
                        -> plan (A-C) -> policy -> change freezes (or an admin's override, audited)
                        -> impact (changes: what they reach) -> persist
                        -> ApprovalPrompt (write/critical, bound to the plan's digest)
                           or execute (E) -> answer (D)
    decide(click)    -> approver identity + tenant -> plan digest (stored plan = shown plan)
                        -> policy (four eyes) -> atomic decision -> execute -> answer
                        "Check first": the pending plan as a check, run now, approval left open
                        "Undo": within the window, the finished change's inverse as a new plan
                           -> policy -> freezes -> impact -> persist -> ApprovalPrompt
    resume_stalled() -> executions whose driver lease lapsed (their replica died mid-plan)
                        -> take over (one replica each) -> execute the rest -> answer

The kernel is built in layers, each a module of this package: base.py (ports, settings, time
limits, audit), runs.py (an execution under its driver lease, the result reply, recovery),
requests.py (a message admitted, planned, checked and recorded, then asked for approval or run;
schedules' plans and ticks) and decisions.py (clicks: approve/reject, check first, cancel, undo,
expiry).

An approval is bound to `plan_digest` of the plan its prompt showed (stored with the
approval, shown in short form, carried back by the buttons where the platform allows): an
approval is refused when the stored plan's digest differs (an edit in the database after the
prompt) or when the click came from a prompt for another plan, and a run is refused when the
plan about to run is not the approved one (checked again before each run, runs.py, which resumed
runs pass through too; workers compare the digest the driver sent them). Each refusal is audited.
"""

from __future__ import annotations

from pipeline.kernel.base import KernelConfig, channel_of, chat_of, default_driver_id
from pipeline.kernel.decisions import DecisionFlow

__all__ = ["Kernel", "KernelConfig", "channel_of", "chat_of", "default_driver_id"]


class Kernel(DecisionFlow):
    """Wires stages A-E, policy, persistence and audit; adapters call `submit` and `decide`."""
