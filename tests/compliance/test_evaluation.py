"""The compliance evaluation set is well formed, and the engine holds its figures on it."""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from livebase.compliance.evaluation import (
    EVASIONS,
    KINDS,
    LABELS,
    EvalItem,
    evaluate,
    load_eval_set,
)

# DESIGN.md §9 budgets: recall at least 0.95 and a false-positive rate of at most 1% on
# the project's evaluation set. A regression below either fails CI.
MIN_RECALL = 0.95
MAX_FPR = 0.01

# Issue 6 asks for at least 600 labelled lines; a set this size keeps one miss at
# under 0.2 points of recall, so the thresholds above mean something.
MIN_ITEMS = 600
# Hard negatives from everyday live-commerce talk: with 300 or more, the 1% FPR budget
# allows at most three false positives.
MIN_NEGATIVES = 300
# Each evasion type needs enough flagged lines for its own recall to be readable.
MIN_FLAGGED_PER_EVASION = 15


@pytest.fixture(scope="module")
def items() -> list[EvalItem]:
    return load_eval_set()


def test_set_is_large_enough_with_unique_ids(items: list[EvalItem]) -> None:
    assert len(items) >= MIN_ITEMS
    ids = Counter(item.id for item in items)
    assert [i for i, n in ids.items() if n > 1] == []


def test_set_texts_are_unique_per_kind(items: list[EvalItem]) -> None:
    texts = Counter((item.kind, item.text) for item in items)
    assert [t for t, n in texts.items() if n > 1] == []


def test_set_covers_every_kind_and_label(items: list[EvalItem]) -> None:
    assert {item.kind for item in items} == KINDS
    assert {label for item in items for label in item.labels} == LABELS
    for kind in KINDS:
        assert any(i.kind == kind and i.flag for i in items), kind
        assert any(i.kind == kind and not i.flag for i in items), kind


def test_set_has_enough_hard_negatives(items: list[EvalItem]) -> None:
    negatives = [item for item in items if not item.flag]
    assert len(negatives) >= MIN_NEGATIVES
    assert all(not item.labels and not item.evasion for item in negatives)


def test_flagged_items_name_labels_and_evasion(items: list[EvalItem]) -> None:
    flagged = [item for item in items if item.flag]
    assert all(item.labels and item.evasion for item in flagged)
    per_tag = Counter(tag for item in flagged for tag in item.evasion)
    assert {tag: n for tag, n in per_tag.items() if n < MIN_FLAGGED_PER_EVASION} == {}
    assert set(per_tag) == EVASIONS


def test_ad_law_is_only_expected_of_listings_and_scripts(items: list[EvalItem]) -> None:
    # Viewer chat is not advertising (issue 6): 这个颜色最好看 in chat is fine.
    assert [i.id for i in items if "ad_law" in i.labels and i.kind == "chat"] == []


def test_load_rejects_a_malformed_line(tmp_path: Path) -> None:
    good = {
        "id": "x1",
        "kind": "chat",
        "text": "加微信",
        "flag": True,
        "labels": ["contact"],
        "evasion": ["none"],
        "note": "n",
    }
    bad = {**good, "id": "x2", "evasion": ["leetspeak"]}
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"set\.jsonl:2: unknown evasion"):
        load_eval_set(path)
    path.write_text(json.dumps(good) + "\n\n", encoding="utf-8")
    assert [item.id for item in load_eval_set(path)] == ["x1"]


@dataclass
class _FakeMatch:
    rule: str
    label: str
    term: str


@dataclass
class _FakeVerdict:
    verdict: str
    labels: list[str]
    matches: list[_FakeMatch] = field(default_factory=list)


def test_evaluate_counts_misses_false_positives_and_label_misses() -> None:
    def item(id_: str, flag: bool, labels: tuple[str, ...] = ()) -> EvalItem:
        evasion = ("none",) if flag else ()
        return EvalItem(id_, "chat", id_, flag, labels, evasion, "")

    answers = {
        "caught": _FakeVerdict("mask", ["contact"], [_FakeMatch("wechat", "contact", "vx")]),
        "wrong_label": _FakeVerdict("block", ["abuse"]),
        "missed": _FakeVerdict("allow", []),
        "clean": _FakeVerdict("allow", []),
        "flagged_clean": _FakeVerdict("review", ["spam"], [_FakeMatch("job", "spam", "兼职")]),
    }
    items = [
        item("caught", True, ("contact",)),
        item("wrong_label", True, ("contact",)),
        item("missed", True, ("prohibited",)),
        item("clean", False),
        item("flagged_clean", False),
    ]

    report = evaluate(items, lambda kind, text: answers[text])

    assert (report.recall.hit, report.recall.n) == (2, 3)
    assert (report.label_recall.hit, report.label_recall.n) == (1, 3)
    assert (report.fpr.hit, report.fpr.n) == (1, 2)
    assert [o.item.id for o in report.misses] == ["missed"]
    assert [o.item.id for o in report.false_positives] == ["flagged_clean"]
    assert [o.item.id for o in report.label_misses] == ["wrong_label"]
    assert report.by_label_hit["contact"].hit == 1
    assert "job=兼职" in report.format()


def test_engine_meets_recall_and_false_positive_budgets(items: list[EvalItem]) -> None:
    from livebase.compliance import check

    report = evaluate(items, check)

    ok = report.recall.ratio >= MIN_RECALL and report.fpr.ratio <= MAX_FPR
    assert ok, (
        f"recall {report.recall.ratio:.3f} (min {MIN_RECALL}), "
        f"FPR {report.fpr.ratio:.3f} (max {MAX_FPR})\n{report.format(limit=None)}"
    )


# The held-out set was written after the engine's word lists had been tuned on the main
# set, by someone who did not see them, and has never been used to tune them. Its floor
# follows what was measured (0.865 when added; 0.938 after the lists were broadened from
# the law by an engineer who never saw this set): a regression guard, honestly below the
# budget. Never add words to make these lines pass; add new lines to the main set instead
# and keep this one blind.
HOLDOUT = Path(__file__).parent / "eval" / "holdout_set.jsonl"
HOLDOUT_MIN_RECALL = 0.92
HOLDOUT_MAX_FPR = 0.01


def test_engine_holds_its_measured_level_on_the_blind_holdout_set() -> None:
    from livebase.compliance import check

    held = load_eval_set(HOLDOUT)
    assert len(held) >= 150
    report = evaluate(held, check)
    assert report.recall.ratio >= HOLDOUT_MIN_RECALL and report.fpr.ratio <= HOLDOUT_MAX_FPR, (
        report.format(limit=None)
    )
