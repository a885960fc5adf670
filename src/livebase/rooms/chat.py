"""A chat line's way in: signed in, not muted, within the length limit, the per-user rate
limit and slow mode, then ``compliance.check("chat", ...)`` with the chat guard. Its
verdict decides: allow → the room; mask → the room, masked; review → held for the room's
staff and the base's moderators (the author is told ``held_for_review``); block → the
author is told ``blocked``. Runs on a worker thread (limiter, guard and database may be
network round trips), a room's waiting lines together (:class:`ChatIntake`); the hub fans
accepted lines out on its next tick.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from livebase.compliance import CheckContext, Verdict, check
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


@dataclass(frozen=True, slots=True)
class Ask:
    """One chat line asking in: who, where, what (already :func:`clean_text`-ed)."""

    info: RoomInfo
    viewer: Viewer
    text: str


Outcome = dict[str, Any] | Exception


def take_line(
    kit: RoomKit, info: RoomInfo, viewer: Viewer, text: str, slow_mode: int
) -> dict[str, Any]:
    """The line as the room shows it, or an ApiError telling the author why not."""
    (out,) = take_lines(kit, [Ask(info, viewer, text)], slow_mode)
    if isinstance(out, Exception):
        raise out
    return out


def take_lines(kit: RoomKit, asks: list[Ask], slow_mode: int) -> list[Outcome]:
    """Each line's outcome, in order: the line as the room shows it, or the ApiError that
    tells its author why not. Lines taken together (a room's lines of one tick, one
    worker call) share their round trips: one for the rate limit, one for slow mode, one
    for the chat guard, instead of three per line; each line is judged exactly as alone,
    a user's lines counted in their order."""
    rt = kit.rt
    s = rt.settings
    out: list[Outcome | None] = [None] * len(asks)
    for i, a in enumerate(asks):
        if a.viewer.user_id is None:  # the socket refuses anonymous chat before this
            out[i] = Unauthenticated("Sign in to chat.")
    open_ = [i for i in range(len(asks)) if out[i] is None]
    hits = rt.limiter.hit_many(
        [(f"room-chat:{asks[i].info.show_id}:{asks[i].viewer.user_id}", s.room_chat_window)
         for i in open_]
    )  # fmt: skip
    for i, (n, ttl) in zip(open_, hits, strict=True):
        if n > s.room_chat_rate:
            out[i] = RateLimited(
                f"At most {s.room_chat_rate} lines every {s.room_chat_window} s.", retry_after=ttl
            )
    if slow_mode > 0:
        slow = [i for i in open_ if out[i] is None and not asks[i].viewer.staff]
        hits = rt.limiter.hit_many(
            [(f"room-slow:{asks[i].info.show_id}:{asks[i].viewer.user_id}", slow_mode)
             for i in slow]
        )  # fmt: skip
        for i, (n, ttl) in zip(slow, hits, strict=True):
            if n > 1:
                out[i] = RateLimited(f"Slow mode: one line every {slow_mode} s.", retry_after=ttl)
    verdicts: dict[int, Verdict] = {}
    guarded: list[int] = []
    for i in open_:
        if out[i] is not None:
            continue
        a = asks[i]
        # Staff lines are checked too (the law binds hosts) but never by reputation.
        verdicts[i] = check("chat", a.text, CheckContext(base_id=a.info.base_id))
        if not a.viewer.staff:
            guarded.append(i)
    if guarded:
        judged = rt.part(CHAT_GUARD).judge_many(
            [(str(asks[i].viewer.user_id), asks[i].text, verdicts[i]) for i in guarded]
        )
        verdicts.update(zip(guarded, judged, strict=True))
    for i, verdict in verdicts.items():
        try:
            out[i] = _publish(kit, asks[i], verdict)
        except Exception as exc:  # this line's refusal (or failure), not the others'
            out[i] = exc
    return [x if x is not None else RuntimeError("chat line not taken") for x in out]


def _publish(kit: RoomKit, a: Ask, verdict: Verdict) -> dict[str, Any]:
    rt, info, viewer, text = kit.rt, a.info, a.viewer, a.text
    user_id = str(viewer.user_id)
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


class ChatIntake:
    """A room's chat lines on their way in, on the event loop: a line that arrives while
    the room's previous lines are being taken waits for them and then goes with every
    other line that arrived meanwhile, in one worker call (:func:`take_lines`). An idle
    room takes a line at once; a busy one takes a tick's lines together — one thread
    hand-off and three round trips for all of them, not per line."""

    # Lines per worker call: a bound on how long one call holds its thread.
    BATCH = 200

    def __init__(self, kit: RoomKit) -> None:
        self._kit = kit
        self._slow_mode = 0
        self._pending: list[tuple[Ask, asyncio.Future[dict[str, Any]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def take(self, ask: Ask, slow_mode: int) -> dict[str, Any]:
        """``slow_mode``: the room's as the line came (the latest one applies to a batch)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending.append((ask, fut))
        self._slow_mode = slow_mode
        if self._task is None:
            self._task = loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.BATCH]
                del self._pending[: self.BATCH]
                asks = [a for a, _ in batch]
                try:
                    outs = await asyncio.to_thread(take_lines, self._kit, asks, self._slow_mode)
                except Exception as exc:  # the limiter's or guard's store is away
                    outs = [exc] * len(batch)
                for (_, fut), res in zip(batch, outs, strict=True):
                    if fut.done():  # its connection left meanwhile
                        continue
                    if isinstance(res, Exception):
                        fut.set_exception(res)
                    else:
                        fut.set_result(res)
        finally:
            self._task = None
