"""Inventory tables: assets, their relationships and encrypted credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.columns import (
    CREDENTIAL_KINDS,
    RELATIONSHIP_KINDS,
    created,
    json_column,
    one_of,
)
from db.types import Base, UtcDateTime, new_id, utcnow


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (
        Index(None, "type"),
        Index(None, "environment"),
        Index(None, "address"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False, default="server")
    os: Mapped[str] = mapped_column(String(64), nullable=False, default="linux")
    environment: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    location: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    tags: Mapped[dict[str, str]] = json_column(dict)
    services: Mapped[list[str]] = json_column(list)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class AssetRelationship(Base):
    __tablename__ = "asset_relationships"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        CheckConstraint("source_id <> target_id", name="not_self"),
        one_of("kind", RELATIONSHIP_KINDS),
        Index(None, "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), nullable=False)
    target_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = created()


class SealedSecret:
    """Columns of a sealed secret (AES-256-GCM); the key id says which key sealed it (rotation)."""

    username: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    nonce: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = created()
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AssetCredential(SealedSecret, Base):
    """An encrypted secret (AES-256-GCM); associated data binds it to asset name + kind."""

    __tablename__ = "asset_credentials"
    __table_args__ = (
        UniqueConstraint("asset_id", "kind"),
        one_of("kind", CREDENTIAL_KINDS),
        Index(None, "key_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)


class ScopedCredential(SealedSecret, Base):
    """A login for every host with a tag (scope "tag", value ``k=v``) or for every host ("default").

    Sealed like `AssetCredential`, bound to ``scope:<scope>:<value>`` and kind instead of an asset.
    """

    __tablename__ = "scoped_credentials"
    __table_args__ = (
        UniqueConstraint("scope", "value", "kind"),
        one_of("scope", ("tag", "default")),
        one_of("kind", CREDENTIAL_KINDS),
        Index(None, "key_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
