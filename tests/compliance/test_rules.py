"""Rules by kind: what is advertising, what is allowed, what each label does."""

import pytest

import livebase.compliance as compliance
from livebase.compliance import KINDS, LABELS, Checker, Match, Verdict


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(watch_interval=None)


def test_viewer_chat_is_not_advertising(checker: Checker) -> None:
    assert checker.check("chat", "这个颜色最好看").verdict == "allow"
    assert checker.check("chat", "全网最低价吗？").verdict == "allow"
    assert checker.check("chat", "吃了能治疗失眠吗").verdict == "allow"


@pytest.mark.parametrize("kind", ["listing", "script"])
@pytest.mark.parametrize(
    "text",
    ["全网最低价", "史上最划算", "国家级配方", "销量第一", "顶级品质", "100%有效",
     "可以治疗失眠", "根治脚气", "降血压 降血糖", "全网醉低价"],
)  # fmt: skip
def test_absolute_and_medical_claims_are_held_for_review(
    checker: Checker, kind: str, text: str
) -> None:
    verdict = checker.check(kind, text)
    assert (verdict.verdict, verdict.labels) == ("review", ["ad_law"])


@pytest.mark.parametrize(
    "text",
    [
        "100%纯棉四件套",  # composition statement
        "面料是100%桑蚕丝",
        "第一次买的宝宝看过来",  # ordinals
        "第一代经典款",
        "第10次返场",
        "最佳食用时间 开封后三天",  # usage hint
        "最佳赏味期 30 天",
        "本店最便宜的一款",  # comparison within own products
        "我们家最好卖的是这款",
        "国家一级 能效",  # standard grade, not 国家级
    ],
)
def test_allowed_uses_of_absolute_terms_pass_in_listings(checker: Checker, text: str) -> None:
    assert checker.check("listing", text).verdict == "allow"


def test_own_products_scope_does_not_excuse_strict_terms(checker: Checker) -> None:
    assert checker.check("listing", "本店最便宜").verdict == "allow"
    assert checker.check("listing", "本店全网最低价").verdict == "review"


def test_health_food_disclaimer_is_not_a_medical_claim(checker: Checker) -> None:
    text = "保健食品不是药物，不能代替药物治疗疾病"
    assert checker.check("script", text).verdict == "allow"


def test_prohibited_goods_block_in_every_kind(checker: Checker) -> None:
    for kind in KINDS:
        verdict = checker.check(kind, "冰毒 有货")
        assert (verdict.verdict, verdict.labels) == ("block", ["prohibited"])


def test_tobacco_is_prohibited_for_sale_but_chat_may_mention_it(checker: Checker) -> None:
    assert checker.check("listing", "电子烟 烟弹 批发").verdict == "block"
    assert checker.check("chat", "我老公抽香烟").verdict == "allow"


HARD_NEGATIVES = [
    "微信支付可以吗", "支付宝支付", "1号链接多少钱", "价格多少", "上链接", "最近", "最后一件",
    "去死皮", "666", "666666", "最爱这个色", "第一次来", "大麻花好吃吗", "筋膜枪几号链接",
    "加我粉丝团", "象牙白的有吗", "我是云南昭通威信县的", "加我一个，黑色M",
]  # fmt: skip


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_from_everyday_live_commerce_are_allowed(
    checker: Checker, text: str
) -> None:
    assert checker.check("chat", text).verdict == "allow"


def test_chat_masks_contact_and_abuse_but_blocks_severe_abuse(checker: Checker) -> None:
    assert checker.check("chat", "私聊我").verdict == "mask"
    assert checker.check("chat", "主播是sb").verdict == "mask"
    assert checker.check("chat", "操你妈").verdict == "block"


def test_listing_and_script_are_never_masked_only_held(checker: Checker) -> None:
    for kind in ("listing", "script"):
        for text in ("加微信 lily8866 更便宜", "主播是sb"):
            verdict = checker.check(kind, text)
            assert verdict.verdict == "review"
            assert verdict.masked is None


def test_mask_replaces_each_code_point_of_the_original_span() -> None:
    text = "号码𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖哦"  # astral digits: one * per code point, not per UTF-16 unit
    verdict = compliance.check("chat", text)
    assert verdict.verdict == "mask"
    assert verdict.masked == "号码" + "*" * 11 + "哦"
    (match,) = verdict.matches
    assert (match.start, match.end) == (2, 13)


def test_several_labels_are_reported_in_contract_order(checker: Checker) -> None:
    verdict = checker.check("chat", "sb 加vx lily8866")
    assert verdict.labels == ["abuse", "contact"]
    assert verdict.verdict == "mask"
    assert verdict.masked == "** " + "*" * 12


def test_to_dict_is_exactly_the_contract_shape(checker: Checker) -> None:
    data = checker.check("chat", "私聊我").to_dict()
    assert data == {
        "verdict": "mask",
        "labels": ["contact"],
        "masked": "**我",
        "matches": [
            {"rule": "contact:term", "label": "contact", "start": 0, "end": 2, "term": "私聊"}
        ],
    }
    assert checker.check("chat", "好看").to_dict() == {
        "verdict": "allow", "labels": [], "masked": None, "matches": []
    }  # fmt: skip


def test_unknown_kind_is_a_value_error(checker: Checker) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        checker.check("comment", "好看")
    with pytest.raises(ValueError, match="unknown kind"):
        compliance.check("comment", "好看")


def test_public_names_are_exported() -> None:
    assert KINDS == ("chat", "listing", "script")
    assert LABELS == ("abuse", "contact", "ad_law", "prohibited", "spam")
    assert Verdict("allow").to_dict()["matches"] == []
    assert Match("r", "abuse", 0, 1, "t").to_dict()["end"] == 1


def test_spam_content_blocks_chat(checker: Checker) -> None:
    verdict = checker.check("chat", "兼职刷单 日结")
    assert (verdict.verdict, verdict.labels) == ("block", ["spam"])


def test_empty_text_is_allowed(checker: Checker) -> None:
    assert checker.check("chat", "").verdict == "allow"
