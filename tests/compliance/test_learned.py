"""The learned stage: weights format, exact scoring, and how its findings join a verdict."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from livebase.compliance import Checker, learned


@pytest.fixture(scope="module")
def tiny() -> learned.Model:
    """A hand-made model: 坏蛋 and 骗子 push abuse up, 主播 pulls it down."""
    abuse = learned.LabelModel("abuse", -1.0, 0.6, {"坏蛋": 20.0, "骗子": 20.0, "主播": -15.0})
    spam = learned.LabelModel("spam", -5.0, 0.9, {"兼职": 10.0})
    return learned.Model([abuse, spam])


@pytest.fixture(scope="module")
def rules_only() -> Checker:
    return Checker(watch_interval=None, model=None)


@pytest.fixture(scope="module")
def tiny_checker(tiny: learned.Model) -> Checker:
    return Checker(watch_interval=None, model=tiny)


def test_shipped_weights_are_small_and_complete() -> None:
    assert learned.WEIGHTS_PATH.stat().st_size <= 1_000_000
    model = learned.shipped()
    assert model is not None
    assert [m.label for m in model.labels] == list(learned.MODEL_LABELS)
    for m in model.labels:
        assert 0.5 <= m.threshold < 1.0
        assert m.weights


def test_dump_and_load_keep_the_float16_weights(tiny: learned.Model) -> None:
    again = learned.load(learned.dump(tiny.labels, {"note": "x"}))
    assert again.meta["note"] == "x"
    for a, b in zip(tiny.labels, again.labels, strict=True):
        assert (a.label, a.bias, a.threshold) == (b.label, b.bias, b.threshold)
        assert set(a.weights) == set(b.weights)
        for key, w in a.weights.items():
            assert b.weights[key] == pytest.approx(w, rel=1e-3)


def test_serving_scores_equal_the_training_features() -> None:
    """The automaton pass must give the same sum as counting every n-gram occurrence the
    way the training script does (repeats, overlaps and nested n-grams included)."""
    model = learned.shipped()
    assert model is not None
    for text in ["你们这些人真是让人恶心，滚回去吧", "宝宝们 3号链接 已拍 两件 两件", "ABAB ABAB"]:
        view = learned.view_of(text)
        z, _ = model.logits(view)
        norm = math.sqrt(learned.positions(len(view)))
        for m, got in zip(model.labels, z, strict=True):
            want = m.bias + sum(m.weights.get(g, 0.0) for g in learned.ngrams(view)) / norm
            assert got == pytest.approx(want, abs=1e-9)


def test_positions_counts_every_ngram_position() -> None:
    for n in range(0, 30):
        assert learned.positions(n) == len(learned.ngrams("x" * n))


def test_a_model_hit_alone_asks_for_review_over_the_whole_line(tiny_checker: Checker) -> None:
    text = "你这个人真是个大坏蛋啊我说"
    v = tiny_checker.check("chat", text)
    assert v.verdict == "review"
    assert v.labels == ["abuse"]
    assert v.masked is None
    [m] = v.matches
    assert (m.rule, m.label, m.start, m.end, m.term) == (
        "model:abuse",
        "abuse",
        0,
        len(text),
        "坏蛋",
    )


def test_the_model_never_blocks_and_leaves_rule_verdicts_alone(tiny_checker: Checker) -> None:
    # Below the threshold: allowed; 主播 (twice) pulls the score down.
    assert tiny_checker.check("chat", "谢谢主播，主播辛苦了，坏蛋").verdict == "allow"
    # Short lines are the rules' job: never scored.
    assert tiny_checker.check("chat", "大坏蛋").verdict == "allow"
    # A rule's block stays a block, with the rule's matches only.
    blocked = tiny_checker.check("chat", "出售仿真枪 坏蛋坏蛋坏蛋坏蛋")
    assert blocked.verdict == "block"
    assert not any(m.rule.startswith("model:") for m in blocked.matches)


def test_a_rule_mask_with_a_model_label_becomes_review(tiny_checker: Checker) -> None:
    v = tiny_checker.check("chat", "加微信 lily8866 你这个大坏蛋骗子")
    assert v.verdict == "review"
    assert {"contact", "abuse"} <= set(v.labels)
    assert {m.rule for m in v.matches if m.label == "abuse"} == {"model:abuse"}


def test_no_model_means_rules_only(rules_only: Checker) -> None:
    assert rules_only.check("chat", "你这个人真是个大坏蛋啊我说").verdict == "allow"


def test_shipped_model_ranks_an_insult_above_everyday_talk() -> None:
    model = learned.shipped()
    assert model is not None
    insult = model.scores("你这种人就是垃圾，恶心死了，滚出去别丢人现眼")["abuse"]
    everyday = model.scores("宝宝们这款连衣裙有黑色和杏色，身高一米六穿M码")["abuse"]
    assert insult > 0.5 > everyday


def test_serving_imports_neither_numpy_nor_sklearn() -> None:
    code = (
        "import sys\n"
        "from livebase.compliance import check\n"
        "check('chat', '你这种人就是垃圾，恶心死了，滚出去别丢人现眼')\n"
        "bad = [m for m in ('numpy', 'sklearn', 'scipy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- evasions (wordlists/evasions.tsv and the emoji words of normalize.py) -----------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("进裙领福利", "spam"),  # 裙 for 群
        ("招刷手 佣金秒返", "spam"),
        ("兼值日结 月入3w", "spam"),  # homophone, letters for digits
        ("jian zhi ri jie", "spam"),  # pinyin
        ("🧧群每天发", "spam"),  # emoji for 红包
        ("撸口子 秒下款", "spam"),
        ("飞🍃", "prohibited"),
        ("收银行💳 高价", "prohibited"),
        ("出售📱卡", "prohibited"),
        ("菠菜担保 首充彩金", "prohibited"),
        ("卡农收卡", "prohibited"),
        ("dubo 平台", "prohibited"),
        ("电子yan 批发", "prohibited"),
    ],
)
def test_evasions_are_caught_by_the_rules(rules_only: Checker, text: str, label: str) -> None:
    v = rules_only.check("chat", text)
    assert not v.allowed
    assert label in v.labels


@pytest.mark.parametrize(
    "text",
    ["床上四件套", "这个手机卡槽", "冬天❄️必备羽绒服", "🍃清新绿茶", "彩金项链是18k的吗",
     "走水路发货吗", "跑分软件测手机", "对版型很满意", "奶茶有冰吗", "简直太好看了"],
)  # fmt: skip
def test_everyday_words_near_the_evasions_pass(rules_only: Checker, text: str) -> None:
    assert rules_only.check("chat", text).allowed
