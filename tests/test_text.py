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


def test_clean_multiline_keeps_paragraphs():
    assert clean_multiline("一  \n\n\n\n二\r\n三 ") == "一\n\n二\n三"


def test_unique_keeps_order():
    assert unique(["b", "a", "", "b", "c", "a"]) == ["b", "a", "c"]
