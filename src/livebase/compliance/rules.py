"""From raw hits to a verdict: context, allow-lists, exceptions and per-kind actions.

Runs only for lines where the fast path found something, so it may take its time: it
builds the maps back to the original text and checks each hit in context.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

from livebase.compliance import normalize
from livebase.compliance.matchers import (
    DIGITISH,
    DIGITS_AFTER,
    EMAIL,
    ID_AFTER,
    PHONE,
    URL,
    Compiled,
    Entry,
    Hits,
)
from livebase.compliance.verdict import (
    ALLOW,
    LABELS,
    SEVERITY,
    Action,
    Match,
    Verdict,
    mask_spans,
)

# What each label does by default, per kind. Chat is live: a contact or an insult is
# masked so the rest of the line still reaches the room; prohibited goods and spam are
# dropped. Listings and scripts are published text of a business: they cannot be masked
# behind the merchant's back, so anything doubtful is held for a moderator.
DEFAULT_ACTIONS: Final[dict[str, dict[str, Action]]] = {
    "chat": {"abuse": "mask", "contact": "mask", "ad_law": "review", "prohibited": "block",
             "spam": "block"},
    "listing": {"abuse": "review", "contact": "review", "ad_law": "review",
                "prohibited": "block", "spam": "review"},
    "script": {"abuse": "review", "contact": "review", "ad_law": "review",
               "prohibited": "block", "spam": "review"},
}  # fmt: skip

# A phone-shaped number right after these words is an order, parcel or product number.
ORDER_WORDS: Final = ("订单", "单号", "运单", "快递", "物流", "编号", "货号", "批号", "条码",
                      "流水", "工号", "批次", "sku", "型号", "序列号")  # fmt: skip
_ORDER_WINDOW = 10  # characters before the number searched for an order word
# How far before an absolute term an own-products scope word (本店, 我们家) still counts.
_SCOPE_WINDOW = 10
# Short Latin keys (sb, vx, cnm, nmsl) must stand as their own word: "usb" is not "sb".
_SHORT_LATIN = 4
_SEPARATORS = frozenset(":号=")


@dataclass(slots=True)
class _Finding:
    rule: str
    label: str
    start: int
    end: int
    term: str
    action: Action
    strict: bool = False


def _is_latin(ch: str) -> bool:
    return "a" <= ch <= "z"


def _is_decimal(ch: str) -> bool:
    return unicodedata.decimal(ch, None) is not None


def _kept_char(text: str, i: int, last: bool) -> str:
    if i < 0 or i >= len(text):
        return ""
    folded = text[i].translate(normalize.tables().kept)
    if not folded:
        return ""
    return folded[-1] if last else folded[0]


def _pinyin_index(view: str) -> list[int]:
    """For each character of the pinyin view of ``view``, its index in ``view``."""
    get = normalize.tables().pinyin.get
    return [j for j, ch in enumerate(view) for _ in get(ord(ch), ch)]


def action_for(kind: str, label: str, override: str | None) -> Action:
    """The action a finding of ``label`` takes in ``kind`` (an entry's own action first)."""
    return _action(kind, label, override)


def _action(kind: str, label: str, override: str | None) -> Action:
    action: Action = override or DEFAULT_ACTIONS[kind][label]  # type: ignore[assignment]
    if action == "mask" and kind != "chat":
        return "review"  # a merchant's or host's text is never silently rewritten
    return action


class _Judge:
    def __init__(self, compiled: Compiled, kind: str, text: str, hits: Hits) -> None:
        self.kind = kind
        self.text = text
        self.hits = hits
        self.spans = normalize.stripped_spans(text)
        self.findings: list[_Finding] = []
        self.allows: list[tuple[int, int]] = []
        self.scopes: list[tuple[int, int]] = []

    def _bounded(self, key: str, label: str, span: tuple[int, int], vspan: tuple[int, int]) -> bool:
        """Word boundaries for keys that could be part of a longer word or number."""
        text, view = self.text, self.spans.text
        (start, end), (vstart, vend) = span, vspan
        # 第1 is not the start of 第10, 100% is not the tail of 1100%. The original text
        # decides: 唯一一款 folds to 唯11款, yet 唯一 stands on its own there.
        if key[-1].isdigit() and end < len(text) and _is_decimal(text[end]):
            return False
        if key[0].isdigit() and start > 0 and _is_decimal(text[start - 1]):
            return False
        if len(key) > _SHORT_LATIN:
            return True
        n = len(key)
        if (
            _is_latin(key[0])
            and _is_latin(_kept_char(text, start - 1, last=True))
            and view[max(0, vstart - n) : vstart] != key  # sbsbsb repeats the key itself
        ):
            return False
        # Contact words may run into the id that follows them (vxabc123).
        return not (
            label != "contact"
            and _is_latin(key[-1])
            and _is_latin(_kept_char(text, end, last=False))
            and view[vend : vend + n] != key
        )

    def _entry(self, e: Entry, view: str, vstart: int, vend: int, ends: list[int]) -> None:
        """One automaton hit: view slice [vstart, vend) of the stripped view."""
        t = e.term
        start, end = self.spans.starts[vstart], self.spans.ends[vend - 1]
        if t.allow:
            self.allows.append((start, end))
            return
        if t.scope:
            self.scopes.append((start, end))
            return
        if not self._bounded(e.key, t.label, (start, end), (vstart, vend)):
            return
        if t.needs is not None:
            # A one-letter context (我V：lily8866) needs a separator, or V领 would count.
            if (
                len(e.key) == 1
                and end - start == 1
                and _kept_char(self.text, end, last=False) not in _SEPARATORS
            ):
                return
            m = (ID_AFTER if t.needs == "id" else DIGITS_AFTER).match(view, vend)
            if m is None:
                return
            end = ends[m.end() - 1]
        elif t.label == "contact":
            m = ID_AFTER.match(view, vend)
            if m is not None:
                end = ends[m.end() - 1]  # mask the id that follows 加v / vx too
        self.findings.append(
            _Finding(e.rule, t.label, start, end, t.reported,
                     _action(self.kind, t.label, t.action), t.strict)
        )  # fmt: skip

    def collect(self) -> None:
        view, spans = self.spans.text, self.spans
        for vend_incl, (klen, entries) in self.hits.main:
            for e in entries:
                self._entry(e, view, vend_incl - klen + 1, vend_incl + 1, spans.ends)
        if self.hits.pinyin:
            self._collect_pinyin()
        for vstart, vend in self.hits.phones:
            self._phone(spans.starts[vstart], spans.ends[vend - 1], "contact:phone")
        if self.hits.kept_hits:
            self._collect_kept()

    def _collect_pinyin(self) -> None:
        view, spans = self.spans.text, self.spans
        # Pinyin view char → stripped view index, to map back and to look past the end.
        # Pinyin typed throughout (jia wei xin) is its own pinyin view.
        vidx = list(range(len(view))) if view.isascii() else _pinyin_index(view)
        for pend, (klen, entries) in self.hits.pinyin:
            pstart = pend - klen + 1
            vstart, vend = vidx[pstart], vidx[pend] + 1
            # Whole syllables only: 棉T恤 reads mian-t, whose "nt" is not 脑瘫's initials.
            if (pstart > 0 and vidx[pstart - 1] == vstart) or (
                pend + 1 < len(vidx) and vidx[pend + 1] == vend - 1
            ):
                continue
            segment = view[vstart:vend]
            # Pinyin of plain Chinese (为新 → weixin) is a homophone, not an evasion; a
            # person typing pinyin leaves Latin letters in the text.
            if not any(_is_latin(c) for c in segment):
                continue
            for e in entries:
                if e.via == "initials" and not segment.isascii():
                    continue  # initials are typed, never read off Chinese characters
                self._entry(e, view, vstart, vend, spans.ends)

    def _phone(self, start: int, end: int, rule: str) -> None:
        before = normalize.stripped(self.text[max(0, start - _ORDER_WINDOW) : start])
        if any(w in before for w in ORDER_WORDS):
            return
        self.findings.append(
            _Finding(rule, "contact", start, end, "phone", _action(self.kind, "contact", None))
        )

    def _collect_kept(self) -> None:
        kept = normalize.kept_spans(self.text)
        for m in PHONE.finditer(kept.text.translate(DIGITISH)):
            self._phone(*kept.original(*m.span()), "contact:phone")
        for pattern, rule in ((URL, "contact:url"), (EMAIL, "contact:email")):
            for m in pattern.finditer(kept.text):
                start, end = kept.original(*m.span())
                self.findings.append(
                    _Finding(rule, "contact", start, end, m.group(0).strip(),
                             _action(self.kind, "contact", None))
                )  # fmt: skip

    def _excused(self, f: _Finding) -> bool:
        if any(a <= f.start and f.end <= b for a, b in self.allows):
            return True
        if f.label == "ad_law" and not f.strict:
            # SAMR 2023: a comparison within one's own products (本店最便宜的一款) is allowed.
            return any(0 <= f.start - b <= _SCOPE_WINDOW for _, b in self.scopes)
        return False

    def verdict(self) -> Verdict:
        kept = self.findings
        if self.allows or self.scopes:
            kept = [f for f in kept if not self._excused(f)]
        if not kept:
            return ALLOW
        # One finding per span and label: the widest wins, then the strictest action.
        kept.sort(key=lambda f: (f.start, -f.end, -SEVERITY[f.action]))
        final: list[_Finding] = []
        for f in kept:
            if any(g.label == f.label and g.start <= f.start and f.end <= g.end for g in final):
                continue
            final.append(f)
        action: Action = max((f.action for f in final), key=SEVERITY.__getitem__)
        present = {f.label for f in final}
        labels: list[str] = [label for label in LABELS if label in present]
        matches = [Match(f.rule, f.label, f.start, f.end, f.term) for f in final]
        if action != "mask":
            return Verdict(action, labels, None, matches)
        return Verdict(action, labels, mask_spans(self.text, [(f.start, f.end) for f in final]),
                       matches)  # fmt: skip


def judge(compiled: Compiled, kind: str, text: str, hits: Hits) -> Verdict:
    """The slow path: turn the fast path's raw hits into a verdict on the original text."""
    j = _Judge(compiled, kind, text, hits)
    if j.spans.text != hits.view:  # pragma: no cover - both paths share one table
        raise AssertionError("fast and slow normalisation disagree")
    j.collect()
    return j.verdict()
