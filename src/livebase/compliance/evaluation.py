"""The compliance evaluation set and the figures the engine is held to.

The set lives in ``tests/compliance/eval/eval_set.jsonl``: one labelled text a line,
written by hand apart from the engine's word lists so that it measures the engine
rather than echoing it. ``evaluate`` runs any ``check(kind, text)`` over it and
reports recall, false-positive rate and label recall, broken down per label, per
evasion type and per kind, with the items it got wrong.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

KINDS = frozenset({"chat", "listing", "script"})
LABELS = frozenset({"abuse", "contact", "ad_law", "prohibited", "spam"})
EVASIONS = frozenset(
    {
        "none",
        "spacing",
        "symbols",
        "fullwidth",
        "traditional",
        "case",
        "pinyin",
        "initials",
        "homophone",
        "split_char",
        "chinese_numerals",
        "styled_digits",
        "emoji",
        "repeat",
        "lookalike",
        "mixed",
    }
)

EVAL_SET_RELPATH = Path("tests") / "compliance" / "eval" / "eval_set.jsonl"

_FIELDS = ("id", "kind", "text", "flag", "labels", "evasion", "note")


@dataclass(frozen=True, slots=True)
class EvalItem:
    """One labelled text. ``flag`` true means it must not be allowed."""

    id: str
    kind: str
    text: str
    flag: bool
    labels: tuple[str, ...]
    evasion: tuple[str, ...]
    note: str


class MatchLike(Protocol):
    @property
    def rule(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def term(self) -> str: ...


class VerdictLike(Protocol):
    @property
    def verdict(self) -> str: ...

    @property
    def labels(self) -> Sequence[str]: ...

    @property
    def matches(self) -> Sequence[MatchLike]: ...


CheckFn = Callable[[str, str], VerdictLike]


def default_eval_set_path() -> Path:
    """Find the set by walking up from this file (a source checkout), then from the cwd."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for directory in (start, *start.parents):
            candidate = directory / EVAL_SET_RELPATH
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"no {EVAL_SET_RELPATH} above {Path(__file__).parent} or the cwd")


def _str_list(value: Any, name: str, allowed: frozenset[str], where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {name} must be a list of strings")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown {name} {unknown}")
    return tuple(value)


def parse_item(obj: Any, where: str) -> EvalItem:
    """Check one decoded line and build its item; ``ValueError`` names what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: not a JSON object")
    missing = [name for name in _FIELDS if name not in obj]
    if missing:
        raise ValueError(f"{where}: missing {missing}")
    extra = sorted(set(obj) - set(_FIELDS))
    if extra:
        raise ValueError(f"{where}: unknown fields {extra}")
    for name in ("id", "kind", "text", "note"):
        if not isinstance(obj[name], str) or not obj[name]:
            raise ValueError(f"{where}: {name} must be a non-empty string")
    if obj["kind"] not in KINDS:
        raise ValueError(f"{where}: unknown kind {obj['kind']!r}")
    if not isinstance(obj["flag"], bool):
        raise ValueError(f"{where}: flag must be true or false")
    labels = _str_list(obj["labels"], "labels", LABELS, where)
    evasion = _str_list(obj["evasion"], "evasion", EVASIONS, where)
    if obj["flag"] and not (labels and evasion):
        raise ValueError(f"{where}: a flagged item needs labels and evasion")
    if not obj["flag"] and (labels or evasion):
        raise ValueError(f"{where}: a negative item carries no labels or evasion")
    return EvalItem(
        id=obj["id"],
        kind=obj["kind"],
        text=obj["text"],
        flag=obj["flag"],
        labels=labels,
        evasion=evasion,
        note=obj["note"],
    )


def load_eval_set(path: Path | str | None = None) -> list[EvalItem]:
    """Read the JSON-lines set; blank lines are skipped, a bad line raises ``ValueError``."""
    source = Path(path) if path is not None else default_eval_set_path()
    items: list[EvalItem] = []
    with source.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{source.name}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: {exc}") from exc
            items.append(parse_item(obj, where))
    return items


@dataclass(slots=True)
class Rate:
    """``hit`` out of ``n``; the ratio of an empty rate is 0."""

    n: int = 0
    hit: int = 0

    @property
    def ratio(self) -> float:
        return self.hit / self.n if self.n else 0.0

    def add(self, hit: bool) -> None:
        self.n += 1
        self.hit += int(hit)

    def cell(self) -> str:
        return f"{self.ratio:.3f} ({self.hit}/{self.n})" if self.n else "-"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the engine said about one item."""

    item: EvalItem
    verdict: str
    labels: tuple[str, ...]
    terms: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.verdict == "allow"

    @property
    def labels_ok(self) -> bool:
        return not self.allowed and set(self.item.labels) <= set(self.labels)

    def line(self) -> str:
        it = self.item
        expected = "/".join(it.labels) or "-"
        tags = ",".join(it.evasion) or "-"
        got = "/".join(self.labels) or "-"
        terms = " ".join(self.terms[:4])
        return (
            f"{it.id} {it.kind:<7} want {expected:<16} {tags:<24} "
            f"got {self.verdict}:{got} {terms}  | {it.text}"
        )


