"""Personal API tokens: who a script or CI job acts as on the HTTP API, and until when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.columns import created, json_column
from db.types import Base, UtcDateTime, new_id


class ApiToken(Base):
    """One token; only the SHA-256 of its secret is stored (the secret is shown once)."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "person"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person: Mapped[str] = mapped_column(String(255), nullable=False)  # the principal subject
    display_name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    roles: Mapped[list[str]] = json_column(list)
    label: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = created()
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
