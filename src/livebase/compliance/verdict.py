"""The verdict of a compliance check and the vocabulary it is written in (DESIGN.md §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from livebase.compliance.guard import ChatGuard

KINDS: Final = ("chat", "listing", "script")
LABELS: Final = ("abuse", "contact", "ad_law", "prohibited", "spam")
ACTIONS: Final = ("allow", "mask", "review", "block")

Action = Literal["allow", "mask", "review", "block"]

# Severity order used to combine the actions of several matches: the strictest wins.
SEVERITY: Final[dict[str, int]] = {action: rank for rank, action in enumerate(ACTIONS)}


@dataclass(frozen=True, slots=True)
class Match:
    """One finding. ``start``/``end`` index the ORIGINAL text in code points, end exclusive."""

    rule: str
    label: str
    start: int
    end: int
    term: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "label": self.label,
            "start": self.start,
            "end": self.end,
            "term": self.term,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer for one text. Verdicts are cached and shared: treat them as read-only."""

    verdict: Action
    labels: list[str] = field(default_factory=list)
    masked: str | None = None
    matches: list[Match] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.verdict == "allow"

    def to_dict(self) -> dict[str, Any]:
        """Exactly the contract JSON: ``{verdict, labels, masked, matches}``."""
        return {
            "verdict": self.verdict,
            "labels": list(self.labels),
            "masked": self.masked,
            "matches": [m.to_dict() for m in self.matches],
        }


ALLOW: Final = Verdict("allow")


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Who sent the text and where; a guard adds reputation and flood control to chat."""

    user_id: str | None = None
    show_id: str | None = None
    guard: ChatGuard | None = None
    # The base the text belongs to: its moderators' own terms apply on top of the shared.
    base_id: str | None = None


def check_kind(kind: str) -> str:
    """Refuse an unknown kind loudly: a typo must not silently skip the checks."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace each span of the original text with one ``*`` per code point."""
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = "*"
    return "".join(chars)
