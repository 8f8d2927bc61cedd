"""Files tools produced (a fetched file), kept where every replica and worker can read them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.columns import created
from db.types import Base, new_id


class StoredFile(Base):
    """One file's content (size-capped by the tool that made it); goes with its execution."""

    __tablename__ = "stored_files"
    __table_args__ = (Index(None, "execution_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # the execution that made it (None outside a stored execution); deleted with it
    execution_id: Mapped[str | None] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    name: Mapped[str] = mapped_column(String(255), nullable=False)  # the file's name on its host
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = created()
