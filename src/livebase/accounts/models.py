from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column

ROLES = ("admin", "operator", "moderator", "merchant", "agency", "host", "assistant", "clerk")


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[str] = id_column("usr")
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)


class RoleGrant(TimestampMixin, Base):
    """A role held in a scope: a base (operator, moderator), an organisation (merchant,
    agency, host) or a pickup counter (clerk). ``admin`` has no scope."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "base_id", "org_id", "counter_id", name="uq_grant"),
    )

    id: Mapped[str] = id_column("rg")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    base_id: Mapped[str | None] = mapped_column(String(40), index=True)
    org_id: Mapped[str | None] = mapped_column(String(40), index=True)
    counter_id: Mapped[str | None] = mapped_column(String(40))


class AuthToken(TimestampMixin, Base):
    """An opaque bearer token or cookie session. Only its SHA-256 is stored, so a copy of
    the database cannot be used to sign in."""

    __tablename__ = "auth_tokens"
    __table_args__ = (Index("ix_auth_tokens_user_kind", "user_id", "kind"),)

    id: Mapped[str] = id_column("tok")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "api" | "session"
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
