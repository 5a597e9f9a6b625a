"""Epoch Times bylines and times: the text-level rules, on a table of real-shaped openings."""

from __future__ import annotations

import pytest

from newscrawl.sites.epochtimes import eastern_to_utc, parse_byline

BYLINES = [
    # simplified
    ("【大纪元2022年10月31日讯】（大纪元记者林岑心采访报导）外交部长周一表示", ["林岑心"]),
    ("【大纪元2023年3月7日讯】（大纪元记者王明报导）", ["王明"]),
    ("【大纪元2023年3月7日讯】（大纪元记者王明、李华综合报导）美国国务院", ["王明", "李华"]),
    ("（大纪元记者甲乙、丙丁、戊己报导）", ["甲乙", "丙丁", "戊己"]),
    ("【大纪元2023年3月7日讯】（大纪元记者张三台湾台北报导）", ["张三"]),
    ("（大纪元记者周八纽约报导）", ["周八"]),
    ("（大纪元记者何九香港报导）", ["何九"]),
    ("（大纪元记者赵四编译报导）", ["赵四"]),
    ("（记者钱五报导）", ["钱五"]),
    ("（大纪元特约记者孙六报导）", ["孙六"]),
    ("（英文大纪元记者Frank Lin报导／孙七编译）", ["Frank Lin", "孙七"]),
    ("【大纪元2023年3月7日讯】（大纪元专题部报导）", []),
    ("（大纪元记者站综合报导）", []),
    ("（大纪元综合报导）", []),
    ("【大纪元2023年3月7日讯】据外媒报道，", []),
    ("美国国务卿周一表示", []),
    ("文／王赫", ["王赫"]),
    # traditional
    ("【大紀元2022年10月31日訊】（大紀元記者林岑心採訪報導）", ["林岑心"]),
    ("（大紀元記者陳六臺灣臺北報導）", ["陳六"]),
    ("（大紀元記者吳九、鄭十綜合報導）", ["吳九", "鄭十"]),
    ("（大紀元記者許一編譯報導）", ["許一"]),
    ("（大紀元專題部報導）", []),
]


@pytest.mark.parametrize(("paragraph", "authors"), BYLINES)
def test_byline(paragraph, authors):
    names = parse_byline(paragraph)
    assert names == authors
    for name in names:  # nothing but the name is left
        for junk in ("记者", "記者", "报导", "報導", "大纪元", "大紀元", "台北", "纽约", "编译"):
            assert junk not in name


@pytest.mark.parametrize(
    ("visible", "utc"),
    [
        ("更新: 2022-10-31 12:39 PM", "2022-10-31T16:39:00Z"),  # EDT, UTC-4
        ("更新: 2022-12-01 12:39 PM", "2022-12-01T17:39:00Z"),  # EST, UTC-5
        ("更新: 2023-03-12 01:30 AM", "2023-03-12T06:30:00Z"),  # before the spring switch (EST)
        ("更新: 2023-03-12 03:30 AM", "2023-03-12T07:30:00Z"),  # after it (EDT)
        ("更新: 2023-11-05 12:30 AM", "2023-11-05T04:30:00Z"),  # before the autumn switch (EDT)
        ("更新: 2023-11-05 02:30 AM", "2023-11-05T07:30:00Z"),  # after it (EST)
        ("更新: 2019-11-03 9:41 PM", "2019-11-04T02:41:00Z"),
        ("2015-06-02 09:05:07", "2015-06-02T13:05:07Z"),  # 24-hour clock with seconds
        ("3 小时前", None),
    ],
)
def test_visible_time_is_us_eastern(visible, utc):
    assert eastern_to_utc(visible) == utc
