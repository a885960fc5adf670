"""Chat entries of lucky bags, recorded off the room's path.

The room socket dispatches :class:`~livebase.rooms.events.ChatAccepted` for every line it
took, on whatever thread took it (possibly the room's event loop). :meth:`EntryRecorder.on_chat`
only puts the line on a bounded queue — no database, no blocking — and one writer thread
per runtime drains it in batches: one query for the open chat bags of the batch's shows,
the phrase matched in memory, one ``INSERT … ON CONFLICT DO NOTHING`` for the matches.
A batch gathers for up to ``GATHER_S`` after its first line (or until ``flush()`` asks
for it), so a room of 200 lines/s costs the database a couple of statements four times a
second, not per line: written per line as they came, the bag query was a fifth of a
room node's CPU in the fan-out benchmark (docs/realtime.md, "where a room node's CPU
went besides the fan-out").

The queue is bounded (``CAPACITY``): a node so far behind that it holds that many unwritten
lines drops the newest and logs it, rather than growing without limit. Each line keeps the
time it was accepted, so a line written after ``ends_at`` still counts when it was said
before (the timed draw waits ``luckybag.DRAW_GRACE`` for the writers).

Wired as a runtime part whose build subscribes the recorder on ``rt.events``: a
``features.Subscription`` handler gets only the event and has no way to the runtime's
sessions, and a module-level session would mix the runtimes of tests and processes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from livebase.logs import get_logger
from livebase.rooms import luckybag
from livebase.rooms.events import ChatAccepted
from livebase.runtime import Part, Runtime

log = get_logger("livebase.luckybag")

# Lines waiting to be matched: at 200 lines/s per room and 50 busy rooms, 50,000 is five
# seconds of chat — far beyond a healthy writer's lag (one batch, ~10 ms).
CAPACITY = 50_000
# Lines per batch: one INSERT of 1,000 rows stays well inside both databases' limits on
# bound parameters (3 per row; SQLite allows 32,766).
BATCH = 1_000
# How long the idle writer sleeps between looks at the queue (also how soon stop() ends).
IDLE_S = 0.2
# How long a batch gathers lines after its first one. Lines keep the time they were said,
# and the timed draw waits luckybag.DRAW_GRACE (2 s) for the writers: far more than this.
GATHER_S = 0.25


class EntryRecorder:
    def __init__(self, sessions: sessionmaker[Session], capacity: int = CAPACITY) -> None:
        self._sessions = sessions
        self._queue: queue.Queue[ChatAccepted] = queue.Queue(maxsize=capacity)
        self._pending = 0
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._hurry = threading.Event()  # flush(): write what is gathered now
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.dropped = 0

    # -- the subscriber ------------------------------------------------------------------

    def on_chat(self, event: ChatAccepted) -> None:
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
            self.dropped += 1
            log.warning("lucky-bag entry queue full; line dropped", show_id=event.show_id)
            return
        self._ensure_started()

    # -- lifecycle (a features Service: the app stops it on shutdown) ---------------------

    def start(self) -> None:
        self._ensure_started()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="livebase-luckybag-entries", daemon=True
            )
            self._thread.start()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every line handed over so far is written; False on timeout."""
        deadline = time.monotonic() + timeout
        self._hurry.set()
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # -- the writer ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=IDLE_S)
            except queue.Empty:
                continue
            batch = [first]
            until = time.monotonic() + GATHER_S
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except queue.Empty:
                    pass
                left = until - time.monotonic()
                if left <= 0 or self._hurry.is_set() or self._stop.is_set():
                    break
                try:
                    batch.append(self._queue.get(timeout=min(left, 0.05)))
                except queue.Empty:
                    continue
            with self._idle:
                if self._pending <= len(batch):
                    self._hurry.clear()  # nothing left for a flush() to wait on
            try:
                self._write(batch)
            except Exception:  # the database may be away for a moment: log, keep serving
                log.exception("lucky-bag entries not written", lines=len(batch))
            finally:
                with self._idle:
                    self._pending -= len(batch)
                    self._idle.notify_all()

    def _write(self, batch: list[ChatAccepted]) -> None:
        by_show: dict[str, list[ChatAccepted]] = defaultdict(list)
        for event in batch:
            by_show[event.show_id].append(event)
        with self._sessions() as db, db.begin():
            bags = luckybag.open_chat_bags(db, sorted(by_show))
            rows: dict[tuple[str, str], datetime] = {}
            for bag in bags:
                for event in by_show[bag.show_id]:
                    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
                    if not bag.starts_at <= at <= bag.ends_at:
                        continue
                    if not luckybag.matches(bag.phrase, event.text):
                        continue
                    key = (bag.id, event.user_id)
                    if key not in rows or at < rows[key]:
                        rows[key] = at
            if rows:
                luckybag.do_record_entries(db, [(b, u, at) for (b, u), at in rows.items()])


def _build(rt: Runtime) -> EntryRecorder:
    recorder = EntryRecorder(rt.sessions)
    rt.events.subscribe(ChatAccepted, recorder.on_chat)
    return recorder


ENTRIES: Part[EntryRecorder] = Part("luckybag.entries", _build)


def entry_writer(rt: Runtime) -> EntryRecorder:
    """The features Service: started with the app, stopped (joined) at its shutdown."""
    return rt.part(ENTRIES)
