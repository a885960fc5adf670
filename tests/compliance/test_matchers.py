"""Contact, abuse and prohibited matchers catch evasions and point at the right span."""

import pytest

from livebase.compliance import Checker


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(watch_interval=None)


def flagged_span(checker: Checker, kind: str, text: str, label: str) -> str:
    """The original text under the first match of ``label`` (fails if there is none)."""
    verdict = checker.check(kind, text)
    spans = [text[m.start : m.end] for m in verdict.matches if m.label == label]
    assert spans, f"{text!r} not flagged as {label}: {verdict}"
    return spans[0]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("晚上打 138 1234 5678", "138 1234 5678"),  # spaced
        ("电话:138-1234-5678", "电话:138-1234-5678"),  # dashed, with its context word
        ("一三八一二三四五六七八 找我", "一三八一二三四五六七八"),  # Chinese numerals
        ("壹叁捌壹贰叁肆伍陆柒捌", "壹叁捌壹贰叁肆伍陆柒捌"),  # financial numerals
        ("13８一二三四5678", "13８一二三四5678"),  # mixed styles
        ("①③⑧①②③④⑤⑥⑦⑧", "①③⑧①②③④⑤⑥⑦⑧"),  # circled
        ("𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖"),  # math bold, astral code points
        ("1️⃣3️⃣8️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣", "1️⃣3️⃣8️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣"),  # keycaps
        ("+86 13812345678", "+86 13812345678"),
        ("买了 l38OOl38OOO", "l38OOl38OOO"),  # letters for digits
    ],
)
def test_phone_number_evasions_are_caught_with_their_span(
    checker: Checker, text: str, span: str
) -> None:
    assert flagged_span(checker, "chat", text, "contact") == span


@pytest.mark.parametrize(
    "text",
    [
        "订单号 13812345678 还没发货",  # order context
        "订单编号 20231128138123456789",  # 20 digits: not phone-shaped
        "666666",
        "1号链接多少钱",
        "价格 13999 元",
        "138123456789 是条码吗",  # 12 digits
        "扣1",
        "扣666",
    ],
)
def test_numbers_that_are_not_contacts_are_allowed(checker: Checker, text: str) -> None:
    assert checker.check("chat", text).verdict == "allow"


@pytest.mark.parametrize(
    "text",
    [
        "ＶＸ：abc_123",
        "vx abc123",
        "威信",
        "w x",
        "加薇",
        "微 信 号 xiaomei0528",
        "微信號 xiaomei0528",  # traditional
        "jia wei xin",  # pinyin
        "加wei信",  # mixed pinyin
        "力口微信",  # split character
        "加微亻言",
        "➕V❤ lily8866",  # emoji
        "🅆🅇 abc123",  # emoji letters
        "ѵх lily8866",  # Cyrillic look-alikes
        "加个卫星",  # homophones
        "QQ 2865473901",
        "扣扣 二八六五四七三九零一",
        "🐧 2865473901",
        "私聊我",
        "禾厶聊",  # split 私
        "bu zou pingtai",
        "关注公众号",
        "拼多多更便宜",
    ],
)
def test_contact_evasions_are_caught(checker: Checker, text: str) -> None:
    verdict = checker.check("chat", text)
    assert "contact" in verdict.labels, verdict


def test_wechat_context_word_needs_an_id_after_it(checker: Checker) -> None:
    assert checker.check("chat", "可以微信支付吗").verdict == "allow"
    assert checker.check("chat", "微信付款可以吗").verdict == "allow"
    assert flagged_span(checker, "chat", "微信 xiaomei0528 聊", "contact") == "微信 xiaomei0528"


def test_one_letter_context_needs_a_separator(checker: Checker) -> None:
    assert checker.check("chat", "V领的那件有黑色吗").verdict == "allow"
    assert checker.check("chat", "vivo x100 能用吗").verdict == "allow"
    assert "contact" in checker.check("chat", "我V：lily8866").labels


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("看 www.haowu.com 更便宜", "www.haowu.com"),
        ("haowu-outlet【.】com 全场五折", "haowu-outlet【.】com"),
        ("ＡＢＣ。ｃｏｍ", "ＡＢＣ。ｃｏｍ"),
        ("点 t.cn/Hb88 领取", "t.cn/Hb88"),
        ("邮箱 lily88@qq.com", "lily88@qq.com"),
    ],
)
def test_links_and_emails_are_caught_in_the_kept_view(
    checker: Checker, text: str, span: str
) -> None:
    assert flagged_span(checker, "chat", text, "contact") == span


@pytest.mark.parametrize(
    "text",
    ["你是sb吧", "傻 逼", "沙比", "煞笔主播", "nmsl", "cnm", "SBSBSB", "亻尔女马死了", "你🐴死了",
     "shabi zhubo", "nt 主播", "傻13主播"],
)  # fmt: skip
def test_abuse_evasions_are_caught(checker: Checker, text: str) -> None:
    assert "abuse" in checker.check("chat", text).labels


def test_short_latin_terms_respect_word_boundaries(checker: Checker) -> None:
    assert checker.check("chat", "usb接口的吗").verdict == "allow"
    assert checker.check("chat", "99元两件 纯棉T恤").verdict == "allow"  # mian-T is not nt
    assert checker.check("chat", "ok粉丝灯牌").verdict == "allow"  # ok粉 is not k粉


@pytest.mark.parametrize(
    "text",
    ["冰毒有货", "兵毒 有货", "❄️毒", "仿真木仓 金属", "贝者博网站", "gaofang LV", "dai kai fapiao"],
)
def test_prohibited_evasions_are_caught(checker: Checker, text: str) -> None:
    assert checker.check("chat", text).verdict == "block"


def test_pinyin_of_plain_chinese_is_not_an_evasion(checker: Checker) -> None:
    # 为新 reads weixin, yet only typed pinyin is an evasion.
    assert checker.check("listing", "专为新生儿设计 ok").verdict == "allow"


def test_repeated_characters_collapse_before_matching(checker: Checker) -> None:
    assert flagged_span(checker, "chat", "加微微微信", "contact") == "加微微微信"
