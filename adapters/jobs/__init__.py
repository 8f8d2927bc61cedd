"""The distributed step engine: plan steps as arq jobs on Redis, run by `opsconductor worker`."""

from adapters.jobs.arq_engine import (
    ArqDispatcher,
    JobsConfig,
    StepJobHandler,
    build_worker,
    open_pool,
    stop_worker,
)
from adapters.jobs.recovery import SqlStepRecovery, StepClaim

__all__ = [
    "ArqDispatcher",
    "JobsConfig",
    "SqlStepRecovery",
    "StepClaim",
    "StepJobHandler",
    "build_worker",
    "open_pool",
    "stop_worker",
]
