"""The normaliser folds evasions away and always maps back to the original text."""

import random

import pytest

from livebase.compliance import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＶＸ", "vx"),  # full-width
        ("VX", "vx"),  # case
        ("微信號", "微信号"),  # traditional → simplified
        ("價格", "价格"),
        ("微 信", "微信"),  # inserted space
        ("微\u200b信", "微信"),  # zero-width space
        ("微.信", "微信"),
        ("微🌸信", "微信"),  # emoji as filler
        ("微~*~信", "微信"),
        ("一三八", "138"),  # Chinese numerals
        ("壹叁捌", "138"),
        ("幺三八", "138"),
        ("①③⑧", "138"),  # circled digits
        ("⑴⑶⑻", "138"),  # parenthesised digits
        ("⒈⒊⒏", "138"),  # digits with full stop
        ("❶❸❽", "138"),  # dingbat negative circled
        ("➀➂➇", "138"),
        ("𝟏𝟑𝟖", "138"),  # mathematical bold digits
        ("1️⃣3️⃣8️⃣", "138"),  # keycaps
        ("🔟", "10"),
        ("ѕb", "sb"),  # Cyrillic dze
        ("ΝΙΚΕ", "nike"),  # Greek capitals look like Latin
        ("ℚℚ", "q"),  # double-struck, then repeats collapse
        ("𝒬", "q"),  # script capital
        ("🅆🅇", "wx"),  # squared letters
        ("🅦🅧", "wx"),  # negative circled letters
        ("🇼🇽", "wx"),  # regional indicators
        ("wēixìn", "weixin"),  # pinyin with tone marks
    ],
)
def test_stripped_view_folds_each_evasion(raw: str, expected: str) -> None:
    assert normalize.stripped(raw) == expected


def test_plus_and_percent_survive_because_they_carry_meaning() -> None:
    assert normalize.stripped("+V") == "+v"
    assert normalize.stripped("100％纯棉") == "100%纯棉"


def test_repeats_collapse_but_digits_never_do() -> None:
    assert normalize.stripped("加微微微信") == "加微信"
    assert normalize.stripped("ssbb") == "sb"
    assert normalize.stripped("13888888888") == "13888888888"
    assert normalize.stripped("666666") == "666666"


def test_kept_view_keeps_dots_and_spaces_for_urls() -> None:
    assert normalize.kept("ABC。com") == "abc.com"
    assert normalize.kept("ｗｗｗ．ａｂｃ．ｃｏｍ") == "www.abc.com"
    assert normalize.kept("a b") == "a b"


def test_pinyin_view_of_simplified_and_traditional_text() -> None:
    assert normalize.pinyin_of(normalize.stripped("加微信")) == "jiaweixin"
    assert normalize.pinyin_of(normalize.stripped("說")) == "shuo"
    assert normalize.pinyin_of("vx微") == "vxwei"


def test_spans_map_each_view_character_back_to_the_original() -> None:
    text = "加 微-信"
    spans = normalize.stripped_spans(text)
    assert spans.text == "加微信"
    assert spans.original(1, 3) == (2, 5)
    assert text[2:5] == "微-信"


def test_collapsed_repeat_span_covers_the_whole_run() -> None:
    text = "加微微微信"
    spans = normalize.stripped_spans(text)
    assert spans.text == "加微信"
    assert spans.original(1, 2) == (1, 4)


def test_keycap_span_includes_its_combining_marks() -> None:
    text = "1️⃣3️⃣"
    spans = normalize.stripped_spans(text)
    assert spans.text == "13"
    assert spans.original(0, 2) == (0, len(text))


def test_multi_character_expansion_maps_both_characters_to_one_source() -> None:
    spans = normalize.stripped_spans("a⑩b")
    assert spans.text == "a10b"
    assert spans.original(1, 3) == (1, 2)


def test_fast_and_slow_paths_agree_on_random_text() -> None:
    rng = random.Random(6)
    alphabet = (
        "加微信威薇vVＶｘX 1２三⑧❾𝟘-._~*🌸\u200b\ufe0f\u20e3說話號價格ΝΙѕℚ🅆🇼哈哈啊"
        "6６ａＡ　，。！？%％+＋"
    )
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        spans = normalize.stripped_spans(text)
        assert spans.text == normalize.stripped(text), text
        kept = normalize.kept_spans(text)
        assert kept.text == normalize.kept(text), text
        for j in range(len(spans.text)):
            start, end = spans.original(j, j + 1)
            assert 0 <= start < end <= len(text)
