"""`Checker`: compiled word lists, a verdict cache, hot reload, and the chat guard hook."""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from livebase.compliance import learned, rules, wordlist
from livebase.compliance.matchers import Compiled
from livebase.compliance.verdict import (
    ALLOW,
    KINDS,
    LABELS,
    SEVERITY,
    Action,
    CheckContext,
    Match,
    Verdict,
    mask_spans,
)

# Chat repeats itself (666, 好看, 扣1): a few tens of thousands of distinct lines cover a
# busy room's working set at well under 50 MB.
DEFAULT_CACHE_SIZE = 32_768
# Word-list files are stat()ed at most this often; a moderator's edit shows within a second.
DEFAULT_WATCH_INTERVAL = 1.0
# A base's own terms are few; their verdicts need only a small cache per base.
BASE_CACHE_SIZE = 4096
# Where a base's terms live under the override dir (compliance.service writes them).
BASE_TERMS_DIR = "bases"
_SAFE_ID = re.compile(r"[a-z]+_[0-9a-z]{26}")  # a base id; never a path
# The match paths a word-list entry produces (the regex scanners' phone/url/email and the
# guard's spam findings are the shared pipeline's, never a base's).
WORDLIST_PATHS = frozenset({"term", "pinyin", "initials", "variant", "split"})


class _Snapshot:
    """One compiled generation of the word lists and the verdict cache that belongs to it.

    Swapping the whole snapshot (one reference assignment) makes a reload atomic: a check
    in flight keeps using the old automata and the old cache, never a mix.
    """

    def __init__(self, compiled: Compiled, signature: tuple[tuple[str, int, int], ...],
                 cache_size: int, model: learned.Model | None = None) -> None:  # fmt: skip
        self.compiled = compiled
        self.model = model
        self.signature = signature
        self._actions: dict[tuple[str, str], str | None] | None = None
        self.judge: Callable[[str, str], Verdict] = self._judge
        if cache_size > 0:
            self.judge = functools.lru_cache(maxsize=cache_size)(self._judge)

    @property
    def actions(self) -> dict[tuple[str, str], str | None]:
        """Each entry's own action by (reported term, label), for re-judging findings."""
        if self._actions is None:
            self._actions = {(t.reported, t.label): t.action for t in self.compiled.lists.terms}
        return self._actions

    def _judge(self, kind: str, text: str) -> Verdict:
        hits = self.compiled.scan(kind, text)
        if hits is None or hits.only_benign():
            verdict = ALLOW
        else:
            verdict = rules.judge(self.compiled, kind, text, hits)
        if (
            self.model is None
            or len(text) < learned.MIN_CHARS  # short chat is the word lists' job
            or SEVERITY[verdict.verdict] >= _REVIEW  # settled: a model could only say review
        ):
            return verdict
        return _with_model(self.model, kind, text, verdict)


class _BaseTerms:
    """One base's own terms, compiled on their own: checked after the shared lists, their
    findings added to the shared verdict (the strictest action wins)."""

    def __init__(self, path: Path, signature: tuple[int, int], variants_dir: Path) -> None:
        problems: list[str] = []
        terms = wordlist.parse_terms(
            path.read_text("utf-8").splitlines(), f"base:{path.stem}", problems
        )
        # A term this base switched off: its own entry, or a shipped or shared one.
        self.off = {(t.reported, t.label) for t in terms if t.off}
        terms = [t for t in terms if not t.off]
        variants_file = variants_dir / wordlist.VARIANTS_FILE
        variants: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {})
        if variants_file.exists():
            variants = wordlist.parse_variants(
                variants_file.read_text("utf-8").splitlines(), problems
            )
        lists = wordlist.WordLists(terms=terms, variants=variants[0], splits=variants[1])
        lists.problems = problems
        self.signature = signature
        self.snapshot = _Snapshot(Compiled(lists), (), BASE_CACHE_SIZE)
        self.actions = {(t.reported, t.label): t.action for t in terms}

    def apply(self, kind: str, text: str, verdict: Verdict, shared: _Snapshot) -> Verdict:
        """The shared verdict with this base's switched-off terms taken out and its own
        terms' findings added."""
        if self.off and verdict.matches:
            kept = [m for m in verdict.matches if (m.term, m.label) not in self.off]
            if len(kept) != len(verdict.matches):
                actions = [
                    rules.action_for(kind, m.label, shared.actions.get((m.term, m.label)))
                    for m in kept
                ]
                verdict = _verdict(kind, text, kept, actions) if kept else ALLOW
        return self._add_own(kind, text, verdict)

    def _add_own(self, kind: str, text: str, verdict: Verdict) -> Verdict:
        extra = self.snapshot.judge(kind, text)
        new = [
            m
            for m in extra.matches
            if m.rule.rpartition(":")[2] in WORDLIST_PATHS
            and not any(
                o.label == m.label and o.start <= m.start and m.end <= o.end
                for o in verdict.matches
            )
        ]
        if not new:
            return verdict
        actions = [
            rules.action_for(kind, m.label, self.actions.get((m.term, m.label))) for m in new
        ]
        return _verdict(kind, text, [*verdict.matches, *new], [verdict.verdict, *actions])


