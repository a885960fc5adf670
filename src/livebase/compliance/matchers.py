"""Compiled matchers: Aho-Corasick automata over the normalised views, and the scanners.

One automaton per kind over the stripped view holds every term (and its homophone and
split-character forms); a second one per kind holds the pinyin and initials forms of the
terms marked ``pinyin`` / ``initials`` and runs over the pinyin view, only for lines that
contain Latin letters (pinyin typed by a person, whole or mixed: ``jia wei xin``,
``加wei信``). Aho-Corasick finds every term in one pass whatever the number of terms,
which is why the list can grow without slowing chat down.

`Compiled.scan` is the fast path: it returns raw hits in view coordinates and never
builds the span maps back to the original text; `rules.judge` does that for the few lines
that hit something.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import ahocorasick
from pypinyin import Style, lazy_pinyin

from livebase.compliance import normalize
from livebase.compliance.verdict import KINDS
from livebase.compliance.wordlist import MIN_AUTO_PINYIN, Term, WordLists, expand

# Mainland mobile numbers: 11 digits, 1 then 3-9 (MIIT numbering plan), optional +86.
# Letters before the number make it part of an id or a tracking number instead.
PHONE = re.compile(r"(?<![0-9a-z])(?:\+?86)?1[3-9][0-9]{9}(?![0-9])")
# URLs and domains in the kept view (dots survive there). The TLD list is the ones seen
# in diversion spam; "点com"/"dot com" spell the dot out.
URL = re.compile(
    r"(?:https?://|www\.)[^\s]+"
    r"|(?<![a-z0-9.])[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,62})*"
    r"\s?[\[【(（]?\s?(?:\.|点|dot)\s?[\]】)）]?\s?"
    r"(?:com|cn|net|org|top|xyz|vip|cc|shop|club|site|link|info|io|me|tv"
    r"|app|ltd|store|online|wang|fun|icu|live)(?![a-z])(?:/[^\s]*)?"
)
# Letters standing in for digits inside a phone number (l38OOl38OOO): only for the
# phone scanner, which still needs 11 digits in a row starting 1[3-9].
DIGITISH = str.maketrans({"o": "0", "l": "1", "i": "1"})
EMAIL = re.compile(r"[a-z0-9._-]{2,}@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
# After a `needs=id` context word (微信, vx): an id of letters and digits, or a number.
# Five, not six: the repeat collapsing may shorten an id by a letter or two.
ID_AFTER = re.compile(r"(?:号码|号|id|是|为|加|:)?(?:[a-z][a-z0-9]{4,19}|[0-9]{5,12})(?![0-9])")
# After a `needs=digits` context word (qq, 扣扣, 电话): a number of 5-12 digits (QQ numbers
# start at five digits, landlines with area code have up to twelve).
DIGITS_AFTER = re.compile(r"(?:号码|号|群|是|为|:)?[0-9]{5,12}(?![0-9])")
_HAS_LATIN = re.compile(r"[a-z]")
_LATIN_OR_NUMBER = re.compile(r"[a-z]|[0-9]{5}")
# Necessary conditions, checked before the scanners run, that let most lines skip the
# kept view (a second translate) and the costly URL pattern (which backtracks over every
# run of letters and digits). PHONE needs 11 digits in a row, in the stripped view as in
# the kept one (the kept view only adds spaces and punctuation between characters).
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")
# PHONE after DIGITISH: 11 characters of [0-9oli] in a row in the kept view, hence also in
# the stripped view before repeat collapsing (collapsing would shorten l38OOl38OOO).
_ELEVEN_DIGITISH = re.compile(r"[0-9oli]{11}")
# A URL needs "://", "www." or a dot spelled ".", "点" or "dot"; an e-mail needs "@".
# The characters are searched in the original text (those whose kept form has one);
# "dot" is letters, which survive into the stripped view.
_URL_OR_EMAIL_MARKS = ".:@点"


@dataclass(frozen=True, slots=True)
class Entry:
    term: Term
    via: str  # term | variant | pinyin | initials
    key: str

    @property
    def rule(self) -> str:
        return f"{self.term.source}:{self.via}"

    @property
    def effect(self) -> tuple[object, ...]:
        """Everything `rules` reads of an entry besides its key: two entries under one key
        with the same effect make the same finding, so the second is never reported."""
        t = self.term
        return (self.via, t.source, t.label, t.reported, t.action, t.strict, t.needs,
                t.allow, t.scope)  # fmt: skip


Payload = tuple[int, tuple[Entry, ...]]


@dataclass(slots=True)
class Hits:
    """Raw findings of the fast path, in view coordinates."""

    view: str
    main: list[tuple[int, Payload]] = field(default_factory=list)
    pinyin: list[tuple[int, Payload]] = field(default_factory=list)
    phones: list[tuple[int, int]] = field(default_factory=list)
    kept_hits: bool = False  # a phone, URL or e-mail seen in the kept view

    def empty(self) -> bool:
        return not (self.main or self.pinyin or self.phones or self.kept_hits)

    def only_benign(self) -> bool:
        """Nothing the judge would report: skip the slow path.

        Allow-list and scope entries, context words with nothing after them, and entries
        inside an allow entry's span (去死 in 去死皮, 大麻 in 大麻花), which the judge
        excuses. Contact entries are left to the judge: it stretches them over the id
        that follows, which may reach past the allow entry.
        """
        if self.phones or self.kept_hits:
            return False
        allowed: list[tuple[int, int]] | None = None
        for end, (klen, entries) in self.main:
            for e in entries:
                t = e.term
                if t.allow or t.scope:
                    continue
                # A context word (微信, 扣) with no id or number after it is nothing.
                if t.needs is not None:
                    after = ID_AFTER if t.needs == "id" else DIGITS_AFTER
                    if after.match(self.view, end + 1) is None:
                        continue
                    return False
                if allowed is None:
                    allowed = [(j - n + 1, j + 1) for j, (n, es) in self.main
                               if any(x.term.allow for x in es)]  # fmt: skip
                start = end - klen + 1
                if t.label == "contact" or not any(a <= start and end < b for a, b in allowed):
                    return False
        return all(e.term.allow or e.term.scope for _, (_, es) in self.pinyin for e in es)


def _pinyin_forms(form: str, term: Term) -> list[tuple[str, str]]:
    if term.nopinyin or not any(0x3400 <= ord(c) < 0xA000 for c in form):
        return []
    out: list[tuple[str, str]] = []
    shortest = 2 if term.pinyin else MIN_AUTO_PINYIN
    for key in {normalize.pinyin_of(form), normalize.term_form("".join(lazy_pinyin(form)))}:
        out.append(("pinyin", key))
    if term.initials:
        firsts = "".join(lazy_pinyin(form, style=Style.FIRST_LETTER))
        out.append(("initials", normalize.term_form(firsts)))
    # Digits in a pinyin key (第一 → di1) would never be typed that way; and a one-letter
    # key (智障 → zz → z after repeat collapsing) would match everywhere.
    return [
        (via, k)
        for via, k in out
        if k.isascii() and k.isalpha() and len(k) >= (2 if via == "initials" else shortest)
    ]


class Compiled:
    """The automata built from one snapshot of the word lists. Immutable once built."""

    def __init__(self, lists: WordLists) -> None:
        self.lists = lists
        self._tables = normalize.tables()
        self._folds = self._tables.folds
        self._stripped = self._tables.stripped
        self._plain_line, self._url_or_email_marks = _line_patterns()
        self.problems = list(lists.problems)
        self._main: dict[str, Any] = {}
        self._pinyin: dict[str, Any] = {}
        fuzzy = {
            ch: lists.variants.get(ch, []) + lists.splits.get(ch, [])
            for ch in set(lists.variants) | set(lists.splits)
        }
        main_keys: dict[str, dict[str, list[Entry]]] = {k: {} for k in KINDS}
        pinyin_keys: dict[str, dict[str, list[Entry]]] = {k: {} for k in KINDS}
        for term in lists.terms:
            form = normalize.term_form(term.term)
            if not form:
                self.problems.append(f"{term.source}: {term.term!r} is empty once normalised")
                continue
            keys = [("term", form)]
            keys += [("split", normalize.term_form(v)) for v in expand(form, lists.splits)[1:]]
            if term.variants:
                keys += [("variant", normalize.term_form(v)) for v in expand(form, fuzzy)[1:]]
            pkeys = _pinyin_forms(form, term)
            for kind in term.kinds:
                for via, key in keys:
                    _add(main_keys[kind], key, Entry(term, via, key))
                for via, key in pkeys:
                    _add(pinyin_keys[kind], key, Entry(term, via, key))
        for kind in KINDS:
            self._main[kind] = _automaton(main_keys[kind])
            self._pinyin[kind] = _automaton(pinyin_keys[kind])
        self.size = sum(len(v) for v in main_keys.values()) + sum(
            len(v) for v in pinyin_keys.values()
        )

    def scan(self, kind: str, text: str) -> Hits | None:
        """Fast path: fold, run the automata and the cheap scanners, report raw hits.

        None when nothing at all was found - the common case, kept free of allocations.
        A line without Latin letters or a five-digit number (most chat) needs only the
        stripped view and one automaton pass.
        """
        main = self._main[kind]
        if self._plain_line.search(text) is None:
            # Nothing to fold, no Latin letter, no digit, no doubled character: the text is
            # its own view, and only the main automaton can find anything in it.
            found = list(main.iter(text)) if main is not None else []
            return Hits(text, found) if found else None
        raw = text if self._folds.search(text) is None else text.translate(self._stripped)
        view = normalize.collapse(raw)
        found = list(main.iter(view)) if main is not None else []
        if _LATIN_OR_NUMBER.search(view) is None:
            return Hits(view, found) if found else None
        return self._scan_latin_or_number(kind, text, raw, view, found)

    def _scan_latin_or_number(
        self, kind: str, text: str, raw: str, view: str, found: list[tuple[int, Payload]]
    ) -> Hits | None:
        latin = _HAS_LATIN.search(view) is not None
        pinyin = self._pinyin[kind]
        pinyin_found: list[tuple[int, Payload]] = []
        if latin and pinyin is not None:
            pview = view if view.isascii() else view.translate(self._tables.pinyin)
            pinyin_found = list(pinyin.iter(pview))
        long_number = _ELEVEN_DIGITS.search(view) is not None
        phones = [m.span() for m in PHONE.finditer(view)] if long_number else []
        kept_hits = (long_number or latin) and self._kept_hits(text, raw, view, latin, long_number)
        if not (found or pinyin_found or phones or kept_hits):
            return None
        return Hits(view, found, pinyin_found, phones, kept_hits)

    def _kept_hits(self, text: str, raw: str, view: str, latin: bool, long_number: bool) -> bool:
        """A phone, URL or e-mail in the kept view; only built when one is possible."""
        marks = latin and (self._url_or_email_marks.search(text) is not None or "dot" in view)
        digitish = latin and _ELEVEN_DIGITISH.search(raw) is not None
        if not (long_number or marks or digitish):
            return False
        kept = text.translate(self._tables.kept)
        if long_number and PHONE.search(kept):
            return True
        if marks and (URL.search(kept) or EMAIL.search(kept)):
            return True
        return digitish and PHONE.search(kept.translate(DIGITISH)) is not None


@functools.cache
def _line_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Patterns over the original text, compiled once per process (their classes hold
    thousands of ranges): anything that keeps a line off the fast path, and the
    characters a URL or an e-mail address needs."""
    t = normalize.tables()
    plain_line = re.compile(f"[{t.fold_class}a-z0-9]|(.)\\1")
    return plain_line, normalize.chars_whose(t.kept, _URL_OR_EMAIL_MARKS)


def _add(keys: dict[str, list[Entry]], key: str, entry: Entry) -> None:
    entries = keys.setdefault(key, [])
    # Homophone spellings of one group share a pinyin key (威信, 薇信, 维信 all read
    # weixin): keeping one entry per effect spares the judge a dozen identical findings.
    if all(e.term is not entry.term and e.effect != entry.effect for e in entries):
        entries.append(entry)


def _automaton(keys: dict[str, list[Entry]]) -> Any:
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, entries in keys.items():
        payload: Payload = (len(key), tuple(entries))
        automaton.add_word(key, payload)
    automaton.make_automaton()
    return automaton
