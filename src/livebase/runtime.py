"""What the app's lifespan builds and every request reaches through ``app.state``.

The core parts are fields (settings, database, rate limiter, Redis, the event dispatcher,
the job registry). What a feature contributes (the compliance chat guard, later a room
bus) is a typed :class:`Part` the feature registry builds into ``parts``; the core never
imports a feature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar, cast

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from livebase.admission import Admission
from livebase.db import build_engine, build_sessionmaker
from livebase.events import Dispatcher, bind_dispatcher
from livebase.jobs.registry import JobRegistry
from livebase.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from livebase.settings import Settings

if TYPE_CHECKING:
    from livebase.features import Feature

T = TypeVar("T")


@dataclass(frozen=True)
class Part(Generic[T]):
    """A named piece of the runtime that a feature builds, e.g. ``CHAT_GUARD``."""

    name: str
    build: Callable[[Runtime], T]


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    limiter: RateLimiter
    redis: redis.Redis | None = None
    events: Dispatcher = field(default_factory=Dispatcher)
    jobs: JobRegistry = field(default_factory=JobRegistry)
    parts: dict[str, object] = field(default_factory=dict)
    # Set once the feature registry has registered its jobs, subscribers and parts here.
    installed: bool = False
    # Which requests may hold a session at once (docs/http.md "Under load").
    admission: Admission = field(init=False)

    def __post_init__(self) -> None:
        # Sessions of this runtime publish their after-commit events through its dispatcher.
        info = dict(self.sessions.kw.get("info") or {})
        bind_dispatcher(info, self.events)
        self.sessions.configure(info=info)
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

    def part(self, part: Part[T]) -> T:
        try:
            return cast(T, self.parts[part.name])
        except KeyError:
            raise LookupError(
                f"runtime part {part.name!r} is missing: is its feature in livebase.features?"
            ) from None

    def close(self) -> None:
        # Parts that hold threads or connections (the room bus's Redis reader) stop
        # first, newest first, before the connections they read are closed under them.
        for value in reversed(list(self.parts.values())):
            close = getattr(value, "close", None)
            if callable(close):
                # Closing the rest matters more than this one's error.
                with suppress(Exception):
                    close()
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


def build_runtime(settings: Settings, features: Sequence[Feature] | None = None) -> Runtime:
    from livebase import features as registry

    engine = build_engine(settings.sqlalchemy_url, concurrency=settings.db_concurrency)
    client: redis.Redis | None = None
    limiter: RateLimiter
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2.0)
        limiter = RedisRateLimiter(client)
    else:
        limiter = MemoryRateLimiter()
    rt = Runtime(settings, engine, build_sessionmaker(engine), limiter, client)
    try:
        registry.install(rt, registry.load(registry.FEATURES if features is None else features))
    except BaseException:
        rt.close()
        raise
    return rt
