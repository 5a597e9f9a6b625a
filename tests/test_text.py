from datetime import UTC, datetime

import pytest

from newscrawl.text import clean_multiline, clean_text, to_utc_iso, unique


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022-10-31T14:28:57.672Z", "2022-10-31T14:28:57Z"),
        ("2022-10-31T16:28:57+02:00", "2022-10-31T14:28:57Z"),
        ("Mon, 31 Oct 2022 14:28:57 GMT", "2022-10-31T14:28:57Z"),
        ("Mon, 31 Oct 2022 10:28:57 -0400", "2022-10-31T14:28:57Z"),
        ("2022-10-31T14:28:57", "2022-10-31T14:28:57Z"),  # naive is UTC
        (datetime(2022, 10, 31, 14, 28, 57, tzinfo=UTC), "2022-10-31T14:28:57Z"),
        ("3 小时前", None),
        ("", None),
        (None, None),
    ],
)
def test_to_utc_iso(raw, expected):
    assert to_utc_iso(raw) == expected


def test_clean_text_folds_whitespace_and_controls():
    assert clean_text(" 标题\u00a0\u3000二\x07\n三\u200b ") == "标题 二 三"
    assert clean_text("  \n ") is None
    # NFC: a decomposed é becomes one code point
    assert clean_text("Cafe\u0301") == "Caf\u00e9"


def test_clean_text_returns_clean_text_as_it_is_and_cleans_the_rest_in_full():
    """Text that is already clean comes back as it is (a quick check); any other text gets the
    whole cleaning: one answer for every string of a hostile alphabet."""
    import itertools
    import re
    import unicodedata

    from newscrawl.text import _CONTROL, nfc

    def cleaned(value: str) -> str | None:
        return re.sub(r"\s+", " ", _CONTROL.sub("", nfc(value))).strip() or None

    pool = ["a", " ", "中", "\t", "\n", "\x00", "\x85", "\xa0", "\u200b", "\u200e", "\u2028", "\ufeff",
            "\ud800", "\u3000", "\u2003", "\u0301", "A\u030a", "\ue000", "\U000e0001", "ﬁ"]
    for n in range(4):
        for chars in itertools.product(pool, repeat=n):
            value = "".join(chars)
            assert clean_text(value) == cleaned(value), value
    for code in range(0x30000):
        value = f"a{chr(code)}b"
        assert clean_text(value) == cleaned(value), value
    assert unicodedata.is_normalized("NFC", clean_text("Cafe\u0301"))


def test_clean_multiline_keeps_paragraphs():
    assert clean_multiline("一  \n\n\n\n二\r\n三 ") == "一\n\n二\n三"


def test_unique_keeps_order():
    assert unique(["b", "a", "", "b", "c", "a"]) == ["b", "a", "c"]