@dataclass(slots=True)
class KindRow:
    recall: Rate = field(default_factory=Rate)
    fpr: Rate = field(default_factory=Rate)


@dataclass(slots=True)
class EvalReport:
    """Figures over the set; ``misses`` are flagged items allowed, ``false_positives``
    negatives not allowed, ``label_misses`` flagged items caught without every label."""

    recall: Rate = field(default_factory=Rate)
    fpr: Rate = field(default_factory=Rate)
    label_recall: Rate = field(default_factory=Rate)
    by_label: dict[str, Rate] = field(default_factory=dict)
    by_label_hit: dict[str, Rate] = field(default_factory=dict)
    by_evasion: dict[str, Rate] = field(default_factory=dict)
    by_kind: dict[str, KindRow] = field(default_factory=dict)
    misses: list[Outcome] = field(default_factory=list)
    false_positives: list[Outcome] = field(default_factory=list)
    label_misses: list[Outcome] = field(default_factory=list)

    def format(self, limit: int | None = 60) -> str:
        """A compact plain-text table, then up to ``limit`` wrong items of each sort."""
        out = [
            f"items {self.recall.n + self.fpr.n}: {self.recall.n} flagged, {self.fpr.n} negative",
            f"recall        {self.recall.cell()}",
            f"label recall  {self.label_recall.cell()}",
            f"FPR           {self.fpr.cell()}",
            "",
            f"{'kind':<18}{'recall':<22}{'FPR':<22}",
        ]
        for kind in sorted(self.by_kind):
            row = self.by_kind[kind]
            out.append(f"{kind:<18}{row.recall.cell():<22}{row.fpr.cell():<22}")
        out += ["", f"{'label':<18}{'recall':<22}{'label hit':<22}"]
        for label in sorted(self.by_label):
            out.append(
                f"{label:<18}{self.by_label[label].cell():<22}{self.by_label_hit[label].cell():<22}"
            )
        out += ["", f"{'evasion':<18}{'recall':<22}"]
        for tag in sorted(self.by_evasion, key=lambda t: self.by_evasion[t].ratio):
            out.append(f"{tag:<18}{self.by_evasion[tag].cell():<22}")
        for title, rows in (
            ("misses (flagged, allowed)", self.misses),
            ("false positives (negative, not allowed)", self.false_positives),
            ("label misses (caught, a label missing)", self.label_misses),
        ):
            if not rows:
                continue
            out += ["", f"{title}: {len(rows)}"]
            shown = rows if limit is None else rows[:limit]
            out += [f"  {o.line()}" for o in shown]
            if len(shown) < len(rows):
                out.append(f"  ... {len(rows) - len(shown)} more")
        return "\n".join(out)


def _outcome(item: EvalItem, check_fn: CheckFn) -> Outcome:
    verdict = check_fn(item.kind, item.text)
    return Outcome(
        item=item,
        verdict=verdict.verdict,
        labels=tuple(verdict.labels),
        terms=tuple(f"{m.rule}={m.term}" for m in verdict.matches),
    )


def evaluate(items: Iterable[EvalItem], check_fn: CheckFn) -> EvalReport:
    """Run ``check_fn(kind, text)`` over every item and gather the figures."""
    report = EvalReport()
    for item in items:
        outcome = _outcome(item, check_fn)
        kind_row = report.by_kind.setdefault(item.kind, KindRow())
        if not item.flag:
            report.fpr.add(not outcome.allowed)
            kind_row.fpr.add(not outcome.allowed)
            if not outcome.allowed:
                report.false_positives.append(outcome)
            continue
        caught = not outcome.allowed
        report.recall.add(caught)
        report.label_recall.add(outcome.labels_ok)
        kind_row.recall.add(caught)
        for label in item.labels:
            report.by_label.setdefault(label, Rate()).add(caught)
            report.by_label_hit.setdefault(label, Rate()).add(caught and label in outcome.labels)
        for tag in item.evasion:
            report.by_evasion.setdefault(tag, Rate()).add(caught)
        if not caught:
            report.misses.append(outcome)
        elif not outcome.labels_ok:
            report.label_misses.append(outcome)
    return report


def main() -> None:
    """``python -m livebase.compliance.evaluation``: score the default engine on the set."""
    from livebase.compliance import check

    print(evaluate(load_eval_set(), check).format(limit=None))


if __name__ == "__main__":
    main()
