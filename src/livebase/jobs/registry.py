"""Which handler runs each job kind, and which kinds recur.

One registry per runtime, filled by the feature registry (``livebase.features``) when the
runtime is built, so ``serve``, ``worker`` and the tests know exactly the same kinds.
Nothing registers itself at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

# A handler runs inside the transaction that marks its job done: its writes and the
# "done" mark commit together, or neither does.
Handler = Callable[[Session, dict[str, Any]], None]


@dataclass
class JobRegistry:
    handlers: dict[str, Handler] = field(default_factory=dict)
    # Recurring kinds and their period; each keeps exactly one pending row (one chain).
    recurring: dict[str, timedelta] = field(default_factory=dict)
    # Kinds that take seconds (ffmpeg, Tesseract): they run on a lane of their own, so a
    # replay being cut never delays a flash sale's opening or an order's expiry.
    slow: set[str] = field(default_factory=set)

    def register(
        self, kind: str, handler: Handler, *, every: timedelta | None = None, slow: bool = False
    ) -> None:
        known = self.handlers.get(kind)
        if known is not None and known is not handler:
            raise ValueError(f"job kind {kind!r} already has a handler ({known.__qualname__})")
        self.handlers[kind] = handler
        if every is not None:
            if every <= timedelta(0):
                raise ValueError(f"recurring job {kind!r} needs a positive period")
            self.recurring[kind] = every
        if slow:
            self.slow.add(kind)

    def handler(self, kind: str) -> Handler | None:
        return self.handlers.get(kind)

    def copy(self) -> JobRegistry:
        return JobRegistry(dict(self.handlers), dict(self.recurring), set(self.slow))


def recurring_key(kind: str) -> str:
    return f"recurring:{kind}"
