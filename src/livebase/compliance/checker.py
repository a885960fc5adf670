"""`Checker`: compiled word lists, a verdict cache, hot reload, and the chat guard hook."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from livebase.compliance import rules, wordlist
from livebase.compliance.matchers import Compiled
from livebase.compliance.verdict import ALLOW, KINDS, CheckContext, Verdict

# Chat repeats itself (666, 好看, 扣1): a few tens of thousands of distinct lines cover a
# busy room's working set at well under 50 MB.
DEFAULT_CACHE_SIZE = 32_768
# Word-list files are stat()ed at most this often; a moderator's edit shows within a second.
DEFAULT_WATCH_INTERVAL = 1.0


class _Snapshot:
    """One compiled generation of the word lists and the verdict cache that belongs to it.

    Swapping the whole snapshot (one reference assignment) makes a reload atomic: a check
    in flight keeps using the old automata and the old cache, never a mix.
    """

    def __init__(self, compiled: Compiled, signature: tuple[tuple[str, int, int], ...],
                 cache_size: int) -> None:  # fmt: skip
        self.compiled = compiled
        self.signature = signature
        self.judge: Callable[[str, str], Verdict] = self._judge
        if cache_size > 0:
            self.judge = functools.lru_cache(maxsize=cache_size)(self._judge)

    def _judge(self, kind: str, text: str) -> Verdict:
        hits = self.compiled.scan(kind, text)
        if hits is None or hits.only_benign():
            return ALLOW
        return rules.judge(self.compiled, kind, text, hits)


class Checker:
    """Checks texts against the word lists of the package and an optional override dir.

    ``override_dir`` is where the moderators' word-list editor writes (write a temporary
    file and rename it, so a reload never reads half a file); a file there replaces the
    shipped file of the same name. At most every ``watch_interval`` seconds a check
    stats the files and, when one changed, starts a rebuild in a background thread;
    ``watch_interval=None`` turns polling off (then only `reload` picks up changes).
    """

    def __init__(
        self,
        override_dir: Path | str | None = None,
        *,
        package_dir: Path | str = wordlist.PACKAGE_DIR,
        cache_size: int = DEFAULT_CACHE_SIZE,
        watch_interval: float | None = DEFAULT_WATCH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        dirs = [Path(package_dir)]
        if override_dir is not None:
            dirs.append(Path(override_dir))
        self.dirs: Sequence[Path] = tuple(dirs)
        self.cache_size = cache_size
        self.watch_interval = watch_interval
        self._clock = clock
        self._reload_lock = threading.Lock()
        self._snapshot = self._build()
        self._last_poll = clock()

    def _build(self) -> _Snapshot:
        signature = wordlist.signature(self.dirs)
        compiled = Compiled(wordlist.load(self.dirs))
        return _Snapshot(compiled, signature, self.cache_size)

    @property
    def problems(self) -> list[str]:
        """Lines of the word lists that could not be used, with file and line number."""
        return list(self._snapshot.compiled.problems)

    @property
    def term_count(self) -> int:
        return self._snapshot.compiled.size

    def reload(self) -> bool:
        """Rebuild now if any word-list file changed; True when a new snapshot is in use."""
        with self._reload_lock:
            if wordlist.signature(self.dirs) == self._snapshot.signature:
                return False
            self._snapshot = self._build()
            return True

    def force_reload(self) -> None:
        """Rebuild unconditionally (e.g. after an edit within the mtime granularity)."""
        with self._reload_lock:
            self._snapshot = self._build()

    def _poll(self) -> None:
        now = self._clock()
        if now - self._last_poll < self.watch_interval:  # type: ignore[operator]
            return
        self._last_poll = now
        if self._reload_lock.locked():
            return  # a rebuild is under way
        if wordlist.signature(self.dirs) == self._snapshot.signature:
            return
        # Rebuilding takes a few hundred milliseconds: do it beside the chat, which keeps
        # being checked against the old snapshot until the new one is swapped in.
        threading.Thread(target=self.reload, name="livebase-wordlist-reload", daemon=True).start()

    def check(self, kind: str, text: str, context: CheckContext | None = None) -> Verdict:
        """The verdict for one text of ``kind``; chat with a guard adds the user's history."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        if self.watch_interval is not None:
            self._poll()
        verdict = self._snapshot.judge(kind, text)
        if context is None or context.guard is None or context.user_id is None:
            return verdict
        if kind != "chat":
            return verdict  # flood control and reputation are about people chatting
        return context.guard.judge(context.user_id, text, verdict)

    def cache_clear(self) -> None:
        judge = self._snapshot.judge
        if isinstance(judge, functools._lru_cache_wrapper):
            judge.cache_clear()
