"""What the compliance feature adds to the runtime (registered in ``livebase.features``):
the chat guard, and the poller that keeps this node's word lists in step."""

from __future__ import annotations

from livebase.compliance.guard import ChatGuard, MemoryChatGuard, RedisChatGuard
from livebase.compliance.sync import TermSync
from livebase.runtime import Part, Runtime


def _chat_guard(rt: Runtime) -> ChatGuard:
    # Per-user chat reputation and flood control, shared by every node when Redis is set.
    return RedisChatGuard(rt.redis) if rt.redis is not None else MemoryChatGuard()


CHAT_GUARD: Part[ChatGuard] = Part("compliance.chat_guard", _chat_guard)


def term_sync(rt: Runtime) -> TermSync:
    return TermSync(rt.sessions, rt.settings)