_REVIEW = SEVERITY["review"]


def _with_model(model: learned.Model, kind: str, text: str, verdict: Verdict) -> Verdict:
    """The rules' verdict with the learned stage's findings for labels the rules did not
    find: each covers the whole line and asks for review (a model never blocks)."""
    found = model.hits(text)
    if not found:
        return verdict
    present = set(verdict.labels)
    new = [
        Match(f"model:{s.label}", s.label, 0, len(text), s.top)
        for s in found
        if s.label not in present
    ]
    if not new:
        return verdict
    actions: list[Action] = [verdict.verdict, *(["review"] * len(new))]  # type: ignore[list-item]
    return _verdict(kind, text, [*verdict.matches, *new], actions)


def _verdict(kind: str, text: str, matches: list[Match], actions: list[Action]) -> Verdict:
    """A verdict from findings and their actions: the strictest action wins."""
    action: Action = max(actions, key=SEVERITY.__getitem__)
    ordered = sorted(matches, key=lambda m: (m.start, -m.end))
    present = {m.label for m in ordered}
    labels: list[str] = [label for label in LABELS if label in present]
    masked = mask_spans(text, [(m.start, m.end) for m in ordered]) if action == "mask" else None
    return Verdict(action, labels, masked, ordered)


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
        model: learned.Model | Literal["shipped"] | None = "shipped",
    ) -> None:
        dirs = [Path(package_dir)]
        if override_dir is not None:
            dirs.append(Path(override_dir))
        self.dirs: Sequence[Path] = tuple(dirs)
        self.cache_size = cache_size
        self.watch_interval = watch_interval
        self._clock = clock
        # The learned stage: the shipped weights unless a model (or None: rules only) is given.
        self.model: learned.Model | None = learned.shipped() if model == "shipped" else model
        self._reload_lock = threading.Lock()
        self._snapshot = self._build()
        self._last_poll = clock()
        # base id → (when its file was last looked at, its compiled terms or None)
        self._bases: dict[str, tuple[float, _BaseTerms | None]] = {}
        self._base_dir = Path(override_dir) / BASE_TERMS_DIR if override_dir is not None else None

    def _build(self) -> _Snapshot:
        signature = wordlist.signature(self.dirs)
        compiled = Compiled(wordlist.load(self.dirs))
        return _Snapshot(compiled, signature, self.cache_size, self.model)

    @property
    def problems(self) -> list[str]:
        """Lines of the word lists that could not be used, with file and line number."""
        return list(self._snapshot.compiled.problems)

    @property
    def generation(self) -> object:
        """Changes whenever a reload swaps the word lists (for caches kept outside)."""
        return self._snapshot

    @property
    def term_count(self) -> int:
        return self._snapshot.compiled.size

    def reload(self) -> bool:
        """Rebuild now if any word-list file changed; True when a new snapshot is in use.
        A base's own terms are read again on its next check."""
        with self._reload_lock:
            self._bases = {}
            if wordlist.signature(self.dirs) == self._snapshot.signature:
                return False
            self._snapshot = self._build()
            return True

    def force_reload(self) -> None:
        """Rebuild unconditionally (e.g. after an edit within the mtime granularity)."""
        with self._reload_lock:
            self._snapshot = self._build()
            self._bases = {}

    def _base_terms(self, base_id: str) -> _BaseTerms | None:
        """The base's compiled terms, rebuilt when its file changed; the file is looked
        at no more often than the shared lists (with polling off: after `reload`)."""
        if self._base_dir is None or not _SAFE_ID.fullmatch(base_id):
            return None
        now = self._clock()
        entry = self._bases.get(base_id)
        if entry is not None and (
            self.watch_interval is None or now - entry[0] < self.watch_interval
        ):
            return entry[1]
        path = self._base_dir / f"{base_id}.tsv"
        try:
            st = path.stat()
        except OSError:
            self._bases[base_id] = (now, None)
            return None
        signature = (st.st_mtime_ns, st.st_size)
        old = entry[1] if entry is not None else None
        if old is not None and old.signature == signature:
            built = old
        else:
            built = _BaseTerms(path, signature, Path(self.dirs[0]))
        self._bases[base_id] = (now, built)  # one assignment: checks in flight keep the old
        return built

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
        if context is not None and context.base_id:
            own = self._base_terms(context.base_id)
            if own is not None:
                verdict = own.apply(kind, text, verdict, self._snapshot)
        if context is None or context.guard is None or context.user_id is None:
            return verdict
        if kind != "chat":
            return verdict  # flood control and reputation are about people chatting
        return context.guard.judge(context.user_id, text, verdict)

    def cache_clear(self) -> None:
        judge = self._snapshot.judge
        if isinstance(judge, functools._lru_cache_wrapper):
            judge.cache_clear()
