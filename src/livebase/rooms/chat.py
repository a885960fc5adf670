"""A chat line's way in: signed in, not muted, within the length limit, the per-user rate
limit and slow mode, then ``compliance.check("chat", ...)`` with the chat guard. Its
verdict decides: allow → the room; mask → the room, masked; review → held for the room's
staff and the base's moderators (the author is told ``held_for_review``); block → the
author is told ``blocked``. Runs on a worker thread (limiter, guard and database may be
network round trips); the hub fans accepted lines out on its next tick.
"""

from __future__ import annotations

from typing import Any

from livebase.compliance import CheckContext, check
from livebase.compliance import service as moderation
from livebase.compliance.parts import CHAT_GUARD
from livebase.db import new_id, utcnow
from livebase.errors import ApiError, Code, RateLimited, Unauthenticated, ValidationFailed
from livebase.rooms import service
from livebase.rooms.events import ChatAccepted
from livebase.rooms.hub import Viewer, now_ms
from livebase.rooms.parts import RoomKit
from livebase.rooms.service import RoomInfo


class HeldForReview(ApiError):
    code = Code.HELD_FOR_REVIEW


class Blocked(ApiError):
    code = Code.BLOCKED


def clean_text(raw: Any, max_len: int) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed("text must be a string.", loc="text")
    text = raw.strip()
    if not text:
        raise ValidationFailed("text is empty.", loc="text")
    if len(text) > max_len:
        raise ValidationFailed(f"A chat line is at most {max_len} characters.", loc="text")
    if any(ord(ch) < 32 for ch in text):
        raise ValidationFailed("text may not hold control characters.", loc="text")
    return text


def take_line(
    kit: RoomKit, info: RoomInfo, viewer: Viewer, text: str, slow_mode: int
) -> dict[str, Any]:
    """The line as the room shows it, or an ApiError telling the author why not."""
    rt = kit.rt
    s = rt.settings
    if viewer.user_id is None:  # the socket refuses anonymous chat before this
        raise Unauthenticated("Sign in to chat.")
    user_id = viewer.user_id
    n, ttl = rt.limiter.hit(f"room-chat:{info.show_id}:{user_id}", s.room_chat_window)
    if n > s.room_chat_rate:
        raise RateLimited(
            f"At most {s.room_chat_rate} lines every {s.room_chat_window} s.", retry_after=ttl
        )
    if slow_mode > 0 and not viewer.staff:
        n, ttl = rt.limiter.hit(f"room-slow:{info.show_id}:{user_id}", slow_mode)
        if n > 1:
            raise RateLimited(f"Slow mode: one line every {slow_mode} s.", retry_after=ttl)
    ctx = CheckContext(
        user_id=user_id, show_id=info.show_id, guard=rt.part(CHAT_GUARD), base_id=info.base_id
    )
    # Staff lines are checked too (the law binds hosts) but never by reputation.
    verdict = check("chat", text, ctx if not viewer.staff else CheckContext(base_id=info.base_id))
    if verdict.verdict == "review":
        with rt.sessions() as db, db.begin():
            service.do_hold_line(db, info, user_id, viewer.name, text, verdict)
        kit.counters.count(info.show_id, "held_lines")
        raise HeldForReview("Your line waits for a moderator.")
    if verdict.verdict == "block":
        with rt.sessions() as db, db.begin():
            moderation.do_record_verdict(
                db, "chat", verdict, base_id=info.base_id, show_id=info.show_id
            )
        kit.counters.count(info.show_id, "blocked_lines")
        raise Blocked("This line breaks the room's rules: " + ", ".join(verdict.labels) + ".")
    shown = verdict.masked if verdict.verdict == "mask" and verdict.masked else text
    kit.counters.count(info.show_id, "chat_lines")
    line: dict[str, Any] = {
        "id": new_id("msg"),
        "user_id": user_id,
        "name": viewer.name,
        "role": viewer.role,
        "text": shown,
        "ts": now_ms(),
    }
    if shown != text:
        line["masked"] = True
    if verdict.verdict == "mask":
        with rt.sessions() as db, db.begin():
            moderation.do_record_verdict(
                db, "chat", verdict, base_id=info.base_id, show_id=info.show_id
            )
    kit.publish_chat(info.show_id, [line])
    rt.events.publish(
        ChatAccepted(show_id=info.show_id, user_id=user_id, text=text, shown=shown, at=utcnow())
    )
    return line
