"""What the app's lifespan builds and every request reaches through ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from livebase.admission import Admission
from livebase.compliance.guard import ChatGuard, MemoryChatGuard, RedisChatGuard
from livebase.db import build_engine, build_sessionmaker
from livebase.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from livebase.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    limiter: RateLimiter
    redis: redis.Redis | None = None
    # Per-user chat reputation and flood control, shared by every node when Redis is set.
    chat_guard: ChatGuard | None = None
    extras: dict[str, object] = field(default_factory=dict)
    # Which requests may hold a session at once (docs/http.md "Under load").
    admission: Admission = field(init=False)

    def __post_init__(self) -> None:
        # Never admit more requests than the pool has connections for (an engine built
        # elsewhere, e.g. by a test, may have a smaller pool than the settings say).
        size = getattr(self.engine.pool, "size", None)
        slots = self.settings.db_concurrency
        self.admission = Admission(
            slots=min(slots, size()) if callable(size) else slots,
            queue=self.settings.db_queue,
            timeout=self.settings.db_queue_timeout,
            close_inline=self.engine.dialect.name == "sqlite",
        )

    def close(self) -> None:
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


def build_runtime(settings: Settings) -> Runtime:
    engine = build_engine(settings.sqlalchemy_url, concurrency=settings.db_concurrency)
    client: redis.Redis | None = None
    limiter: RateLimiter
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2.0)
        limiter = RedisRateLimiter(client)
    else:
        limiter = MemoryRateLimiter()
    guard: ChatGuard = RedisChatGuard(client) if client is not None else MemoryChatGuard()
    return Runtime(settings, engine, build_sessionmaker(engine), limiter, client, guard)
