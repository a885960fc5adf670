"""Typed events, published only after the transaction that caused them commits.

A service changes data and calls ``notify_on_commit(session, event)`` (zulip's
``send_event_on_commit``). The event waits on the session until the outermost transaction
commits; then the runtime's :class:`Dispatcher` hands it to each subscriber of its type.

* **Savepoints.** Events are queued on the innermost open transaction (a savepoint or the
  outer one). A released savepoint passes its events to its parent; a rolled-back one drops
  only its own. A caught ``begin_nested()`` failure therefore never loses the events queued
  around it, and a released savepoint never publishes before the outer commit.
* **Types.** Each event type is one pydantic model with a ``type`` literal (the name a
  room frame or a bus message carries). Subscribers register per type.
* **Threads and the loop.** A plain subscriber runs on the committing thread (a request's
  threadpool thread, the job runner, the CLI). A coroutine subscriber (room fan-out) is
  scheduled on the app's event loop, bound in the lifespan; nothing waits for it.
* **What must not be lost.** Delivery here is in memory: if the process dies between
  commit and publish, the event is gone. Effects that must survive that (payment
  callbacks, refunds, customs messages, webhooks) are outbox jobs written in the same
  transaction instead (``jobs.service.do_enqueue``), delivered by the job runner.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, ClassVar, TypeVar, cast

from pydantic import BaseModel, ConfigDict
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from livebase.logs import get_logger

log = get_logger("livebase.events")

_DISPATCHER = "livebase_events_dispatcher"
_PENDING = "livebase_events_pending"
_COMMITTED = "livebase_events_committed"


class Event(BaseModel):
    """Base of every event. Subclasses set ``type: Literal["feature.what"] = "feature.what"``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: str
    # Every concrete event type, by its ``type`` literal, so two never share a name.
    types_by_name: ClassVar[dict[str, builtins.type[Event]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.model_fields["type"].default
        if not isinstance(name, str):
            raise TypeError(f"{cls.__name__} needs a default for its `type` literal")
        other = Event.types_by_name.setdefault(name, cls)
        if other is not cls and other.__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {name!r} is taken by {other.__qualname__}")
        Event.types_by_name[name] = cls


E = TypeVar("E", bound=Event)
SyncSubscriber = Callable[[E], None]
AsyncSubscriber = Callable[[E], Awaitable[None]]


class Dispatcher:
    """Subscribers per event type, and the loop coroutine subscribers run on."""

    def __init__(self) -> None:
        self._subscribers: dict[type[Event], list[Callable[[Any], Any]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def subscribe(
        self, event_type: type[E], fn: Callable[[E], None] | Callable[[E], Awaitable[None]]
    ) -> None:
        """Add ``fn`` for events of exactly ``event_type``; adding it twice keeps one."""
        with self._lock:
            subs = self._subscribers.setdefault(event_type, [])
            if fn not in subs:
                subs.append(fn)

    def unsubscribe(self, event_type: type[E], fn: Callable[[E], Any]) -> None:
        with self._lock:
            subs = self._subscribers.get(event_type, [])
            if fn in subs:
                subs.remove(fn)

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop coroutine subscribers run on (the app's, set in the lifespan)."""
        self._loop = loop

    def unbind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Forget ``loop`` at shutdown, unless another app has bound its own since."""
        if self._loop is loop:
            self._loop = None

    def publish(self, event: Event) -> None:
        """Hand ``event`` to its subscribers now. Services call ``notify_on_commit``."""
        with self._lock:
            subs = list(self._subscribers.get(type(event), ()))
        for fn in subs:
            try:
                if inspect.iscoroutinefunction(fn):
                    self._schedule(fn, event)
                else:
                    fn(event)
            except Exception:  # one failing subscriber must not hide the others' events
                log.exception(
                    "event subscriber failed", subscriber=_name(fn), event_type=event.type
                )

    def _schedule(self, fn: Callable[[Any], Awaitable[None]], event: Event) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            log.warning("no event loop bound; skipped", subscriber=_name(fn), event_type=event.type)
            return
        future = asyncio.run_coroutine_threadsafe(cast(Any, fn(event)), loop)
        future.add_done_callback(lambda f: _log_failure(f, fn, event))


def _log_failure(future: Future[Any], fn: Callable[..., Any], event: Event) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error(
            "async event subscriber failed",
            subscriber=_name(fn),
            event_type=event.type,
            exc_info=future.exception(),
        )


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", repr(fn))


def bind_dispatcher(info: dict[Any, Any], dispatcher: Dispatcher) -> None:
    """Put ``dispatcher`` in a sessionmaker's ``info``, so its sessions publish through it."""
    info[_DISPATCHER] = dispatcher


def notify_on_commit(session: Session, event: Event) -> None:
    """Publish ``event`` once the session's outermost transaction commits.

    Dropped if the transaction (or the savepoint it was queued in) rolls back.
    """
    if _DISPATCHER not in session.info:
        raise RuntimeError("this session has no event dispatcher; open it from Runtime.sessions")
    scope = session.get_nested_transaction() or session.get_transaction()
    if scope is None:
        scope = session.begin()
    _pending(session).setdefault(scope, []).append(event)


def _pending(session: Session) -> dict[SessionTransaction, list[Event]]:
    return cast(dict[SessionTransaction, list[Event]], session.info.setdefault(_PENDING, {}))


def _queue_holder(txn: SessionTransaction) -> SessionTransaction:
    """The savepoint or outer transaction that holds events for ``txn`` (flushes open
    plain subtransactions, which hold none)."""
    while txn.parent is not None and not txn.nested:
        txn = txn.parent
    return txn


@sa_event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    # Fires for the outer commit and for every released savepoint; which one is the
    # innermost transaction still open. Only marked here: it ends (and its events move
    # on) in after_transaction_end.
    if _PENDING not in session.info:
        return
    txn = session.get_nested_transaction() or session.get_transaction()
    if txn is not None:
        session.info.setdefault(_COMMITTED, set()).add(txn)


@sa_event.listens_for(Session, "after_transaction_end")
def _settle(session: Session, txn: SessionTransaction) -> None:
    if _PENDING not in session.info:
        return
    pending = _pending(session)
    committed: set[SessionTransaction] = session.info.get(_COMMITTED, set())
    was_committed = txn in committed
    committed.discard(txn)
    events = pending.pop(txn, None)
    if not events or not was_committed:
        return  # rolled back or closed without commit: its events are dropped
    if txn.parent is not None:
        # A released savepoint: its events now wait for the enclosing transaction.
        pending.setdefault(_queue_holder(txn.parent), []).extend(events)
        return
    dispatcher: Dispatcher = session.info[_DISPATCHER]
    for ev in events:
        dispatcher.publish(ev)
