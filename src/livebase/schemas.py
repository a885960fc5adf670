"""Request-model base: unknown fields are refused, so a client never sends its own price."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StrictInt, StrictStr


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time needs a UTC offset, e.g. 2026-11-28T08:00:00Z")
    return value.astimezone(UTC)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000 (the driver raises, which would be a 500); no
    # honest title, name or chat line contains one.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("must not be null; leave the field out to keep its value")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
# 10^12 fen is 10 billion yuan: far above any listing, far below BIGINT's limit.
MAX_FEN = 10**12
# Counts (stock, quantities) live in 32-bit INTEGER columns; a billion is far above any
# stock and below 2^31 - 1, so a huge number is refused here rather than by the database.
MAX_COUNT = 10**9
Fen = Annotated[StrictInt, AfterValidator(lambda v: _bounded(v, "amount", MAX_FEN))]
Count = Annotated[StrictInt, AfterValidator(lambda v: _bounded(v, "count", MAX_COUNT))]
Text = Annotated[StrictStr, AfterValidator(_no_nul)]
# For PATCH bodies: a field may be left out (keep the value) but not sent as null when
# the value cannot be empty; without this `{"title": null}` would be a silent no-op.
NotNull = BeforeValidator(_not_null)


def _bounded(v: int, what: str, limit: int) -> int:
    if v < 0:
        raise ValueError(f"{what} must not be negative")
    if v > limit:
        raise ValueError(f"{what} is out of range")
    return v


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
