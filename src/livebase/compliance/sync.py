"""Keep this node's checker in step with the moderators' terms in the database.

The database is the source of truth (several app nodes share it); each node writes the
terms to its own override word-list file, which the checker watches. A node that has just
saved a term syncs at once; the others notice within ``INTERVAL`` seconds.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from livebase.compliance import Checker, default_checker, set_default_checker
from livebase.compliance.service import sync_terms_file
from livebase.logs import get_logger
from livebase.settings import Settings

log = get_logger("livebase.compliance")
# Two seconds: a new term reaches every node well before a moderator has switched tabs,
# and one small query per node every two seconds costs nothing.
INTERVAL = 2.0


def override_dir(settings: Settings) -> Path:
    return settings.data_dir / "compliance" / "wordlists"


def sync_now(db: Session, settings: Settings) -> None:
    if sync_terms_file(db, override_dir(settings)):
        default_checker().reload()


class TermSync:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Sync once, install a checker that reads the override dir, start polling."""
        try:
            with self._sessions() as db:
                sync_terms_file(db, override_dir(self._settings))
        except Exception:  # start anyway: /readyz reports the database, the loop retries
            log.exception("word-list sync failed at start-up")
        wanted = override_dir(self._settings)
        current = default_checker()
        if Path(current.dirs[-1]) != wanted:
            # Building the automata takes about a second; a checker already reading this
            # override directory (an app restarted in the same process) is kept.
            set_default_checker(Checker(override_dir=wanted))
        else:
            current.reload()
        self._thread = threading.Thread(target=self._loop, name="livebase-terms", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(INTERVAL):
            try:
                with self._sessions() as db:
                    sync_now(db, self._settings)
            except Exception:  # the database may be briefly away; try again next tick
                log.exception("word-list sync failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
