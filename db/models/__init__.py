"""The whole data model: assets, catalog and audit, executions (and the files they produced), network
analysis, communication, schedules.

Portable between SQLite and PostgreSQL: string hex ids, JSON (JSONB on PostgreSQL),
UTC-aware timestamps (`UtcDateTime`), named constraints. Enumerations are plain
strings guarded by CHECK constraints so adding a value is a one-line migration.
Importing this package registers every table on `Base.metadata`.
"""

from __future__ import annotations

from db.models.access import ApiToken
from db.models.catalog import AuditChainHead, AuditRecord, IntentPattern, Tool, ToolCapability, ToolTelemetry
from db.models.communication import DeliveryLog, MessageTemplate, ProcessedEvent
from db.models.execution import Approval, Execution, ExecutionLock, ExecutionStep, QueuedJob, TimeoutPolicy
from db.models.files import StoredFile
from db.models.inventory import Asset, AssetCredential, AssetRelationship, ScopedCredential
from db.models.network import BandwidthTest, ConnectivityTest, NetworkScan, PortScanResult
from db.models.schedule import MaintenanceRun, ScheduleRow, ScheduleRun
from db.types import Base

__all__ = [
    "ApiToken",
    "Approval",
    "Asset",
    "AssetCredential",
    "AssetRelationship",
    "AuditChainHead",
    "AuditRecord",
    "BandwidthTest",
    "Base",
    "ConnectivityTest",
    "DeliveryLog",
    "Execution",
    "ExecutionLock",
    "ExecutionStep",
    "IntentPattern",
    "MaintenanceRun",
    "MessageTemplate",
    "NetworkScan",
    "PortScanResult",
    "ProcessedEvent",
    "QueuedJob",
    "ScheduleRow",
    "ScheduleRun",
    "ScopedCredential",
    "StoredFile",
    "TimeoutPolicy",
    "Tool",
    "ToolCapability",
    "ToolTelemetry",
]
