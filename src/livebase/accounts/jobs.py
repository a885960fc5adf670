"""The accounts feature's timed jobs (registered in ``livebase.features``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from livebase.accounts.service import do_purge_expired_tokens
from livebase.logs import get_logger

log = get_logger("livebase.accounts")
# Hourly: an expired token is refused anyway; the purge only keeps the table small.
PURGE_INTERVAL = timedelta(hours=1)


def purge_tokens(db: Session, _payload: dict[str, Any]) -> None:
    removed = do_purge_expired_tokens(db)
    log.info("purged expired tokens", removed=removed)
