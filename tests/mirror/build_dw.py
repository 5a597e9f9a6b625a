# ruff: noqa: E501
"""Generate the offline Deutsche Welle (Chinese) demo mirror from ``dw_content``.

    python -m tests.mirror.build_dw [--out DIR] [--extra-articles N [--topic-size K]]

Writes ``pages/*.html``, ``rss-chi-all.xml``, ``robots-www.txt``, ``robots-rss.txt``,
``manifest.json`` (real URL -> route, read by ``tests.mirror.server``) and
``expected.json`` (what a correct parser must extract from each page) into DIR (default:
``tests/mirror/dw/``). The output is deterministic: the same input gives byte-identical
files. ``build(out, extra_articles=N)`` adds N synthetic current-template articles (ids from
70000000) listed on the topic page https://www.dw.com/zh/基准测试/t-69999999;
``build(out, extra_articles=N, real_size=True)`` makes them of a real article's size
(``dw_real_size``: 10-15 paragraphs, a real head and state blob);
``build(out, extra_articles=N, topic_size=K)`` lists them K to a topic page instead, on
:func:`bench_topic_urls` (t-69999999, t-69999998, …): DW shows only the first page of a topic,
a few dozen teasers, so a crawl that finds thousands of new articles reads many topics.

The pages imitate the structure of real DW pages (server-rendered React with generated
``sc-*`` class names, JSON-LD, ``window.__APOLLO_STATE__``); all text is invented.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from tests.mirror import dw_content as C
from tests.mirror import dw_real_size

DEFAULT_OUT = Path(__file__).resolve().parent / "dw"
WWW = "https://www.dw.com"
STATIC = "https://static.dw.com/image"
MACA = "maca=chi-rss-chi-all-1127-rdf"
FEED_URL = "https://rss.dw.com/xml/rss-chi-all"
HTML_TYPE = "text/html; charset=utf-8"
CSS_TYPE = "text/css; charset=utf-8"
STYLESHEET_HREF = re.compile(r'<link rel="stylesheet"[^>]* href="(/[^"]+)"')
#: the mirror's own stylesheet (DW's real one is not copied): enough to make a replayed
#: article readable, its inline SVG icons small and the headline at the top
STYLESHEET = """/* newscrawl test mirror: a stylesheet of its own for every DW page */
body { margin: 0 auto; max-width: 46rem; padding: 1rem; font: 18px/1.7 "Noto Sans CJK SC", sans-serif; }
svg { width: 1.5rem; height: 1.5rem; }
header, nav, footer, aside { font-size: 0.9rem; }
h1 { font-size: 2rem; line-height: 1.3; }
img { max-width: 100%; height: auto; }
"""
BENCH_TOPIC = {"id": 69999999, "name": "基准测试", "teaser": "用于性能测试的合成文章列表。"}
BENCH_FIRST_ID = 70000000
GTM_ID = "GTM-W4XJ8QD"
APP_VERSION = "3.3.0"

# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def enc(path: str) -> str:
    """Percent-encode a URL path the way DW's canonical links do (UTF-8, upper-case hex)."""
    return quote(path, safe="/-._~!$&'()*+,;=:@")


def parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def iso_ms(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def to_seconds(value: str) -> str:
    """'2023-11-14T09:12:40.517Z' -> '2023-11-14T09:12:40Z' (truncated, never rounded)."""
    return value[:19] + "Z"


def _last_sunday(year: int, month: int) -> datetime:
    day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def berlin(dt: datetime) -> datetime:
    """UTC -> Berlin wall-clock time (CET/CEST), which DW uses for the visible dates."""
    start, end = _last_sunday(dt.year, 3), _last_sunday(dt.year, 10)
    return dt + timedelta(hours=2 if start <= dt < end else 1)


def dmy(value: str) -> str:
    d = berlin(parse_iso(value))
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def cn_date(value: str) -> str:
    d = berlin(parse_iso(value))
    return f"{d.year}年{d.month}月{d.day}日"


def rfc822(dt: datetime) -> str:
    return format_datetime(dt, usegmt=True)


def strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _tok(seed: str, n: int = 6) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % 52] for b in digest[:n])


def _num(seed: str, digits: int) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return str(int(digest, 16))[:digits]


# --------------------------------------------------------------------------------------
# language-dependent labels
# --------------------------------------------------------------------------------------

LABELS = {
    "zh": {
        "html_lang": "zh",
        "apollo_lang": "CHINESE",
        "locale": "zh_CN",
        "site": "德国之声中文网",
        "dw": "德国之声",
        "credit": "图像来源:",
        "ad": "广告",
        "more": "更多内容：",
        "related_topics": "相关主题",
        "skip_related": "跳过下一部分 相关主题",
        "more_on_topic": "更多相关内容",
        "skip_content": "跳至内容",
        "skip_nav": "跳至主导航",
        "skip_footer": "跳至德国之声其他服务",
        "logo_title": "德国之声首页 — Made for minds",
        "nav_open": "打开主导航",
        "latest_videos": "最新视频",
        "live_tv": "直播",
        "live_title": "打开电视直播 — DW English 频道",
        "focus": "焦点",
        "next": "显示更多焦点内容",
        "prev": "显示上一页",
        "share": "外部链接 — 通过{svc}分享此页面",
        "share_more": "显示更多分享选项",
        "feedback": "请给我们反馈！",
        "your_feedback": "您的反馈",
        "close_form": "关闭表格",
        "gallery": "图集",
        "gallery_open": "打开图集",
        "images": "张图片",
        "follow": "关注我们",
        "error": "很抱歉，此内容目前无法显示。请稍后再试。",
        "home": "返回首页",
        "home_path": "/zh/在线报导/s-9058",
        "section_names": ["地区", "主题", "栏目"],
        "sections": [
            [
                ("德国", 68199210),
                ("欧洲", 68199211),
                ("亚洲", 68199212),
                ("美洲", 68199213),
                ("非洲", 68199214),
            ],
            [
                ("政治", 68199220),
                ("经济", 68199221),
                ("科技", 68199222),
                ("文化", 68199223),
                ("环境", 68199224),
            ],
            [("评论", 68199230), ("图集", 68199231), ("视频", 68199232)],
        ],
        "focus_topics": ["全球视野", "欧盟", "气候变化"],
        "footer": [
            (
                "关于德国之声",
                [
                    ("德国之声简介", "https://corporate.dw.com/zh/profile/s-68199240"),
                    ("新闻中心", "https://corporate.dw.com/zh/press/s-68199241"),
                ],
            ),
            (
                "德国之声的其他服务",
                [
                    ("学德语", "https://learngerman.dw.com/zh/overview"),
                    ("德国之声学院", "https://akademie.dw.com/zh/start/s-68199242"),
                ],
            ),
            (
                "服务",
                [
                    ("电子通讯", "https://corporate.dw.com/zh/newsletter/s-68199243"),
                    ("联系我们", "https://corporate.dw.com/zh/contact/s-68199244"),
                    ("主题索引", "/zh/主题索引/index-zh/a"),
                    ("新闻提要", "/zh/新闻提要/headlines-zh"),
                ],
            ),
            (
                "企业合作",
                [
                    ("商务与销售", "https://corporate.dw.com/zh/business-sales/s-68199245"),
                    ("广告业务", "https://dwwerbung.com/"),
                ],
            ),
        ],
        "legal": [
            ("隐私声明", "/zh/隐私声明/s-68199251"),
            ("法律声明", "/zh/法律声明/s-68199252"),
            ("无障碍声明", "/zh/无障碍声明/s-68199253"),
            ("隐私设置", "/zh/隐私设置/privacy-settings-zh"),
        ],
        "copyright": C.C_ZH,
    },
    "zh-hant": {
        "html_lang": "zh-hant",
        "apollo_lang": "CHINESE_TRADITIONAL",
        "locale": "zh_TW",
        "site": "德國之聲中文網",
        "dw": "德國之聲",
        "credit": "圖片來源:",
        "ad": "廣告",
        "more": "更多內容：",
        "related_topics": "相關主題",
        "skip_related": "跳過下一部分 相關主題",
        "more_on_topic": "更多相關內容",
        "skip_content": "跳至內容",
        "skip_nav": "跳至主導航",
        "skip_footer": "跳至德國之聲其他服務",
        "logo_title": "德國之聲首頁 — Made for minds",
        "nav_open": "打開主導航",
        "latest_videos": "最新視頻",
        "live_tv": "直播",
        "live_title": "打開電視直播 — DW English 頻道",
        "focus": "焦點",
        "next": "顯示更多焦點內容",
        "prev": "顯示上一頁",
        "share": "外部鏈接 — 通過{svc}分享此頁面",
        "share_more": "顯示更多分享選項",
        "feedback": "請給我們反饋！",
        "your_feedback": "您的反饋",
        "close_form": "關閉表格",
        "gallery": "圖集",
        "gallery_open": "打開圖集",
        "images": "張圖片",
        "follow": "關注我們",
        "error": "很抱歉，此內容目前無法顯示。請稍後再試。",
        "home": "返回首頁",
        "home_path": "/zh-hant/在線報導/s-68199300",
        "section_names": ["地區", "主題", "欄目"],
        "sections": [
            [
                ("德國", 68199310),
                ("歐洲", 68199311),
                ("亞洲", 68199312),
                ("美洲", 68199313),
                ("非洲", 68199314),
            ],
            [
                ("政治", 68199320),
                ("經濟", 68199321),
                ("科技", 68199322),
                ("文化", 68199323),
                ("環境", 68199324),
            ],
            [("評論", 68199330), ("圖集", 68199331), ("視頻", 68199332)],
        ],
        "focus_topics": ["歐盟", "德國", "歐洲"],
        "footer": [
            (
                "關於德國之聲",
                [
                    ("德國之聲簡介", "https://corporate.dw.com/zh/profile/s-68199240"),
                    ("新聞中心", "https://corporate.dw.com/zh/press/s-68199241"),
                ],
            ),
            (
                "德國之聲的其他服務",
                [
                    ("學德語", "https://learngerman.dw.com/zh/overview"),
                    ("德國之聲學院", "https://akademie.dw.com/zh/start/s-68199242"),
                ],
            ),
            (
                "服務",
                [
                    ("電子通訊", "https://corporate.dw.com/zh/newsletter/s-68199243"),
                    ("聯繫我們", "https://corporate.dw.com/zh/contact/s-68199244"),
                    ("主題索引", "/zh-hant/主題索引/index-zh-hant/a"),
                    ("新聞提要", "/zh-hant/新聞提要/headlines-zh-hant"),
                ],
            ),
            (
                "企業合作",
                [
                    ("商務與銷售", "https://corporate.dw.com/zh/business-sales/s-68199245"),
                    ("廣告業務", "https://dwwerbung.com/"),
                ],
            ),
        ],
        "legal": [
            ("隱私聲明", "/zh-hant/隱私聲明/s-68199351"),
            ("法律聲明", "/zh-hant/法律聲明/s-68199352"),
            ("無障礙聲明", "/zh-hant/無障礙聲明/s-68199353"),
            ("隱私設置", "/zh-hant/隱私設置/privacy-settings-zh-hant"),
        ],
        "copyright": C.C_HANT,
    },
}

SHARE_SERVICES = [
    (
        "facebook",
        "Facebook",
        "#3B5998",
        "https://www.facebook.com/sharer/sharer.php?u={p}%3Fmaca%3Dchi-Facebook-sharing",
    ),
    (
        "x-twitter",
        "X / Twitter",
        "#1DA1F2",
        "https://twitter.com/intent/tweet?source=webclient&text={t}+{p}%3Fmaca%3Dchi-Twitter-sharing",
    ),
    ("whatsapp", "Whatsapp", "#25D366", "whatsapp://send?text={t}%20-%20{p}%3Fmaca%3Dchi-Whatsapp-sharing"),
    ("email", "EMail", "#0096FA", "mailto:?body={p}%3Fmaca%3Dchi-EMail-sharing&subject={t}"),
    (
        "facebook-messenger",
        "Facebook messenger",
        "#0084FF",
        "fb-messenger://share/?link={p}%3Fmaca%3Dchi-Facebook%20messenger-sharing",
    ),
    (
        "telegram",
        "Telegram",
        "#08C",
        "https://telegram.me/share/url?url={p}%3Fmaca%3Dchi-Telegram-sharing&text={t}",
    ),
    (
        "linkedin",
        "linkedin",
        "#0077B5",
        "https://www.linkedin.com/shareArticle?mini=true&url={p}%3Fmaca%3Dchi-linkedin-sharing&title={t}&source=DW.COM",
    ),
]

SVG_ARROW = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20" class="{c}"><g fill="none" fill-rule="evenodd" stroke="#002D5A" stroke-width="2"><path d="M4 9L4 16 11 16" transform="rotate(45 7.5 12.5)"></path><path stroke-linecap="square" d="M3.5 12.5L17.5 12.5M17.5 12.5L17.5 5.5M17.5 5L12 5"></path></g></svg>'
SVG_LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 44 25" class="{c}"><g fill="#fff"><ellipse cx="12.5" cy="12.5" rx="11" ry="11" fill="none" stroke="#fff" stroke-width="2.6"></ellipse><ellipse cx="31.5" cy="12.5" rx="11" ry="11" fill="none" stroke="#fff" stroke-width="2.6"></ellipse><path d="M8 8h4.6c3 0 5 1.8 5 4.5S15.6 17 12.6 17H8zM24 8h3l1.5 4.6L30.3 8h2.5l1.7 4.6L36 8h3l-3.1 9h-2.8l-1.7-4.5-1.8 4.5h-2.8z"></path></g></svg>'
SVG_MENU = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 30" class="{c}"><path d="M4 8h22M4 15h22M4 22h22" stroke="#fff" stroke-width="2"></path></svg>'
SVG_VIDEO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20" class="{c}"><path d="M4 3l13 7-13 7z" fill="currentColor"></path></svg>'
SVG_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" class="{c}"><circle cx="20" cy="20" r="9" fill="none" stroke="currentColor" stroke-width="2"></circle></svg>'
SVG_FEEDBACK = '<svg viewBox="0 0 20 20" xmlns="http://www.w3.org/2000/svg" class="{c}"><g fill-rule="evenodd"><path d="M4.25 5.25v12.5h14.5V5.25zm1.5 1.5h11.5v9.5H5.75z"></path><path d="M1.25 2.25V13.5h1.5V3.75H15.5v-1.5z"></path></g></svg>'
SVG_CLOSE = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 30" class="{c}"><path d="M6.2 24l18-18m0 18l-18-18" stroke="black" stroke-width="1.5" fill="none"></path></svg>'
SVG_SPINNER = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" shape-rendering="geometricPrecision" class="{c}"><circle class="first-circle" transform="translate(32 32)" fill="none" stroke="white" stroke-width="10" r="27"></circle></svg>'

CSS_POOL = [
    "margin:0;",
    "padding:0;",
    "display:flex;",
    "flex-direction:column;",
    "position:relative;",
    "color:#002D5A;",
    "color:#FFF;",
    "background-color:#FFF;",
    "background-color:#000821;",
    "font-size:1.6rem;",
    "font-size:2.2rem;",
    "line-height:1.4;",
    "line-height:1.1;",
    "--font-wght:400;font-weight:400;",
    "--font-wght:600;font-weight:600;",
    "width:100%;",
    "max-width:940px;",
    "margin-bottom:1em;",
    "overflow:hidden;",
    "text-decoration:none;",
    "letter-spacing:normal;",
    "align-items:center;",
    "justify-content:space-between;",
    "border-bottom:1px solid #E0DFDE;",
    "padding:15px var(--content-area-inline-spacing);",
]


class Styler:
    """Deterministic stand-in for styled-components: class names plus the matching CSS."""

    TEXT: ClassVar[dict[str, list[str]]] = {
        "xl": ["Typo", "TypoHeadline", "TypoXL", "TypoXLWeight"],
        "m": ["Typo", "TypoBody", "TypoBodyM", "TypoBodyWeight"],
        "s": ["Typo", "TypoSmall", "TypoSmallS", "TypoSmallDense", "TypoSmallWeight"],
        "btn": ["Typo", "TypoButton", "TypoButtonWeight"],
    }

    def __init__(self, build: str):
        self.build = build
        self.rules: dict[str, tuple[str, str]] = {}

    def pair(self, name: str) -> tuple[str, str]:
        sc = "sc-" + _tok(f"{self.build}/sc/{name}", 6)
        h = _tok(f"{self.build}/h/{name}", 6)
        if sc not in self.rules:
            digest = hashlib.sha256(f"{self.build}/css/{name}".encode()).digest()
            props = "".join(CSS_POOL[b % len(CSS_POOL)] for b in digest[:3])
            self.rules[sc] = (h, props)
        return sc, h

    def __call__(self, name: str, *plain: str, text: str | None = None, italic: bool = True) -> str:
        scs, hashes = [], []
        for layer in self.TEXT.get(text or "", []):
            sc, h = self.pair(layer)
            scs.append(sc)
            hashes.append(h)
        sc, h = self.pair(name)
        parts = [*scs, *hashes, sc, h, *plain]
        if italic and text:
            parts.append("has-italic")
        return " ".join(parts)

    def style_tag(self) -> str:
        out = [
            "html .flying-focus-target{outline:none!important;}/*!sc*/",
            'data-styled.g1[id="sc-global-'
            + _tok(self.build + "g1", 6)
            + '1"]{content:"sc-global-'
            + _tok(self.build + "g1", 6)
            + '1,"}/*!sc*/',
            "#root{background-color:#000821;}/*!sc*/",
            "html{font-size:10px;}/*!sc*/",
            "@font-face{font-display:swap;font-family:Noto Sans SC;font-style:normal;font-weight:300 700;src:local('Noto Sans SC'),url(/static/NotoSansSC-VAR-"
            + _tok(self.build + "font", 8).lower()
            + ".woff2) format('woff2');}/*!sc*/",
        ]
        for n, (sc, (h, props)) in enumerate(self.rules.items(), start=2):
            out.append(f".{h}{{{props}}}/*!sc*/")
            out.append(f'data-styled.g{n}[id="{sc}"]{{content:"{h},"}}/*!sc*/')
        out += [
            ".rich-text .embed{width:100%;max-width:100vw;margin-bottom:1em;clear:both;}/*!sc*/",
            ".rich-text .vjs-wrapper{display:flex;flex-direction:column-reverse;background:#000;}/*!sc*/",
            ".rich-text .vjs-wrapper .headline{--font-wght:600;font-weight:600;line-height:1.1;color:#FFF;margin:0;padding:15px;}/*!sc*/",
            ".rich-text figure.placeholder-image{margin:0 0 2em;}/*!sc*/",
            ".rich-text .img-caption .copyright{display:block;opacity:.8;}/*!sc*/",
            ".rich-text-ad:empty{display:block;min-height:250px;}/*!sc*/",
        ]
        return '<style data-styled="true" data-styled-version="6.0.7">' + "\n".join(out) + "\n</style>"


# --------------------------------------------------------------------------------------
# the registry of everything that has a URL
# --------------------------------------------------------------------------------------


class Site:
    def __init__(self, extra_articles: int = 0, real_size: bool = False):
        self.real_size = real_size
        self.articles: dict[int, dict] = {}
        for art in C.ARTICLES:
            self.articles[art["id"]] = art
        for art in C.OLD_ARTICLES:
            self.articles[art["id"]] = art
        self.galleries = C.GALLERIES
        self.broken = C.BROKEN_LINKS
        self.extra: list[dict] = [self._synthetic(i) for i in range(extra_articles)]
        for art in self.extra:
            self.articles[art["id"]] = art

    # -- synthetic benchmark articles ------------------------------------------------
    def _synthetic(self, i: int) -> dict:
        pool = [a for a in C.ARTICLES if a["lang"] == "zh" and a["kind"] == "apollo"]
        base = pool[i % len(pool)]
        donor = pool[(i * 7 + 3) % len(pool)]
        headline = C.BENCH_HEADLINES[i % len(C.BENCH_HEADLINES)]
        n = i + 1
        aid = BENCH_FIRST_ID + i
        first = parse_iso("2024-02-10T06:00:00.000Z") + timedelta(
            minutes=37 * i, seconds=i % 60, milliseconds=(i * 113) % 1000
        )
        modified = first + timedelta(minutes=5 + i % 90, seconds=(i * 7) % 60, milliseconds=(i * 251) % 1000)
        body = []
        body.append(
            (
                "p",
                f"（德国之声中文网）这是基准测试合成文章第{n}篇：{headline}。"
                + strip_tags(_expand_plain(base["body"][0][1])).removeprefix("（德国之声中文网）"),
            )
        )
        rest = [b for b in base["body"][1:] if b[0] in ("p", "h2", "img", "ad")]
        extra_ps = [b for b in donor["body"][1:] if b[0] == "p"]
        for block in rest:
            if block[0] == "img":
                img = dict(block[1])
                img["id"] = 71000000 + i
                body.append(("img", img))
            else:
                body.append(block)
        if extra_ps:
            body.append(("h2", f"延伸阅读之{n}"))
            body.append(extra_ps[i % len(extra_ps)])
        people = [
            [],
            [{"name": "周文", "link": True}],
            [{"name": "李明远", "link": False}, {"name": "王若溪", "link": True}],
        ][i % 3]
        lead = dict(base["lead"] or pool[0]["lead"])
        lead["id"] = 72000000 + i
        if self.real_size:  # a real article's size: 10-15 paragraphs (tests/mirror/dw_real_size.py)
            image = next((dict(b[1], id=71000000 + i) for b in base["body"] if b[0] == "img"), None)
            body = dw_real_size.real_size_body(i, image)
        return {
            "id": aid,
            "lang": "zh",
            "kind": "apollo",
            "bench": True,
            "slug": f"{headline}-{n}",
            "title": f"{headline}（{n}）",
            "teaser": f"基准测试合成文章第{n}篇。" + (dw_real_size.sentence(f"{i}/lead") if self.real_size
                                                 else base["teaser"]),
            "category": base["category"],
            "region": base["region"],
            "authors": people,
            "first": iso_ms(first),
            "last_pub": iso_ms(first),
            "modified": iso_ms(modified),
            "permalink": "7"
            + "".join(
                "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ2"[(i // 50**k) % 50]
                for k in range(3, -1, -1)
            ),
            "lead": lead,
            "topics": [t for t in base["topics"] if t != "全球视野"] + ["基准测试"],
            "related": [68200101, 68200102, 68200103],
            "body": body,
            "real_size": self.real_size,
        }

    # -- URLs ------------------------------------------------------------------------
    def path_of(self, cid: int) -> str:
        if cid in self.articles:
            a = self.articles[cid]
            return f"/{a['lang']}/{a['slug']}/a-{cid}"
        if cid in self.galleries:
            g = self.galleries[cid]
            return f"/{g['lang']}/{g['slug']}/g-{cid}"
        if cid in self.broken:
            b = self.broken[cid]
            return f"/{b['lang']}/{b['slug']}/a-{cid}"
        raise KeyError(cid)

    def url_of(self, cid: int) -> str:
        return WWW + self.path_of(cid)

    def title_of(self, cid: int) -> str:
        for table in (self.articles, self.galleries, self.broken):
            if cid in table:
                return table[cid]["title"]
        raise KeyError(cid)

    def teaser_of(self, cid: int) -> str:
        for table in (self.articles, self.galleries, self.broken):
            if cid in table:
                return table[cid]["teaser"]
        raise KeyError(cid)


def bench_topics(extra_articles: int, topic_size: int | None = None) -> list[dict]:
    """The topic pages that list the synthetic articles: one, or one per ``topic_size``."""
    size = topic_size or max(extra_articles, 1)
    count = max(1, -(-extra_articles // size))
    return [BENCH_TOPIC if k == 0 else {"id": BENCH_TOPIC["id"] - k, "name": f"{BENCH_TOPIC['name']}{k + 1}",
                                         "teaser": BENCH_TOPIC["teaser"]}
            for k in range(count)]


def bench_topic_urls(extra_articles: int, topic_size: int | None = None) -> list[str]:
    """The URLs of the topic pages :func:`build` lists the synthetic articles on."""
    return [f"{WWW}/zh/{t['name']}/t-{t['id']}" for t in bench_topics(extra_articles, topic_size)]


def topic_path(lang: str, name: str) -> str:
    tid = BENCH_TOPIC["id"] if name == BENCH_TOPIC["name"] else C.TOPICS[name]
    return f"/{lang}/{name.strip()}/t-{tid}"


def topic_id(name: str) -> int:
    return BENCH_TOPIC["id"] if name == BENCH_TOPIC["name"] else C.TOPICS[name]


def person_path(lang: str, name: str) -> str:
    return f"/{lang}/{name}/person-{C.PERSONS[name]}"


def _expand_plain(fragment: str) -> str:
    """Expand the link shorthands to their text only (for synthetic text)."""
    fragment = re.sub(r"\{a:(\d+)\|([^}]*)\}", r"\2", fragment)
    fragment = re.sub(r"\{t:([^}|]*)\|([^}]*)\}", r"\2", fragment)
    return re.sub(r"\{t:([^}|]*)\}", r"\1", fragment)


# --------------------------------------------------------------------------------------
# body rendering
# --------------------------------------------------------------------------------------


class Body:
    """Renders an article's body blocks into the rich-text HTML and records what is in it."""

    def __init__(self, site: Site, art: dict):
        self.site = site
        self.art = art
        self.lang = art["lang"]
        self.lab = LABELS[self.lang]
        self.links: list[int] = []  # articles linked from the body
        self.topic_links: list[str] = []
        self.images: list[dict] = []
        self.videos: list[dict] = []
        self.headings: list[str] = []
        self.paragraphs: list[str] = []  # clean text of the real body paragraphs
        self.boiler: list[str] = []  # boilerplate strings present in the body HTML
        self.html = self._render()

    def expand(self, fragment: str) -> str:
        def art_link(m: re.Match) -> str:
            cid = int(m.group(1))
            text = m.group(2)[1:] if m.group(2) else self.site.title_of(cid)
            self.links.append(cid)
            return f'<a class="internal-link" href="{attr(self.site.path_of(cid))}">{esc(text)}</a>'

        def topic_link(m: re.Match) -> str:
            name = m.group(1)
            text = m.group(2)[1:] if m.group(2) else name.strip()
            self.topic_links.append(name)
            return f'<a class="internal-link" href="{attr(topic_path(self.lang, name))}">{esc(text)}</a>'

        fragment = re.sub(r"\{a:(\d+)(\|[^}]*)?\}", art_link, fragment)
        return re.sub(r"\{t:([^}|]*)(\|[^}]*)?\}", topic_link, fragment)

    def _render(self) -> str:
        out: list[str] = []
        ads = 0
        for block in self.art["body"]:
            kind = block[0]
            if kind == "p":
                frag = self.expand(block[1])
                self.paragraphs.append(strip_tags(frag))
                out.append(f"<p>{frag}</p>")
            elif kind == "h2":
                self.headings.append(block[1])
                self.paragraphs.append(block[1])
                out.append(f"<h2>{esc(block[1])}</h2>")
            elif kind == "img":
                img = block[1]
                self.images.append(img)
                out.append(
                    '<figure class="placeholder-image master_landscape big">'
                    f'<img data-format="MASTER_LANDSCAPE" data-id="{img["id"]}" '
                    f'data-url="{STATIC}/{img["id"]}_${{formatId}}.jpg" data-aspect-ratio="16/9" '
                    f'alt="{attr(img["alt"])}" style="padding-bottom: 56.25%; height: 0; max-height: 0;">'
                    f'<figcaption class="img-caption">{esc(img["caption"])}'
                    f'<small class="copyright">{self.lab["credit"]} {esc(img["credit"])}</small>'
                    "</figcaption></figure>"
                )
            elif kind == "ad":
                ads += 1
                span = f'<span data-slot-id="Article_InContent-{ads}" class="rich-text-ad"></span>'
                if out:
                    out[-1] += span
                else:
                    out.append(span)
            elif kind == "more":
                cid = block[1]
                self.links.append(cid)
                self.boiler += [self.lab["more"]]
                out.append(
                    f"<p><strong>{self.lab['more']}</strong>"
                    f'<a href="{attr(self.site.path_of(cid))}">{esc(self.site.title_of(cid))}</a></p>'
                )
            elif kind == "video":
                v = block[1]
                self.videos.append(v)
                self.boiler.append(v["title"])
                out.append(
                    f'<div class="vjs-wrapper big embed" data-media-id="{v["id"]}">'
                    f'<video id="vjs-{v["id"]}" class="video-js vjs-fluid" preload="none" controls '
                    f'poster="{STATIC}/{v["poster"]}_6.jpg" data-duration="{v["duration"]}" '
                    f'aria-label="{attr(v["title"])}">'
                    f'<source src="https://hlsvod.dw.com/dwtv_video/vod/{v["id"]}/master.m3u8" type="application/x-mpegURL"/>'
                    f'<source src="https://tvdownload.dw.com/dwtv_video/flv/vod/{v["id"]}_sd.mp4" type="video/mp4"/>'
                    "</video>"
                    f'<div class="headline">{SVG_VIDEO.format(c="video-icon")}{esc(v["title"])}</div>'
                    "</div>"
                )
            elif kind == "agency":
                self.boiler.append(block[1])
                out.append(f"<p>{esc(block[1])}</p>")
            else:
                raise ValueError(kind)
        year = parse_iso(self.art["first"]).year
        copyright_line = self.lab["copyright"].format(year=year)
        self.copyright_start = copyright_line.split("：")[0]
        self.boiler.append(self.copyright_start)
        out.append(f"<p><em>{esc(copyright_line)}</em></p>")
        return "\n\n".join(out)


# --------------------------------------------------------------------------------------
# page chrome (head, navigation, footer)
# --------------------------------------------------------------------------------------


def fb_pages(seed: str) -> str:
    ids = [_num(f"fbpage{seed}{n}", 12 + n % 4) for n in range(18)]
    return "".join(f'<meta data-rh="true" property="fb:pages" content="{i}"/>' for i in ids)


def head(
    st: Styler,
    lang: str,
    *,
    title: str,
    page_title: str | None,
    url_path: str | None,
    description: str | None,
    image: dict | None,
    jsonld: dict | None,
    datalayer: dict,
    extra_meta: str = "",
    amp: bool = True,
) -> str:
    lab = LABELS[lang]
    parts = [
        "<!doctype html>",
        f'<html lang="{lab["html_lang"]}">',
        "  <!--\n      !IMPORTANT!: Before changing the file structure here, please check how SSR code depends on it\n    -->",
        "<head>",
        '  <meta charset="utf-8">',
        '  <meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no">',
        '  <meta name="theme-color" content="#000000">',
        "",
        '  <link rel="icon" type="image/png" href="/images/icons/favicon-16x16.png" sizes="16x16">',
        '  <link rel="icon" type="image/png" href="/images/icons/favicon-32x32.png" sizes="32x32">',
        '  <link rel="icon" type="image/png" href="/images/icons/favicon-96x96.png" sizes="96x96">',
        "",
        '  <link rel="apple-touch-icon" href="/images/icons/favicon-120x120.png" sizes="120x120">',
        '  <link rel="apple-touch-icon" href="/images/icons/favicon-180x180.png" sizes="180x180">',
        "",
        '  <link rel="preconnect" href="https://commons.dw.com">',
        '  <link rel="dns-prefetch" href="https://commons.dw.com">',
        "",
        f'  <title data-rh="true">{esc(title)}</title>',
        f'  <script type="module" defer="true" crossorigin src="/static/index-{_tok(st.build + "js", 8).lower()}.js"></script>',
        f'  <link rel="stylesheet" href="/static/index-{_tok(st.build + "css", 8).lower()}.css">',
    ]
    meta = [
        f'<link data-rh="true" rel="preload" href="/static/NotoSansSC-VAR-{_tok(st.build + "font", 8).lower()}.woff2" as="font" type="font/woff2" crossOrigin="true"/>'
    ]
    if url_path:
        meta.append(f'<link data-rh="true" rel="canonical" href="{attr(WWW + enc(url_path))}"/>')
    meta += [
        '<link data-rh="true" rel="preconnect" href="https://static.dw.com"/>',
        '<link data-rh="true" rel="dns-prefetch" href="https://static.dw.com"/>',
        f'<link data-rh="true" rel="manifest" href="/{lang}/manifest.json"/>',
    ]
    if url_path and amp:
        meta.append(
            f'<link data-rh="true" rel="amphtml" href="{attr("https://amp.dw.com" + enc(url_path))}"/>'
        )
    if description is not None:
        meta.append(f'<meta data-rh="true" name="description" content="{attr(description)}"/>')
    meta.append(
        '<meta data-rh="true" name="robots" content="max-snippet:-1, max-video-preview:-1, max-image-preview:large"/>'
    )
    meta.append('<meta data-rh="true" property="og:site_name" content="dw.com"/>')
    if page_title is not None:
        meta.append(f'<meta data-rh="true" property="og:title" content="{attr(title)}"/>')
    if url_path:
        meta.append(f'<meta data-rh="true" property="og:url" content="{attr(WWW + enc(url_path))}"/>')
    if description is not None:
        meta.append(f'<meta data-rh="true" property="og:description" content="{attr(description)}"/>')
    meta.append('<meta data-rh="true" name="twitter:card" content="summary_large_image"/>')
    if page_title is not None:
        meta.append(f'<meta data-rh="true" name="twitter:title" content="{attr(page_title)}"/>')
    if description is not None:
        meta.append(f'<meta data-rh="true" name="twitter:description" content="{attr(description)}"/>')
    meta.append('<meta data-rh="true" name="twitter:site" content="@dw_chinese"/>')
    meta.append('<meta data-rh="true" property="fb:admins" content="100000944106340"/>')
    meta.append(fb_pages(lang))
    if image:
        meta += [
            '<meta data-rh="true" property="og:image:type" content="image/jpeg"/>',
            f'<meta data-rh="true" property="og:image" content="{STATIC}/{image["id"]}_6.jpg"/>',
            f'<meta data-rh="true" name="twitter:image" content="{STATIC}/{image["id"]}_6.jpg"/>',
            '<meta data-rh="true" property="og:image:width" content="940"/>',
            '<meta data-rh="true" property="og:image:height" content="529"/>',
            f'<meta data-rh="true" property="og:image:alt" content="{attr(image["alt"])}"/>',
        ]
    meta.append(extra_meta)
    meta.append(
        '<script data-rh="true" >if(!window.dataLayer) {\n      window.dataLayer = ['
        + json.dumps(
            {"pageData": datalayer, "event": "initDataLayer", "webAppVersion": st.build},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "]\n    };</script>"
    )
    meta.append(
        "<script data-rh=\"true\" >(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],\n"
        "j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=\n"
        "'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);\n"
        f"}})(window,document,'script','dataLayer','{GTM_ID}');</script>"
    )
    if jsonld is not None:
        meta.append(
            '<script data-rh="true" type="application/ld+json">'
            + json.dumps(jsonld, ensure_ascii=False, separators=(",", ":"))
            + "</script>"
        )
    parts.append("".join(meta) + "@@STYLE@@</head>")
    return "\n".join(parts)


def datalayer_for(
    lang: str, cid: int, title: str, category: str, date: str | None, url: str, ctype: int = 1
) -> dict:
    return {
        "categoryLevel1": "THEMEN",
        "categoryLevel2": "Welt",
        "categoryLevel3": category,
        "contentTitle": title,
        "contentLanguage": 28 if lang == "zh" else 140,
        "pageOID": cid,
        "contentType": ctype,
        "date": int(date.replace("-", "")[:8]) if date else None,
        "regions": [],
        "subjects": [],
        "pageSID": "9058",
        "departmentName": "Chinese",
        "categoryType": 1,
        "displayForm": 5,
        "level1ID": "615873",
        "environment": "WEBAPP_LIVE",
        "macaParam": "chi-rss-chi-all-1127-rdf",
        "pageUrl": url,
        "profileTopicContent": False,
        "embeddings": {},
    }


def body_open(st: Styler, lang: str, datalayer: dict) -> str:
    lab = LABELS[lang]
    skip = st("SkipLink")
    span = st("SkipLabel", text="xl")
    arrow = SVG_ARROW.format(c=st("SkipArrow"))
    gtm_q = "&amp;".join(
        f"pageData[{k}]={attr(str(v))}" for k, v in datalayer.items() if v not in (None, [], {}, False)
    )
    out = [
        "<body>",
        "  <noscript>\n    You need to enable JavaScript to run this app.\n  </noscript>",
        f'  <div id="root"><div class="{st("AppRoot")}"><noscript><iframe title="{GTM_ID}" src="https://www.googletagmanager.com/ns.html?id={GTM_ID}&amp;{gtm_q}" height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>'
        f'<ol class="{st("FocusMenu", "focus-menu-shown")}">'
        f'<li><a href="#main-content" class="{skip}"><span class="{span}">{lab["skip_content"]}</span>{arrow}</a></li>'
        f'<li><a href="#navigation" class="{skip}"><span class="{span}">{lab["skip_nav"]}</span>{arrow}</a></li>'
        f'<li><a href="#footer" class="{skip}"><span class="{span}">{lab["skip_footer"]}</span>{arrow}</a></li></ol>',
    ]
    nav = [
        f'<div class="{st("HeaderWrap")}"><div style="width:calc(100% - 0px)" class="{st("Header", "focus-menu-shown")}">'
    ]
    nav.append(
        f'<a href="{attr(lab["home_path"])}" class="{st("Link")} {st("LogoLink", "logo")}" title="{attr(lab["logo_title"])}">{SVG_LOGO.format(c=st("Logo", "white logo-icon"))}</a><div class="dynamic-part"></div>'
    )
    nav.append(
        f'<nav class="{st("Nav")}"><div class="{st("NavBtn", "nav-btn", text="btn")}" role="button" tabindex="0" id="navigation" title="{attr(lab["nav_open"])}" aria-expanded="false">{SVG_MENU.format(c=st("MenuIcon"))}</div>'
    )
    nav.append(
        '<div class="nav-position" style="transform:translateY(-100%)"><div class="nav-height focus-menu-inline" role="button" tabindex="-1"><div class="nav-background"><div class="nav-elements"><div class="">'
    )
    nav.append(
        f'<div class="{st("NavCol")}"><div class="{st("NavMedia")}"><ul class="{st("NavList", "media-list")}"><li class="{st("NavItem", text="btn")}"><a href="/{lang}/{lab["latest_videos"]}/s-68199260" class="{st("Link")} {st("NavLink")}" aria-label="{attr(lab["latest_videos"])}">{SVG_VIDEO.format(c=st("VideoIcon"))}<span class="{st("NavLabel", "label", text="btn")}">{lab["latest_videos"]}</span></a></li></ul></div></div>'
    )
    nav.append(f'<div class="{st("NavCol")}">')
    for gname, entries in zip(lab["section_names"], lab["sections"], strict=True):
        nav.append(
            f'<div class="{st("NavGroup", "nav-group")}" role="group" aria-labelledby="{attr(gname)}"><h2 class="{st("GroupHeadline", "group-headline", text="s")}" id="{attr(gname)}">{gname}</h2><ul class="{st("NavList", "group-list")}">'
        )
        for pos, (name, sid) in enumerate(entries, start=1):
            nav.append(
                f'<li class="{st("NavItem", text="btn")}"><a href="/{lang}/{name}/s-{sid}" class="{st("Link")} {st("NavLink")}" role="menuitem" aria-setsize="{len(entries)}" aria-posinset="{pos}">{name}</a></li>'
            )
        nav.append("</ul></div>")
    nav.append(
        f'</div></div></div></div></div></div><div class="{st("Backdrop", "backdrop", text="btn")}" role="button" tabindex="-1" aria-hidden="true"></div></nav>'
    )
    nav.append(
        f'<a href="/{lang}/live-tv/channel-english" class="{st("LiveBtn", "live-tv-btn", text="btn")}" title="{attr(lab["live_title"])}" role="link" tabindex="0" data-tracking-name="go-to-live-tv"><span class="{st("PulseDot", "pulse-dot")}"></span><span class="label">{lab["live_tv"]}</span></a>'
    )
    nav.append(
        f'<div class="menu-wrapper {st("MenuWrap", "focus-menu")}"><div class="{st("FocusBar")}"><div class="{st("FocusLabel", text="s")}">{lab["focus"]}</div>'
    )
    for name in lab["focus_topics"]:
        nav.append(
            f'<div class="{st("FocusItem", text="btn")}"><a href="{attr(topic_path(lang, name))}" class="{st("Link")} {st("NavLink")}">{name.strip()}</a></div>'
        )
    nav.append(
        f'</div></div><div class="{st("ArrowWrap", "arrow-wrapper")}"><div class="{st("Arrow", "prev disabled", text="btn")}" role="button" tabindex="-1" title="{attr(lab["prev"])}"></div><div class="{st("Arrow", "next disabled", text="btn")}" role="button" tabindex="-1" title="{attr(lab["next"])}"></div></div></div>'
    )
    out.append("".join(nav))
    out.append(
        f'<div class="{st("Container", "container-fluid")}"><div class="{st("Anchor")}" id="main-content"></div>'
    )
    return "\n".join(out)


def site_footer(st: Styler, lang: str, year: int) -> str:
    lab = LABELS[lang]
    out = [
        f'<footer class="{st("SiteFooter")}" id="footer"><section class="{st("FooterMain")}" data-tracking-name="footer-section-main"><div class="row">'
    ]
    for n, (headline, links) in enumerate(lab["footer"]):
        hid = f"footer-section-{n}"
        out.append(
            f'<div class="{st("FooterCol", "col-6 col-lg-3")}" role="group" aria-labelledby="{hid}"><h2 class="{st("FooterHeadline", text="s")}" id="{hid}">{headline}</h2><ul class="section-list">'
        )
        for text, href in links:
            ext = href.startswith("http")
            extra = f' target="_blank" title="{attr("External link — " + text)}"' if ext else ""
            out.append(
                f'<li class="{st("FooterItem")}"><a href="{attr(href)}"{extra} class="{st("Link")} footer-link"><span class="{st("FooterLabel", text="btn")}">{text}</span></a></li>'
            )
        out.append("</ul></div>")
    out.append("</div></section>")
    out.append(
        f'<section class="{st("FooterSocial")}" data-tracking-name="footer-section-social-media"><div role="group" aria-labelledby="footer-section-social-media"><h2 class="{st("FooterHeadline", text="s")}" id="footer-section-social-media">{lab["follow"]}</h2><ul class="section-list">'
    )
    for svc, href in (
        ("facebook", "https://www.facebook.com/dw.chinese"),
        ("youtube", "https://www.youtube.com/dwchinese"),
        ("x-twitter", "https://twitter.com/dw_chinese"),
        ("instagram", "https://www.instagram.com/dw_chinese"),
    ):
        out.append(
            f'<a href="{href}" target="_blank" rel="noopener noreferrer nofollow" title="External link — {svc}" class="{st("SocialIcon", svc, text="btn")}" role="link" tabindex="0">{SVG_ICON.format(c=st("SocialSvg"))}</a>'
        )
    out.append("</ul></div></section>")
    out.append(
        f'<section class="{st("FooterStandard")}" data-tracking-name="footer-section-standard-links"><span class="{st("FooterCopy", text="s")}">© <!-- -->{year}<!-- --> {lab["dw"]}</span>'
    )
    for text, href in lab["legal"]:
        out.append(
            f'<span class="{st("FooterLegal", text="btn")}"><a href="{attr(href)}" class="{st("Link")}">{text}</a></span>'
        )
    out.append("</section></footer></div></div>")
    out.append(
        f'<div id="flying-focus" class="{st("FlyingFocus")}" style="width:0px;height:0px;border-radius:0px;z-index:1"></div>'
    )
    return "".join(out)


def page_end(apollo: dict | None) -> str:
    out = ""
    if apollo is not None:
        out += "<script> window.__APOLLO_STATE__=" + apollo_json(apollo) + "; </script>"
    return out + "</div>\n  \n</body>\n\n</html>\n"


def apollo_json(state: dict) -> str:
    return json.dumps(state, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


# --------------------------------------------------------------------------------------
# Apollo state pieces
# --------------------------------------------------------------------------------------

I18N = {
    "zh": {
        "content_block": {
            "general": {"show_more": "显示更多"},
            "top_story": {"headline": "焦点新闻"},
            "related_topics": {"headline": "相关主题"},
            "more_on_topic": {"headline": "更多相关内容"},
        },
        "component": {
            "feedback": {"button": "请给我们反馈！"},
            "advertisement": {"label": "广告"},
            "image_gallery": {"label": "图集"},
        },
        "content_detail": {"image_credit": "图像来源:", "more_content": "更多内容："},
    },
    "zh-hant": {
        "content_block": {
            "general": {"show_more": "顯示更多"},
            "top_story": {"headline": "焦點新聞"},
            "related_topics": {"headline": "相關主題"},
            "more_on_topic": {"headline": "更多相關內容"},
        },
        "component": {
            "feedback": {"button": "請給我們反饋！"},
            "advertisement": {"label": "廣告"},
            "image_gallery": {"label": "圖集"},
        },
        "content_detail": {"image_credit": "圖片來源:", "more_content": "更多內容："},
    },
}


def root_query(lang: str, content_key: str | None, content_ref: str | None) -> dict:
    lab = LABELS[lang]
    root = {
        "__typename": "Query",
        f'i18nByLang({{"lang":"{lab["apollo_lang"]}"}})': {
            "__typename": "Translations",
            "all": json.dumps(I18N[lang], ensure_ascii=False, separators=(",", ":")),
        },
        "config": {
            "__typename": "FrontendConfig",
            "domainName": WWW,
            "staticBaseHost": "https://static.dw.com",
            "gtmId": GTM_ID.removeprefix("GTM-"),
            'gtmLevel1Id({"appName":"road"})': "615873",
            f'gtmEnvironment({{"appName":"road","lang":"{lab["apollo_lang"]}"}})': "WEBAPP_LIVE",
            f'adsEnabled({{"lang":"{lab["apollo_lang"]}"}})': True,
            "showProgramsOverview": True,
        },
    }
    if content_key is not None:
        root[f'content({{"id":{content_key},"lang":"{lab["apollo_lang"]}"}})'] = (
            {"__ref": content_ref} if content_ref else None
        )
    return root


def nav_entries(lang: str) -> dict:
    out = {}
    for entries in LABELS[lang]["sections"]:
        for name, sid in entries:
            out[f"Navigation:{sid}"] = {
                "__typename": "Navigation",
                "id": sid,
                "name": name,
                "namedUrl": f"/{lang}/{name}/s-{sid}",
            }
    return out


def image_entry(
    img_id: int, *, name: str | None, credit: str | None, date: str | None, full: bool = True
) -> dict:
    entry = {"__typename": "Image", "id": img_id, "staticUrl": f"{STATIC}/{img_id}_${{formatId}}.jpg"}
    if not full:
        return entry
    if credit is not None:
        entry["licenserSupplement"] = credit
    entry["imageType"] = "STANDARD"
    entry["name"] = name
    entry['persons({"amount":1})'] = []
    entry["opinionSeries"] = []
    if date:
        entry["contentDate"] = date
        entry["localizedContentDate"] = dmy(date)
    entry["title"] = name
    entry["mainContentImageLink"] = None
    return entry


def image_link_entry(img: dict, in_text: bool) -> dict:
    return {
        "__typename": "ContentLink",
        "targetId": img["id"],
        "target": {"__ref": f"Image:{img['id']}"},
        "additionalInformation": img["alt"],
        "description": img["caption"],
        "isInText": in_text,
        "targetType": "IMAGE",
        "name": "",
    }


def person_entry(lang: str, name: str) -> dict:
    return {
        "__typename": "Person",
        "namedUrl": person_path(lang, name),
        "fullName": name,
        "id": C.PERSONS[name],
        "twitterHandle": None,
        "shortProfile": None,
        "autoDelivery": 0,
        "mainContentImageLink": None,
    }


def teaser_article_entry(site: Site, cid: int, page_id: int, lang: str) -> dict:
    """A related-story teaser as DW embeds it: its own title, teaser and dates."""
    a = site.articles.get(cid)
    if a is None:  # a gallery
        g = site.galleries[cid]
        return {
            "__typename": "ImageGallery",
            "id": cid,
            "namedUrl": site.path_of(cid),
            "name": g["title"],
            "teaser": g["teaser"],
            "contentDate": g["last_pub"],
            "localizedContentDate": dmy(g["last_pub"]),
            "title": g["title"],
            "mainContentImageLink": {"__ref": f'ContentLink:{{"targetId":{g["images"][0]["id"]}}}'},
        }
    date = a.get("last_pub") or a.get("first")
    first_person = a.get("authors", [])[:1]
    entry = {
        "__typename": "Article",
        "id": cid,
        "namedUrl": site.path_of(cid),
        "name": a["title"],
        "teaser": a["teaser"],
        "isOpinion": bool(a.get("opinion")),
        'persons({"amount":1})': [
            {
                "__typename": "Person",
                "personType": "AUTHOR",
                "namedUrl": person_path(a["lang"], p["name"]),
                "fullName": p["name"],
                "autoDelivery": 0,
                "mainContentImageLink": None,
            }
            for p in first_person
        ],
        "genre": "OPINION" if a.get("opinion") else "NONE",
        "opinionSeries": [],
        "contentDate": date,
        "localizedContentDate": dmy(date) if date else None,
        "localizedContentDateSr": cn_date(date) if date else None,
        f'roadTeaserKicker({{"lang":"{LABELS[lang]["apollo_lang"]}","pageId":{page_id}}})': a.get("category"),
        "priority": "NEUTRAL",
        "isLiveVideo": False,
        "title": a["title"],
        "mainContentImageLink": {"__ref": f'ContentLink:{{"targetId":{a["lead"]["id"]}}}'}
        if a.get("lead") and a.get("kind") != "old"
        else None,
        "shortTeaser": a["teaser"][:40],
    }
    return entry


def put_teaser(state: dict, site: Site, key: str, entry: dict) -> None:
    """Add a teaser entry, preceded by the small Image/ContentLink entries its picture needs."""
    link = entry.get("mainContentImageLink")
    if link and link["__ref"] not in state:
        img_id = int(link["__ref"].split(":")[-1].rstrip("}"))
        alt = ""
        src = site.articles.get(entry["id"]) or {}
        if src.get("lead"):
            alt = src["lead"]["alt"]
        elif entry["id"] in site.galleries:
            alt = site.galleries[entry["id"]]["images"][0]["alt"]
        state.setdefault(
            f"Image:{img_id}",
            {"__typename": "Image", "id": img_id, "staticUrl": f"{STATIC}/{img_id}_${{formatId}}.jpg"},
        )
        state[link["__ref"]] = {
            "__typename": "ContentLink",
            "targetId": img_id,
            "additionalInformation": alt,
            "target": {"__ref": f"Image:{img_id}"},
        }
    state[key] = entry


def social_entries(title: str, permalink: str) -> dict:
    out = {}
    t = quote(title, safe="")
    p = f"https://p.dw.com/p/{permalink}"
    for _key, name, _color, tpl in SHARE_SERVICES:
        url = tpl.format(t=t, p=p)
        out[f'SocialMediaEntry:{{"url":"{url}"}}'] = {
            "__typename": "SocialMediaEntry",
            "id": name,
            "name": name,
            "url": url,
        }
    return out


def gallery_entry(site: Site, gid: int, mode: str, lang: str) -> tuple[dict, dict]:
    """(ImageGallery entry, Image entries) — mode 'full' or 'partial' (names only)."""
    g = site.galleries[gid]
    images = {}
    ext = []
    for im in g["images"]:
        item = {"__typename": "GalleryImage", "name": im["name"]}
        if mode == "full":
            item["description"] = im["description"]
            item["altText"] = im["alt"]
        item["assignedImage"] = {"__ref": f"Image:{im['id']}"}
        ext.append(item)
        if mode == "full":
            images[f"Image:{im['id']}"] = image_entry(
                im["id"], name=im["alt"], credit=im["credit"], date=g["first"]
            )
        else:
            images[f"Image:{im['id']}"] = image_entry(im["id"], name=None, credit=None, date=None, full=False)
    first = g["images"][0]
    images[f'ContentLink:{{"targetId":{first["id"]}}}'] = {
        "__typename": "ContentLink",
        "targetId": first["id"],
        "additionalInformation": first["alt"],
        "target": {"__ref": f"Image:{first['id']}"},
    }
    entry = {
        "__typename": "ImageGallery",
        "id": gid,
        "name": g["title"],
        "title": g["title"],
        "namedUrl": site.path_of(gid),
        "teaser": g["teaser"],
        "contentDate": g["last_pub"],
        "localizedContentDate": dmy(g["last_pub"]),
        "mainContentImageLink": {"__ref": f'ContentLink:{{"targetId":{g["images"][0]["id"]}}}'},
        "extendedGalleryImages": ext,
    }
    return entry, images


def article_apollo(site: Site, art: dict, body: Body) -> dict:
    lang = art["lang"]
    lab = LABELS[lang]
    aid = art["id"]
    state: dict = {"ROOT_QUERY": root_query(lang, str(aid), f"Article:{aid}")}
    lead = art.get("lead")
    if lead:
        state[f"Image:{lead['id']}"] = image_entry(
            lead["id"], name=lead["alt"], credit=lead["credit"], date=art["first"]
        )
        state[f'ContentLink:{{"targetId":{lead["id"]}}}'] = image_link_entry(lead, in_text=False)
    for p in art["authors"]:
        state[f"Person:{C.PERSONS[p['name']]}"] = person_entry(lang, p["name"])
    state.update(nav_entries(lang))
    content_links: list[str] = []
    # topics linked from the text and the related topics
    topic_names = list(dict.fromkeys(body.topic_links + art["topics"] + [art["region"]]))
    for name in topic_names:
        tid = topic_id(name)
        key = f'ContentLink:{{"targetId":{tid}}}'
        state[key] = {
            "__typename": "ContentLink",
            "targetId": tid,
            "name": name,
            "target": {
                "__typename": "AutoTopic",
                "namedUrl": topic_path(lang, name),
                "__ref": f"AutoTopic:{tid}",
            },
            "isInText": name in body.topic_links,
            "targetType": "AUTO_TOPIC",
            "description": None,
        }
        content_links.append(key)
    for p in art["authors"]:
        pid = C.PERSONS[p["name"]]
        state[f'ContentAssociation:{{"targetId":{pid}}}'] = {
            "__typename": "ContentAssociation",
            "targetId": pid,
            "additionalInformation": p.get("role"),
        }
    state.update(social_entries(art["title"], art["permalink"]))
    for name in topic_names:
        tid = topic_id(name)
        state[f"AutoTopic:{tid}"] = {
            "__typename": "AutoTopic",
            "id": tid,
            "namedUrl": topic_path(lang, name),
            "name": name,
        }
    if lead:
        content_links.insert(1 if content_links else 0, f'ContentLink:{{"targetId":{lead["id"]}}}')
    for img in body.images:
        state[f"Image:{img['id']}"] = image_entry(
            img["id"], name=img["alt"], credit=img["credit"], date=art["first"]
        )
        key = f'ContentLink:{{"targetId":{img["id"]}}}'
        state[key] = image_link_entry(img, in_text=True)
        content_links.append(key)
    # related-story teasers: deliberately placed BEFORE the page's own Article entry
    related = [r for r in art["related"] if r != aid]
    for rid in related:
        put_teaser(
            state,
            site,
            f"Article:{rid}" if rid in site.articles else f"ImageGallery:{rid}",
            teaser_article_entry(site, rid, aid, lang),
        )
    for cid in dict.fromkeys(body.links):
        key = f'ContentLink:{{"targetId":{cid}}}'
        state[key] = {
            "__typename": "ContentLink",
            "targetId": cid,
            "isInText": True,
            "targetType": "ARTICLE",
            "name": site.title_of(cid),
            "description": site.teaser_of(cid),
            "target": {"__ref": f"Article:{cid}"},
        }
        content_links.append(key)
    galleries = []
    if art.get("gallery"):
        gentry, gimages = gallery_entry(site, art["gallery"], art["gallery_mode"], lang)
        state.update(gimages)
        state[f"ImageGallery:{art['gallery']}"] = gentry
        galleries.append({"__ref": f"ImageGallery:{art['gallery']}"})
    videos = []
    for v in body.videos:
        state[f"Video:{v['id']}"] = {
            "__typename": "Video",
            "id": v["id"],
            "name": v["title"],
            "title": v["title"],
            "duration": v["duration"],
            "posterImageUrl": f"{STATIC}/{v['poster']}_6.jpg",
            "hlsVideoSrc": f"https://hlsvod.dw.com/dwtv_video/vod/{v['id']}/master.m3u8",
            "namedUrl": f"/{lang}/{v['title'].split('：')[-1]}/video-{v['id']}",
        }
        videos.append({"__ref": f"Video:{v['id']}"})
    canonical = site.url_of(aid)
    first_person = art["authors"][:1]
    own = {
        "__typename": "Article",
        "id": aid,
        "namedUrl": site.path_of(aid),
        "classicUrl": canonical,
        "subdomain": "NEWS",
        "subdomainUrl": WWW,
        "isRtl": False,
        "isEuropeanLang": False,
        "isAsianOrAfricanLang": True,
        "isChineseLang": True,
        "language": lab["apollo_lang"],
        "isLive": True,
        "canonicalUrl": canonical,
        "ampUrl": "https://amp.dw.com" + site.path_of(aid),
        "title": art["title"],
        "podcast": None,
        "twitterAccount": "dw_chinese",
        "sharingDescription": art["teaser"],
        "localizedContentDate": dmy(art["last_pub"]),
        "mainContentImageLink": {"__ref": f'ContentLink:{{"targetId":{lead["id"]}}}'} if lead else None,
        "persons": [{"__ref": f"Person:{C.PERSONS[p['name']]}"} for p in art["authors"]],
        "firstPublicationDate": art["first"],
        "lastPublicationDate": art["last_pub"],
        "lastModifiedDate": art["modified"],
        "topStoriesNavigation": {
            "__typename": "Navigation",
            "namedUrl": lab["home_path"],
            "regionsChildren": [{"__ref": f"Navigation:{sid}"} for _n, sid in lab["sections"][0]],
        },
        "hasMinTextLength": True,
        "isLiveVideo": False,
        "teaser": art["teaser"],
        "priority": "NEUTRAL",
        "contentDate": art["last_pub"],
        "localizedContentDateSr": cn_date(art["last_pub"]),
        "localizedFirstPublicationDate": dmy(art["first"]),
        "localizedFirstPublicationDateSr": cn_date(art["first"]),
        "contentDateMode": "LAST_PUBLICATION_DATE",
        'contentAssociations({"targetTypes":"PERSON"})': [
            {"__ref": f'ContentAssociation:{{"targetId":{C.PERSONS[p["name"]]}}}'} for p in art["authors"]
        ],
        "legacyAuthor": "",
        "thematicFocusCategory": {
            "__typename": "Category",
            "name": art["category"],
            "correspondingContent": None,
        },
        'regions({"amount":1})': [
            {
                "__typename": "GeographicRegion",
                "alignedName": art["region"].strip(),
                "correspondingContent": {
                    "__typename": "AutoTopic",
                    "namedUrl": topic_path(lang, art["region"]),
                },
            }
        ],
        "kicker": "",
        "isOpinion": bool(art.get("opinion")),
        'persons({"amount":1})': [
            {
                "__typename": "Person",
                "personType": "AUTHOR",
                "namedUrl": person_path(lang, p["name"]),
                "fullName": p["name"],
                "autoDelivery": 0,
                "mainContentImageLink": None,
            }
            for p in first_person
        ],
        "genre": "OPINION" if art.get("opinion") else "NONE",
        "opinionSeries": [],
        "text": body.html,
        "contentLinks": [{"__ref": k} for k in content_links],
        "videos": videos,
        "audios": [],
        "imageGalleries": galleries,
        "widgets": [],
        "contactType": "DEPARTMENT",
        'navigations({"amount":1})': [{"__typename": "Navigation", "feedbackEmail": "chinese@dw.com"}],
        "feedbackTypes": ["BUTTON"],
        "permaLinkUrl": f"https://p.dw.com/p/{art['permalink']}",
        "socialMediaConfig": [{"__ref": k} for k in social_entries(art["title"], art["permalink"])],
        "livestreams": [],
        "externalLinks": [],
        "relatedAutoTopics": [{"__ref": f"AutoTopic:{topic_id(n)}"} for n in art["topics"]],
        'unifiedPrograms({"amount":1})': [],
        "dossierContents": [{"__ref": f"Article:{r}"} for r in related if r in site.articles],
        "showLiveWelcomeLayer": False,
        "imageSharingMetadata": {
            "__typename": "OpenGraphMetadata",
            "url": f"{STATIC}/{lead['id']}_6.jpg",
            "width": 940,
            "height": 529,
            "alt": lead["alt"],
        }
        if lead
        else None,
        "trackingId": aid,
        "trackingLanguageCode": 28 if lang == "zh" else 140,
        "trackingContentType": 1,
        "trackingCategories": ["THEMEN", "Welt", art["category"]],
        "trackingDate": int(art["first"][:10].replace("-", "")),
        "trackingPageSID": "9058",
        "trackingTopicsCommaJoined": art["category"],
        "trackingRegionsCommaJoined": art["region"].strip(),
        "name": art["title"],
        "profileTopicContent": False,
        "subjects": [],
        "categories": [{"__typename": "Category", "originId": str(topic_id(art["topics"][0]))}],
        "departments": [{"__typename": "Department", "name": "Chinese"}],
        "regions": [{"__typename": "GeographicRegion", "regionCode": "europe", "countryCode": "DE"}],
    }
    state[f"Article:{aid}"] = own
    # stories linked from the text come after the page's article, as teasers too
    for cid in dict.fromkeys(body.links):
        if f"Article:{cid}" not in state and cid in site.articles:
            put_teaser(state, site, f"Article:{cid}", teaser_article_entry(site, cid, aid, lang))
    return state


def jsonld_for(site: Site, art: dict, *, author_mode: str = "list") -> dict:
    ld: dict = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": site.url_of(art["id"])},
        "publisher": {
            "@type": "Organization",
            "name": "Deutsche Welle",
            "logo": {
                "@type": "ImageObject",
                "url": "https://dw.com/images/icons/favicon-180x180.png",
                "width": "180",
                "height": "180",
            },
        },
    }
    if author_mode != "omit":
        ld["author"] = [{"@type": "Person", "name": p["name"]} for p in art.get("authors", [])]
    ld["headline"] = art["title"]
    lead = art.get("lead")
    if lead:
        ld["image"] = [f"{STATIC}/{lead['id']}_804.jpg", f"{STATIC}/{lead['id']}_604.jpg"]
    else:
        ld["image"] = []
    ld["datePublished"] = art["first"]
    ld["dateModified"] = art["modified"]
    return ld


# --------------------------------------------------------------------------------------
# article DOM
# --------------------------------------------------------------------------------------


def kicker_html(st: Styler, lang: str, category: str, region: str) -> str:
    return (
        f'<div class="{st("Kicker", "kicker", text="s")}" data-tracking-name="content-detail-kicker">'
        f"<span>{esc(category)}</span><span>"
        f'<a href="{attr(topic_path(lang, region))}" class="{st("Link")}" tabindex="0"><span class="{st("KickerLink", text="btn")}">{esc(region.strip())}</span></a>'
        "</span></div>"
    )


def authors_html(st: Styler, lang: str, authors: list[dict]) -> str:
    if not authors:
        return ""
    items = []
    for p in authors:
        text = p["name"] + (f" {p['role']}" if p.get("role") else "")
        if p.get("link"):
            items.append(
                f'<span><a href="{attr(person_path(lang, p["name"]))}" class="{st("Link")} {st("AuthorLink", "author-link", text="m")}">{esc(text)}</a></span>'
            )
        else:
            items.append(
                f'<span><span class="{st("Author", "author no-link", text="m")}">{esc(text)}</span></span>'
            )
    sep = f'<span class="{st("Separator", "separator", text="m")}" aria-hidden="true">|</span>'
    return f'<div class="{st("AuthorDetails", "author-details")}">' + sep.join(items) + "</div>"


def time_html(st: Styler, art: dict, *, machine: bool = False) -> str:
    rel = art.get("relative_time")
    if rel:
        inner = f'<time aria-hidden="true">{esc(rel)}</time><span class="sr-only {st("SrOnly")}">{esc(rel)}</span>'
    else:
        dt_attr = f' datetime="{art["first"]}"' if machine else ""
        inner = f'<time{dt_attr} aria-hidden="true">{dmy(art["first"])}</time><span class="sr-only {st("SrOnly")}">{cn_date(art["first"])}</span>'
    return f'<span class="{st("TimeArea", "time-area", text="s")}"><span class="{st("Publication", "publication", text="s")}">{inner}</span></span>'


def share_html(st: Styler, lang: str, title: str, permalink: str) -> str:
    lab = LABELS[lang]
    t = quote(title, safe="")
    p = f"https://p.dw.com/p/{permalink}"
    links = []
    for n, (cls, name, color, tpl) in enumerate(SHARE_SERVICES):
        href = tpl.format(t=t, p=p)
        links.append(
            f'<a href="{attr(href)}" target="_blank" rel="noopener noreferrer nofollow" title="{attr(lab["share"].format(svc=" " + name + " "))}" '
            f'class="{st("ShareIcon", cls, text="btn")}" role="link" tabindex="{0 if n < 2 else -1}" style="--social-media-service-hover-color:{color}">{SVG_ICON.format(c=st("ShareSvg"))}</a>'
        )
    return (
        f'<section class="{st("Share", "in-line closed")}" data-tracking-name="sharing-icons-inline"><div class="always-visible">'
        + "".join(links[:2])
        + f'<div class="{st("MoreIcon", "more-icon icon", text="btn")}" role="button" tabindex="0" title="{attr(lab["share_more"])}" aria-expanded="false"></div></div><div class="more closed">'
        + "".join(links[2:])
        + f'</div><div class="copy-button-wrapper closed"><span class="{st("CopyUrl")}">{p}</span></div></section>'
    )


def lead_figure(st: Styler, lang: str, img: dict) -> str:
    i = img["id"]

    def srcset(fmt: list[tuple[int, int]], ext: str) -> str:
        return ", ".join(f"{STATIC}/{i}_{f}.{ext} {w}w" for f, w in fmt)

    small = [(800, 50), (801, 129), (802, 352), (803, 575)]
    medium = [(600, 78), (601, 201), (602, 379), (603, 545), (604, 767), (605, 1199)]
    large = [(1000, 80), (1001, 576), (1002, 768), (1003, 992), (1004, 1200)]
    sources = []
    for ext, typ in (("webp", "image/webp"), ("jpg", "image/jpeg")):
        sources.append(
            f'<source type="{typ}" srcSet="{srcset(small, ext)}" media="(min-width: 0px) and (max-width: 575px)" height="100" width="100"/>'
        )
        sources.append(
            f'<source type="{typ}" srcSet="{srcset(medium, ext)}" media="(min-width: 576px) and (max-width: 991px)" height="56.25" width="100"/>'
        )
        sources.append(
            f'<source type="{typ}" srcSet="{srcset(large, ext)}" media="(min-width: 992px) " height="43.75" width="100"/>'
        )
    return (
        f'<figure class="{st("LeadFigure")}"><picture class="{st("Picture")}">'
        + "".join(sources)
        + f'<img fetchpriority="high" src="" srcSet="{srcset(medium, "jpg")}" width="100" height="56.25" title="{attr(img["alt"])}" alt="{attr(img["alt"])}"/></picture>'
        f'<figcaption class="{st("FigCaption", text="s")}">{esc(img["caption"])}'
        f'<small class="{st("Copyright", "copyright", text="s")}">{LABELS[lang]["credit"]}<!-- --> <!-- -->{esc(img["credit"])}</small></figcaption></figure>'
    )


def ad_box(st: Styler, lang: str, slot: str, no_box: bool = False) -> str:
    extra = " no-box" if no_box else ""
    return (
        f'<span></span><div class="{st("AdBox", "advertisement" + extra)}"><span class="{st("AdLabel", "label-top", text="btn")}">{LABELS[lang]["ad"]}</span>'
        + "".join(
            f'<div id="dw_{d}_{slot}" class="{st("GptSlot" + d, "gpt-slot")}" style="background-color:#E0DFDE"></div>'
            for d in ("m", "t", "d")
        )
        + "</div>"
    )


def feedback_footer(st: Styler, lang: str) -> str:
    lab = LABELS[lang]
    return (
        f'<footer class="{st("ArticleFooter")}"><div class="{st("Feedback", "feedback")}"><div class="{st("FeedbackCenter", "center")}">'
        f'<div class="{st("FeedbackBtn", text="btn")}" role="button" tabindex="0" id="feedback-button" data-focusdelay="600">{lab["feedback"]}{SVG_FEEDBACK.format(c=st("FeedbackIcon"))}</div></div>'
        f'<div class="{st("FeedbackSidebar", "feedback-sidebar")}" aria-hidden="true" tabindex="-1"><div class="header"><span class="{st("FeedbackHeadline", "headline", text="m")}">{lab["your_feedback"]}</span>'
        f'<div class="{st("CloseBtn", "close-feedback-btn", text="btn")}" role="button" tabindex="-1" title="{attr(lab["close_form"])}">{SVG_CLOSE.format(c=st("CloseIcon"))}</div></div><div class="feedback-elements"></div></div>'
        f'<div class="{st("Backdrop", "backdrop", text="btn")}" role="button" tabindex="-1" aria-hidden="true"></div></div></footer>'
    )


def related_topics_html(st: Styler, lang: str, topics: list[str]) -> str:
    lab = LABELS[lang]
    links = "".join(
        f'<a href="{attr(topic_path(lang, n))}" class="{st("TopicChip", text="btn")}" role="button" tabindex="0">{esc(n)}</a>'
        for n in topics
    )
    return (
        f'<section class="{st("RelatedTopics")}" id="related-topics" data-tracking-name="section-related-topics">'
        f'<a href="#post-related-topics" class="{st("SkipLink")} quick-item"><span class="{st("SkipLabel", text="xl")}">{lab["skip_related"]}</span>{SVG_ARROW.format(c=st("SkipArrow"))}</a>'
        f'<div class="content-block"><h2 class="{st("SectionHeadline", text="m")}">{lab["related_topics"]}</h2><aside class="{st("ChipRow", "start")}">{links}</aside></div>'
        f'<div class="{st("Anchor")} quick-item-target" id="post-related-topics"></div></section>'
    )


def teaser_card(st: Styler, site: Site, cid: int, lang: str, *, heading: str = "h3") -> str:
    a = site.articles.get(cid)
    g = site.galleries.get(cid)
    b = site.broken.get(cid)
    src = a or g or b
    path = site.path_of(cid)
    img = None
    if a and a.get("lead") and a.get("kind") != "old":
        img = a["lead"]["id"]
    elif g:
        img = g["images"][0]["id"]
    date = (a or g or {}).get("last_pub")
    d = a["date"] if a and a.get("kind") == "old" else (dmy(date) if date else "")
    kicker = (a or g or {}).get("category") or ""
    fig = (
        f'<a href="{attr(path)}" class="{st("Link")} {st("TeaserImageLink")}" tabindex="-1" aria-hidden="true"><figure class="{st("TeaserFigure")}"><picture><img src="" srcSet="{STATIC}/{img}_601.jpg 201w, {STATIC}/{img}_602.jpg 379w" alt=""/></picture></figure></a>'
        if img
        else ""
    )
    gallery_badge = (
        f'<span class="{st("GalleryBadge", text="btn")}">{LABELS[lang]["gallery"]}</span>' if g else ""
    )
    return (
        f'<div class="{st("Teaser", "basic-teaser")}">{fig}<div class="{st("TeaserData", "teaser-data")}">'
        + (
            f'<span class="{st("TeaserKicker", "teaser-kicker", text="s")}">{esc(kicker)}</span>'
            if kicker
            else ""
        )
        + f'<{heading} class="{st("TeaserTitle", text="m")}"><a href="{attr(path)}" class="{st("Link")}">{gallery_badge}{esc(src["title"])}</a></{heading}>'
        f'<p class="{st("TeaserDescription", "teaser-description", text="s")}">{esc(src["teaser"])}</p>'
        + (f'<span class="{st("TeaserDate", text="s")}">{d}</span>' if d else "")
        + "</div></div>"
    )


def more_on_topic_html(st: Styler, site: Site, lang: str, related: list[int]) -> str:
    lab = LABELS[lang]
    return (
        f'<section class="{st("MoreOnTopic")}" data-tracking-name="section-more-on-this-topic"><div class="content-block">'
        f'<h2 class="{st("SectionHeadline", text="m")}">{lab["more_on_topic"]}</h2><div class="{st("TeaserList", "row")}">'
        + "".join(teaser_card(st, site, r, lang) for r in related)
        + "</div></div></section>"
    )


def gallery_block_html(st: Styler, site: Site, lang: str, gid: int, mode: str) -> str:
    """The picture gallery under an article: full (every image) or only a link card."""
    g = site.galleries[gid]
    lab = LABELS[lang]
    path = site.path_of(gid)
    head_html = (
        f'<section class="{st("GalleryBlock", "image-gallery")}" data-tracking-name="content-detail-image-gallery">'
        f'<div class="{st("GalleryHeader")}"><span class="{st("GalleryBadge", text="btn")}">{lab["gallery"]}</span>'
        f'<h2 class="{st("GalleryTitle", text="xl")}"><a href="{attr(path)}" class="{st("Link")}">{esc(g["title"])}</a></h2>'
        f'<p class="{st("GalleryTeaser", text="s")}">{esc(g["teaser"])}</p></div>'
    )
    if mode == "partial":
        first = g["images"][0]
        return (
            head_html
            + f'<a href="{attr(path)}" class="{st("Link")} {st("GalleryOpen")}"><figure class="{st("GalleryCover")}"><picture><img src="" srcSet="{STATIC}/{first["id"]}_603.jpg 545w, {STATIC}/{first["id"]}_605.jpg 1199w" alt="{attr(first["alt"])}"/></picture></figure>'
            f'<span class="{st("GalleryCount", text="btn")}">{lab["gallery_open"]}（{len(g["images"])} {lab["images"]}）</span></a></section>'
        )
    return head_html + gallery_figures(st, lang, g) + "</section>"


def gallery_figures(st: Styler, lang: str, g: dict) -> str:
    lab = LABELS[lang]
    out = [f'<div class="{st("GallerySlides", "gallery-images")}" data-tracking-name="gallery-images">']
    for n, im in enumerate(g["images"], start=1):
        out.append(
            f'<figure class="{st("GallerySlide", "gallery-image")}" data-index="{n}"><picture class="{st("Picture")}"><img src="" data-id="{im["id"]}" '
            f'srcSet="{STATIC}/{im["id"]}_600.jpg 78w, {STATIC}/{im["id"]}_603.jpg 545w, {STATIC}/{im["id"]}_605.jpg 1199w" alt="{attr(im["alt"])}" title="{attr(im["alt"])}"/></picture>'
            f'<h3 class="{st("SlideTitle", text="m")}">{esc(im["name"])}</h3>'
            f'<figcaption class="{st("SlideCaption", "img-caption", text="s")}">{esc(im["description"])}'
            f'<small class="{st("Copyright", "copyright", text="s")}">{lab["credit"]}<!-- --> <!-- -->{esc(im["credit"])}</small></figcaption></figure>'
        )
    out.append("</div>")
    return "".join(out)


def render_article(site: Site, art: dict) -> tuple[str, Body]:
    """A current-template article page; art['kind'] in apollo / jsonld / dom / truncated."""
    kind = art["kind"]
    lang = art["lang"]
    st = Styler(art.get("build", APP_VERSION))
    body = Body(site, art)
    path = site.path_of(art["id"])
    url = site.url_of(art["id"])
    title = art["title"]
    full_title = f"{title} – DW – {dmy(art['first'])}"
    datalayer = datalayer_for(lang, art["id"], title, art["category"], art["first"][:10], url)
    jsonld = None
    if kind in ("apollo", "jsonld", "truncated"):
        jsonld = jsonld_for(site, art, author_mode=art.get("jsonld_author", "list"))
    extra_meta = ""
    if kind == "dom":
        extra_meta = f'<meta data-rh="true" property="article:modified_time" content="{art["modified"]}"/>'
    if art.get("real_size"):
        extra_meta += dw_real_size.head_extra(art)
        for name in dw_real_size.STYLE_COMPONENTS:
            st.pair(name)
    doc = [
        head(
            st,
            lang,
            title=full_title,
            page_title=title,
            url_path=path,
            description=art["teaser"],
            image=art.get("lead"),
            jsonld=jsonld,
            datalayer=datalayer,
            extra_meta=extra_meta,
        ),
        body_open(st, lang, datalayer),
    ]
    a = [
        f'<section class="row"><div class="detail-zone col"><article class="{st("Article")}"><div class="{st("ContentArea", "content-area")}"><header class="{st("ArticleHeader")}">'
    ]
    a.append(kicker_html(st, lang, art["category"], art["region"]))
    a.append(f'<h1 class="{st("Headline", text="xl")}">{esc(title)}</h1>')
    a.append(authors_html(st, lang, art["authors"]))
    a.append(time_html(st, art, machine=(kind == "dom")))
    a.append(f'<p class="{st("TeaserText", "teaser-text", text="m")}">{esc(art["teaser"])}</p></header>')
    a.append(share_html(st, lang, title, art["permalink"]))
    if art.get("lead"):
        a.append(lead_figure(st, lang, art["lead"]))
    a.append(ad_box(st, lang, "article_top"))
    a.append(f'<div class="{st("RichText", "rich-text", text="m")} has-italic">{body.html}\n</div>')
    if art.get("gallery"):
        a.append(gallery_block_html(st, site, lang, art["gallery"], art["gallery_mode"]))
    a.append(feedback_footer(st, lang))
    a.append(ad_box(st, lang, "article_content_bottom", no_box=True))
    a.append("</div></article></div></section>")
    a.append('<section class="row"><div class="alternating-zone col odd-alternating">')
    a.append(related_topics_html(st, lang, art["topics"]))
    a.append(more_on_topic_html(st, site, lang, [r for r in art["related"] if r != art["id"]]))
    a.append(SVG_SPINNER.format(c=st("Spinner")) + "</div></section></div>")
    doc.append("".join(a))
    year = parse_iso(art["first"]).year
    doc.append(site_footer(st, lang, max(year, 2024)))
    apollo = article_apollo(site, art, body) if kind in ("apollo", "truncated") else None
    if apollo is not None and art.get("real_size"):
        dw_real_size.pad_state(apollo, lang, LABELS[lang]["apollo_lang"])
    page = "\n".join(doc[:-1]) + doc[-1] + page_end(apollo)
    page = page.replace("@@STYLE@@", st.style_tag())
    if kind == "truncated":
        page = truncate_in_apollo(page, art["id"])
    return page, body


def truncate_in_apollo(page: str, aid: int) -> str:
    """Cut the response off inside the page's own Article entry, in the middle of its text."""
    start = page.index("window.__APOLLO_STATE__=")
    own = page.index(f'"Article:{aid}":{{', start)
    text = page.index('"text":"', own)
    return page[: text + len('"text":"') + 420]


# --------------------------------------------------------------------------------------
# gallery page, topic page, placeholder page
# --------------------------------------------------------------------------------------


def render_gallery_page(site: Site, gid: int) -> str:
    g = site.galleries[gid]
    lang = g["lang"]
    st = Styler(APP_VERSION)
    path = site.path_of(gid)
    url = site.url_of(gid)
    full_title = f"{g['title']} – DW – {dmy(g['first'])}"
    datalayer = datalayer_for(lang, gid, g["title"], g["category"], g["first"][:10], url, ctype=4)
    lead = {"id": g["images"][0]["id"], "alt": g["images"][0]["alt"]}
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "publisher": {
            "@type": "Organization",
            "name": "Deutsche Welle",
            "logo": {
                "@type": "ImageObject",
                "url": "https://dw.com/images/icons/favicon-180x180.png",
                "width": "180",
                "height": "180",
            },
        },
        "headline": g["title"],
        "image": [f"{STATIC}/{im['id']}_804.jpg" for im in g["images"][:2]],
        "datePublished": g["first"],
        "dateModified": g["modified"],
    }
    doc = [
        head(
            st,
            lang,
            title=full_title,
            page_title=g["title"],
            url_path=path,
            description=g["teaser"],
            image=lead,
            jsonld=ld,
            datalayer=datalayer,
        ),
        body_open(st, lang, datalayer),
    ]
    a = [
        f'<section class="row"><div class="detail-zone col"><article class="{st("Article")} {st("GalleryArticle")}"><div class="{st("ContentArea", "content-area")}"><header class="{st("ArticleHeader")}">'
    ]
    a.append(kicker_html(st, lang, g["category"], g["region"]))
    a.append(f'<h1 class="{st("Headline", text="xl")}">{esc(g["title"])}</h1>')
    a.append(time_html(st, g))
    a.append(f'<p class="{st("TeaserText", "teaser-text", text="m")}">{esc(g["teaser"])}</p></header>')
    a.append(share_html(st, lang, g["title"], g["permalink"]))
    a.append(ad_box(st, lang, "gallery_top"))
    a.append(gallery_figures(st, lang, g))
    a.append(feedback_footer(st, lang))
    a.append("</div></article></div></section>")
    a.append('<section class="row"><div class="alternating-zone col odd-alternating">')
    a.append(related_topics_html(st, lang, g["topics"]))
    a.append(more_on_topic_html(st, site, lang, g["related"]))
    a.append("</div></section></div>")
    doc.append("".join(a))
    doc.append(site_footer(st, lang, 2024))
    # Apollo: teasers first, then the gallery itself with every image in full
    state: dict = {"ROOT_QUERY": root_query(lang, str(gid), f"ImageGallery:{gid}")}
    state.update(nav_entries(lang))
    for rid in g["related"]:
        put_teaser(state, site, f"Article:{rid}", teaser_article_entry(site, rid, gid, lang))
    entry, images = gallery_entry(site, gid, "full", lang)
    state.update(images)
    for name in g["topics"] + [g["region"]]:
        tid = topic_id(name)
        state[f"AutoTopic:{tid}"] = {
            "__typename": "AutoTopic",
            "id": tid,
            "namedUrl": topic_path(lang, name),
            "name": name,
        }
    state.update(social_entries(g["title"], g["permalink"]))
    entry.update(
        {
            "canonicalUrl": url,
            "language": LABELS[lang]["apollo_lang"],
            "isChineseLang": True,
            "firstPublicationDate": g["first"],
            "lastPublicationDate": g["last_pub"],
            "lastModifiedDate": g["modified"],
            "persons": [],
            "thematicFocusCategory": {
                "__typename": "Category",
                "name": g["category"],
                "correspondingContent": None,
            },
            "relatedAutoTopics": [{"__ref": f"AutoTopic:{topic_id(n)}"} for n in g["topics"]],
            "permaLinkUrl": f"https://p.dw.com/p/{g['permalink']}",
            "socialMediaConfig": [{"__ref": k} for k in social_entries(g["title"], g["permalink"])],
        }
    )
    state[f"ImageGallery:{gid}"] = entry
    page = "\n".join(doc[:-1]) + doc[-1] + page_end(state)
    return page.replace("@@STYLE@@", st.style_tag())


def render_topic_page(site: Site, topic: dict, items: list[int], *, extra_links: bool) -> str:
    lang = "zh"
    st = Styler(APP_VERSION)
    tid = topic["id"]
    path = f"/zh/{topic['name']}/t-{tid}"
    title = f"{topic['name']} – DW"
    datalayer = datalayer_for(lang, tid, topic["name"], "Themen", None, WWW + path, ctype=9)
    doc = [
        head(
            st,
            lang,
            title=title,
            page_title=topic["name"],
            url_path=path,
            description=topic["teaser"],
            image=None,
            jsonld=None,
            datalayer=datalayer,
            amp=False,
        ),
        body_open(st, lang, datalayer),
    ]
    a = [
        f'<section class="row"><div class="col"><div class="{st("TopicHeader", "content-area")}"><header class="{st("ArticleHeader")}">'
    ]
    a.append(
        f'<span class="{st("TopicLabel", text="s")}">主题</span><h1 class="{st("Headline", text="xl")}">{esc(topic["name"])}</h1>'
    )
    a.append(
        f'<p class="{st("TopicTeaser", "topic-teaser", text="m")}">{esc(topic["teaser"])}</p></header></div></div></section>'
    )
    a.append(
        f'<section class="row" data-tracking-name="topic-contents"><div class="col"><div class="{st("TeaserList", "row")}">'
    )
    for n, cid in enumerate(items):
        a.append(teaser_card(st, site, cid, lang))
        if extra_links and n == 4:
            # video teasers sit among the article teasers on real topic pages
            a.append(
                f'<div class="{st("Teaser", "basic-teaser video-teaser")}"><div class="{st("TeaserData", "teaser-data")}"><span class="{st("TeaserKicker", "teaser-kicker", text="s")}">视频</span>'
                f'<h3 class="{st("TeaserTitle", text="m")}"><a href="/zh/北极冰层下的世界/av-68199301" class="{st("Link")}">北极冰层下的世界</a></h3>'
                f'<p class="{st("TeaserDescription", "teaser-description", text="s")}">跟随水下机器人，看看北冰洋冰层下方的景象。</p></div></div>'
            )
        if extra_links and n == 9:
            a.append(
                f'<div class="{st("Teaser", "basic-teaser video-teaser")}"><div class="{st("TeaserData", "teaser-data")}"><span class="{st("TeaserKicker", "teaser-kicker", text="s")}">视频</span>'
                f'<h3 class="{st("TeaserTitle", text="m")}"><a href="/zh/柏林新艺术中心探访/video-68199302" class="{st("Link")}">柏林新艺术中心探访</a></h3>'
                f'<p class="{st("TeaserDescription", "teaser-description", text="s")}">一座老电厂如何变成美术馆。</p></div></div>'
            )
    a.append("</div></div></section>")
    if extra_links:
        links = [
            ("/zh/欧盟/t-37185001", "欧盟"),
            ("/zh/气候变化/t-37185013", "气候变化"),
            ("/zh/在线报导/s-9058", "在线报导"),
            ("/zh/黄一凡/person-51230019", "黄一凡"),
            ("/zh/欧洲央行/t-37185019", "欧洲央行"),
            ("https://example.net/climate-report", "外部链接：气候报告全文"),
        ]
        a.append(
            f'<section class="row" data-tracking-name="topic-related-links"><div class="col"><h2 class="{st("SectionHeadline", text="m")}">相关链接</h2><ul class="{st("LinkList")}">'
        )
        for href, text in links:
            ext = ' target="_blank" rel="noopener noreferrer"' if href.startswith("http") else ""
            a.append(f'<li><a href="{attr(href)}"{ext} class="{st("Link")}">{esc(text)}</a></li>')
        a.append("</ul></div></section>")
    a.append("</div>")
    doc.append("".join(a))
    doc.append(site_footer(st, lang, 2024))
    state: dict = {"ROOT_QUERY": root_query(lang, str(tid), f"AutoTopic:{tid}")}
    state.update(nav_entries(lang))
    refs = []
    for cid in items:
        key = f"ImageGallery:{cid}" if cid in site.galleries else f"Article:{cid}"
        if cid in site.broken:
            b = site.broken[cid]
            state[key] = {
                "__typename": "Article",
                "id": cid,
                "namedUrl": site.path_of(cid),
                "name": b["title"],
                "title": b["title"],
                "teaser": b["teaser"],
            }
        else:
            put_teaser(state, site, key, teaser_article_entry(site, cid, tid, lang))
        refs.append({"__ref": key})
    state[f"AutoTopic:{tid}"] = {
        "__typename": "AutoTopic",
        "id": tid,
        "name": topic["name"],
        "title": topic["name"],
        "namedUrl": path,
        "canonicalUrl": WWW + path,
        "teaser": topic["teaser"],
        "contentComposition": {
            "__typename": "ContentComposition",
            "informationSpaces": [{"__typename": "InformationSpace", "contents": refs}],
        },
    }
    page = "\n".join(doc[:-1]) + doc[-1] + page_end(state)
    return page.replace("@@STYLE@@", st.style_tag())


def render_placeholder(site: Site, cid: int) -> str:
    """An a- URL answering 200 with the site chrome but no article (no h1, no dates)."""
    lang = "zh"
    st = Styler(APP_VERSION)
    lab = LABELS[lang]
    datalayer = datalayer_for(lang, cid, "", "", None, site.url_of(cid), ctype=0)
    doc = [
        head(
            st,
            lang,
            title="DW",
            page_title=None,
            url_path=None,
            description=None,
            image=None,
            jsonld=None,
            datalayer=datalayer,
            amp=False,
        ),
        body_open(st, lang, datalayer),
    ]
    doc.append(
        f'<section class="row"><div class="col"><div class="{st("ErrorPage", "error-page")}"><p class="{st("ErrorText", text="m")}">{lab["error"]}</p>'
        f'<a href="{attr(lab["home_path"])}" class="{st("Link")} {st("ErrorHome", text="btn")}">{lab["home"]}</a></div></div></section></div>'
    )
    doc.append(site_footer(st, lang, 2024))
    state: dict = {"ROOT_QUERY": root_query(lang, str(cid), None)}
    state.update(nav_entries(lang))
    page = "\n".join(doc[:-1]) + doc[-1] + page_end(state)
    return page.replace("@@STYLE@@", st.style_tag())


# --------------------------------------------------------------------------------------
# old template (before mid-2023)
# --------------------------------------------------------------------------------------

OLD_LABELS = {
    "zh": {
        "date": "日期",
        "author": "作者",
        "topics": "相关主题",
        "keywords": "关键词",
        "share": "分享",
        "permalink": "永久链接",
        "site": "德国之声 来自德国 介绍德国",
        "more": "更多内容：",
        "copyright": C.C_ZH,
        "send": "发送",
        "print": "打印",
        "feedback": "反馈",
    },
    "zh-hant": {
        "date": "日期",
        "author": "作者",
        "topics": "相關主題",
        "keywords": "關鍵詞",
        "share": "分享",
        "permalink": "永久鏈接",
        "site": "德國之聲 來自德國 介紹德國",
        "more": "更多內容：",
        "copyright": C.C_HANT,
        "send": "發送",
        "print": "打印",
        "feedback": "反饋",
    },
}


def render_old(site: Site, art: dict) -> tuple[str, dict]:
    lang = art["lang"]
    ol = OLD_LABELS[lang]
    lab = LABELS[lang]
    path = site.path_of(art["id"])
    canonical = WWW + enc(path)
    year = int(art["date"][-4:])
    topics_html = ", ".join(f'<a href="{attr(topic_path(lang, k))}">{esc(k)}</a>' for k in art["keywords"])
    share = " ".join(
        f'<a class="{c}" href="{attr(h)}" target="_blank" rel="nofollow">{n}</a>'
        for c, n, h in (
            (
                "facebook",
                "Facebook",
                f"https://www.facebook.com/sharer/sharer.php?u=https://p.dw.com/p/{art['permalink']}",
            ),
            (
                "twitter",
                "Twitter",
                f"https://twitter.com/intent/tweet?url=https://p.dw.com/p/{art['permalink']}",
            ),
            (
                "weibo",
                "微博",
                f"https://service.weibo.com/share/share.php?url=https://p.dw.com/p/{art['permalink']}",
            ),
            ("mail", "E-mail", f"mailto:?body=https://p.dw.com/p/{art['permalink']}"),
        )
    )
    body: list[str] = []
    images = []
    headings = []
    paragraphs = []
    boiler = []
    for block in art["body"]:
        kind = block[0]
        if kind == "p":
            body.append(f"<p>{block[1]}</p>")
            paragraphs.append(strip_tags(block[1]))
        elif kind == "h2":
            headings.append(block[1])
            body.append(f"<h2>{esc(block[1])}</h2>")
        elif kind == "img":
            im = block[1]
            images.append(im)
            body.append(
                f'<div class="picBox"><a href="/image/{im["id"]}_401.jpg" class="overlayLink"><img src="/image/{im["id"]}_303.jpg" alt="{attr(im["caption"])}" title="{attr(im["caption"])}"></a><p>{esc(im["caption"])}</p></div>'
            )
        elif kind == "more_old":
            text, href = block[1]
            boiler.append(ol["more"])
            body.append(f'<p><strong>{ol["more"]}</strong><a href="{attr(href)}">{esc(text)}</a></p>')
    line = ol["copyright"].format(year=year)
    boiler.append(line.split("：")[0])
    body.append(f"<p>{esc(line)}</p>")
    lead = art["lead"]
    gallery_html = ""
    if art.get("gallery"):
        gal = art["gallery"]
        slides = "".join(
            f'<li><img src="/image/{s["id"]}_303.jpg" alt="{attr(s["title"])}"><h3>{esc(s["title"])}</h3><p>{esc(s["caption"])}</p></li>'
            for s in gal["slides"]
        )
        gallery_html = f'<div class="gallery"><h2>{esc(gal["title"])}</h2><div class="slideshowNav"><a class="prev" href="#">&lt;</a> <span class="count">1/{len(gal["slides"])}</span> <a class="next" href="#">&gt;</a></div><ul class="slides">{slides}</ul></div>'
    nav = "".join(
        f'<li><a href="/{lang}/{name}/s-{sid}">{name}</a></li>'
        for entries in lab["sections"]
        for name, sid in entries
    )
    legal_links = " | ".join(f'<a href="{attr(href)}">{text}</a>' for text, href in lab["legal"][:3])
    doc = f"""<!DOCTYPE html>
<html lang="{lab["html_lang"]}">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{esc(art["title"])} | {ol["site"]} | DW | {art["date"]}</title>
<meta name="description" content="{attr(art["teaser"])}">
<meta name="keywords" content="{attr(", ".join(art["keywords"]))}">
<meta name="robots" content="index, follow">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:site_name" content="DW.COM">
<meta property="og:type" content="article">
<meta property="og:title" content="{attr(art["title"])}">
<meta property="og:description" content="{attr(art["teaser"])}">
<meta property="og:url" content="{attr(canonical)}">
<meta property="og:image" content="https://www.dw.com/image/{lead["id"]}_304.jpg">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@dw_chinese">
<link rel="canonical" href="{attr(canonical)}">
<link rel="alternate" type="application/rss+xml" title="{lab["site"]}" href="https://rss.dw.com/rdf/rss-chi-all">
<link rel="stylesheet" type="text/css" href="/css/dw.min.css?v={year}0{len(art["keywords"])}">
<link rel="shortcut icon" href="/favicon.ico">
<script src="/js/jquery-1.12.4.min.js"></script>
<script src="/js/dw.min.js?v={year}"></script>
<script>
var dwData = {{"pageId":{art["id"]},"lang":"{lang}","contentType":"article","date":"{art["date"]}","pageUrl":"{WWW + path}"}};
</script>
</head>
<body class="{lang} article">
<div id="wrapper">
<div id="header">
<a id="dwlogo" href="{attr(lab["home_path"])}" title="Deutsche Welle"><img src="/images/dwlogo.png" alt="DW"></a>
<div id="languageSelection"><a href="/de/">Deutsch</a> <a href="/en/">English</a> <a href="/zh/">中文</a> <a href="/zh-hant/">繁體</a></div>
<form id="searchForm" action="/{lang}/search/" method="get"><input type="text" name="searchNavigationId" value="9058"><input type="submit" value="搜索"></form>
</div>
<div id="navigation"><ul class="navMain">{nav}</ul></div>
<div id="bodyContent">
<div class="col1"><div class="navigation"><h2>{lab["site"]}</h2><ul>{nav}</ul></div></div>
<div class="col3">
<h1>{esc(art["title"])}</h1>
<p class="intro">{esc(art["teaser"])}</p>
<div class="group"><ul class="smallList"><li><strong>{ol["date"]}</strong> {art["date"]}</li><li><strong>{ol["author"]}</strong> {esc(art["author"])}</li><li class="relatedTopics"><strong>{ol["topics"]}</strong> {topics_html}</li><li><strong>{ol["keywords"]}</strong> {esc(", ".join(art["keywords"]))}</li><li><strong>{ol["share"]}</strong> {share}</li><li><strong>{ol["permalink"]}</strong> https://p.dw.com/p/{art["permalink"]}</li></ul></div>
<div class="picBox full"><a href="/image/{lead["id"]}_401.jpg" class="overlayLink"><img src="/image/{lead["id"]}_303.jpg" alt="{attr(lead["caption"])}" title="{attr(lead["caption"])}"></a><p>{esc(lead["caption"])}</p></div>
<div class="longText">{"".join(body)}</div>
{gallery_html}
<div class="group"><ul class="smallList linkList"><li><a href="mailto:chinese@dw.com">{ol["feedback"]}</a></li><li><a href="javascript:window.print()">{ol["print"]}</a></li></ul></div>
</div>
</div>
<div id="footer"><p>© {year} Deutsche Welle | {legal_links}</p></div>
</div>
<script>if(window.DW){{DW.init({{"page":{art["id"]}}});}}</script>
</body>
</html>
"""
    info = {"images": [lead, *images], "headings": headings, "paragraphs": paragraphs, "boiler": boiler}
    return doc, info


# --------------------------------------------------------------------------------------
# feed, robots, manifest, expected
# --------------------------------------------------------------------------------------


def feed_entry_target(site: Site, cid: int) -> dict:
    if cid in site.articles:
        return site.articles[cid]
    if cid in site.galleries:
        return site.galleries[cid]
    return site.broken[cid]


def render_feed(site: Site) -> tuple[str, list[str]]:
    items = []
    for fi in C.FEED_ITEMS:
        cid = fi["id"]
        t = feed_entry_target(site, cid)
        via = fi["via"]
        path = site.path_of(cid)
        title = t["title"]
        if via == "old-slug":
            path = f"/{t['lang']}/{t['old_slug']}/a-{cid}"
            title = t["old_title"]
        host = {
            "www": "https://www.dw.com",
            "amp": "https://amp.dw.com",
            "m": "https://m.dw.com",
            "old-slug": "https://www.dw.com",
        }[via]
        link = f"{host}{enc(path)}?{MACA}"
        if "pubdate" in fi:
            when = datetime.strptime(fi["pubdate"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        else:
            when = parse_iso(t["first"]).replace(microsecond=0) + timedelta(minutes=fi["shift"])
        category = t.get("category") or ("经济" if cid % 2 else "政治")
        items.append((when, cid, title, link, t["teaser"], category))
    items.sort(key=lambda x: (x[0], x[1]), reverse=True)
    newest = items[0][0]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        "<title>德国之声中文网 | DW</title>",
        f"<link>https://www.dw.com/zh/%E5%9C%A8%E7%BA%BF%E6%8A%A5%E5%AF%BC/s-9058?{MACA}</link>",
        "<description>德国之声中文网：来自德国的新闻与报道，欧洲、德国和世界的政治、经济、文化和科技资讯。</description>",
        "<language>zh</language>",
        f"<copyright>{newest.year} DW.COM, Deutsche Welle</copyright>",
        f"<pubDate>{rfc822(newest)}</pubDate>",
        f"<lastBuildDate>{rfc822(newest + timedelta(minutes=2))}</lastBuildDate>",
        "<ttl>10</ttl>",
        f'<atom:link href="{FEED_URL}" rel="self" type="application/rss+xml"/>',
        "<image>",
        "<title>德国之声中文网 | DW</title>",
        "<url>https://static.dw.com/image/15682255_7.png</url>",
        f"<link>https://www.dw.com/zh/%E5%9C%A8%E7%BA%BF%E6%8A%A5%E5%AF%BC/s-9058?{MACA}</link>",
        "<width>144</width>",
        "<height>144</height>",
        "</image>",
    ]
    for when, cid, title, link, teaser, category in items:
        out += [
            "<item>",
            f"<title>{esc(title)}</title>",
            f"<link>{esc(link)}</link>",
            f"<description>{esc(teaser)}</description>",
            f"<category>{esc(category)}</category>",
            f"<pubDate>{rfc822(when)}</pubDate>",
            f'<guid isPermaLink="false">{cid}</guid>',
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    distinct = list(dict.fromkeys(site.url_of(cid) for _w, cid, *_rest in items))
    return "\n".join(out), distinct


ROBOTS_WWW = """# robots.txt for https://www.dw.com (offline demo mirror)
User-agent: *
Disallow: /zh/search
Disallow: /zh-hant/search
Disallow: /search/
Allow: /

Sitemap: https://www.dw.com/zh/article-sitemap.xml
"""

ROBOTS_RSS = """# robots.txt for https://rss.dw.com (offline demo mirror)
User-agent: *
Disallow:
"""


def clean_body_text(paragraphs: list[str]) -> str:
    return "\n".join(paragraphs)


def expected_article(site: Site, art: dict, body: Body) -> dict:
    lang = art["lang"]
    images = []
    if art.get("lead"):
        images.append(art["lead"])
    images += body.images
    boiler = list(
        dict.fromkeys(
            [*body.boiler, LABELS[lang]["ad"], "p.dw.com/p/", "分享此页面" if lang == "zh" else "分享此頁面"]
        )
    )
    for r in art["related"][:1]:
        boiler.append(site.title_of(r))
    clean = clean_body_text(body.paragraphs)
    boiler = [b for b in boiler if b not in clean]
    exp = {
        "url": site.url_of(art["id"]),
        "id": f"a-{art['id']}",
        "title": art["title"],
        "published": to_seconds(art["first"]),
        "updated": to_seconds(art["modified"]),
        "authors": [p["name"] for p in art["authors"]],
        "lead": art["teaser"],
        "tags": [t.strip() for t in art["topics"]],
        "category": art["category"],
        "lang": "zh-Hans" if lang == "zh" else "zh-Hant",
        "image_count": len(images),
        "images": [
            {"url": f"{STATIC}/{im['id']}_6.jpg", "caption": im["caption"], "credit": im["credit"]}
            for im in images
        ],
        "gallery": None,
        "body_first_paragraph": body.paragraphs[0],
        "body_must_not_contain": boiler,
        "body_headings": body.headings,
    }
    if art.get("gallery"):
        g = site.galleries[art["gallery"]]
        exp["gallery"] = gallery_expected(g)
    return exp


def gallery_expected(g: dict) -> dict:
    return {
        "title": g["title"],
        "images": [
            {
                "url": f"{STATIC}/{im['id']}_6.jpg",
                "title": im["name"],
                "caption": im["description"],
                "credit": im["credit"],
            }
            for im in g["images"]
        ],
    }


def expected_gallery_page(site: Site, g: dict) -> dict:
    lang = g["lang"]
    return {
        "url": site.url_of(g["id"]),
        "id": f"g-{g['id']}",
        "title": g["title"],
        "published": to_seconds(g["first"]),
        "updated": to_seconds(g["modified"]),
        "authors": [],
        "lead": g["teaser"],
        "tags": [t.strip() for t in g["topics"]],
        "category": g["category"],
        "lang": "zh-Hans" if lang == "zh" else "zh-Hant",
        "image_count": 0,
        "images": [],
        "gallery": gallery_expected(g),
        "body_first_paragraph": None,
        "body_must_not_contain": [LABELS[lang]["ad"], "p.dw.com/p/"],
        "body_headings": [],
    }


def expected_old(site: Site, art: dict, info: dict) -> dict:
    d, m, y = art["date"].split(".")
    gal = art.get("gallery")
    return {
        "url": site.url_of(art["id"]),
        "id": f"a-{art['id']}",
        "title": art["title"],
        "published": f"{y}-{m}-{d}",  # the facts list gives a day, not a time of day
        "updated": None,
        "authors": [art["author"]],
        "lead": art["teaser"],
        "tags": list(art["keywords"]),
        "category": None,
        "lang": "zh-Hans" if art["lang"] == "zh" else "zh-Hant",
        "image_count": len(info["images"]),
        "images": [
            {"url": f"https://static.dw.com/image/{im['id']}_6.jpg", "caption": im["caption"], "credit": None}
            for im in info["images"]
        ],
        "gallery": (
            {
                "title": gal["title"],
                "images": [
                    {
                        "url": f"https://static.dw.com/image/{s['id']}_6.jpg",
                        "title": s["title"],
                        "caption": s["caption"],
                        "credit": None,
                    }
                    for s in gal["slides"]
                ],
            }
            if gal
            else None
        ),
        "body_first_paragraph": info["paragraphs"][0],
        "body_must_not_contain": [b for b in info["boiler"] if b not in "\n".join(info["paragraphs"])]
        + ([gal["slides"][0]["caption"]] if gal else []),
        "body_headings": info["headings"],
    }


def redirect(url_path_host: str) -> dict:
    """A 301 route; the Location is percent-encoded, as an HTTP header must be ASCII."""
    return {"status": 301, "location": url_path_host}


def _enc_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    return f"{scheme}://{host}{enc('/' + path)}"


def build(out_dir: Path, extra_articles: int = 0, topic_size: int | None = None,
          real_size: bool = False) -> None:
    out_dir = Path(out_dir)
    pages_dir = out_dir / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    for old in pages_dir.glob("*.html"):
        old.unlink()
    site = Site(extra_articles, real_size)
    manifest: dict[str, dict] = {}
    expected: dict[str, object] = {}
    broken: list[dict] = []

    def add_page(url: str, name: str, content: str) -> None:
        (pages_dir / name).write_text(content, encoding="utf-8")
        manifest[url] = {"file": f"pages/{name}", "content_type": HTML_TYPE}

    def add_aliases(cid: int, *, amp: bool = True) -> None:
        target = _enc_url(site.url_of(cid))
        a = site.articles.get(cid) or site.galleries.get(cid)
        lang = a["lang"]
        letter = "g" if cid in site.galleries else "a"
        manifest[f"{WWW}/{lang}/{letter}-{cid}"] = redirect(target)
        if amp:
            manifest["https://amp.dw.com" + site.path_of(cid)] = redirect(target)
            manifest["https://m.dw.com" + site.path_of(cid)] = redirect(target)
        if a.get("permalink"):
            manifest[f"https://p.dw.com/p/{a['permalink']}"] = redirect(target)

    # current-template articles (incl. the synthetic ones)
    for art in [*C.ARTICLES, *site.extra]:
        name = f"a-{art['id']}.html"
        page, body = render_article(site, art)
        add_page(site.url_of(art["id"]), name, page)
        add_aliases(art["id"], amp=art["kind"] != "truncated")
        if art["kind"] == "truncated":
            broken.append(
                {
                    "file": f"pages/{name}",
                    "url": site.url_of(art["id"]),
                    "reason": "truncated response: the HTML ends inside window.__APOLLO_STATE__ (in the page's own Article text), so the JSON is invalid and there is no </body></html>; treat as a failed fetch, not as an article",
                }
            )
            continue
        expected[f"pages/{name}"] = expected_article(site, art, body)
        if art.get("old_slug"):
            manifest[f"{WWW}/{art['lang']}/{art['old_slug']}/a-{art['id']}"] = redirect(
                _enc_url(site.url_of(art["id"]))
            )
    # old template
    for art in C.OLD_ARTICLES:
        name = f"a-{art['id']}.html"
        page, info = render_old(site, art)
        add_page(site.url_of(art["id"]), name, page)
        add_aliases(art["id"], amp=False)
        expected[f"pages/{name}"] = expected_old(site, art, info)
    # galleries
    for gid, g in site.galleries.items():
        name = f"g-{gid}.html"
        add_page(site.url_of(gid), name, render_gallery_page(site, gid))
        add_aliases(gid, amp=False)
        expected[f"pages/{name}"] = expected_gallery_page(site, g)
    # broken links
    for cid, b in site.broken.items():
        url = site.url_of(cid)
        if "status" not in b:
            name = f"a-{cid}.html"
            add_page(url, name, render_placeholder(site, cid))
            broken.append({"file": f"pages/{name}", "url": url, "reason": b["why"]})
        elif b["status"] == 301:
            manifest[url] = redirect(b["location"])
            broken.append({"file": None, "url": url, "reason": b["why"]})
        else:
            manifest[url] = {"status": b["status"]}
            broken.append({"file": None, "url": url, "reason": b["why"]})
    # topic page(s)
    topic = C.TOPIC_PAGE
    tpath = f"/zh/{topic['name']}/t-{topic['id']}"
    add_page(
        WWW + tpath, f"t-{topic['id']}.html", render_topic_page(site, topic, C.TOPIC_ITEMS, extra_links=True)
    )
    manifest[f"{WWW}/zh/t-{topic['id']}"] = redirect(_enc_url(WWW + tpath))
    if site.extra:
        ids = [a["id"] for a in site.extra]
        size = topic_size or len(ids)
        for k, bench in enumerate(bench_topics(len(ids), topic_size)):
            bpath = f"/zh/{bench['name']}/t-{bench['id']}"
            add_page(
                WWW + bpath,
                f"t-{bench['id']}.html",
                render_topic_page(site, bench, ids[k * size:(k + 1) * size], extra_links=False),
            )
            manifest[f"{WWW}/zh/t-{bench['id']}"] = redirect(_enc_url(WWW + bpath))
    # feed and robots
    feed, feed_urls = render_feed(site)
    (out_dir / "rss-chi-all.xml").write_text(feed, encoding="utf-8")
    manifest[FEED_URL] = {"file": "rss-chi-all.xml", "content_type": "application/rss+xml; charset=utf-8"}
    (out_dir / "robots-www.txt").write_text(ROBOTS_WWW, encoding="utf-8")
    (out_dir / "robots-rss.txt").write_text(ROBOTS_RSS, encoding="utf-8")
    manifest[f"{WWW}/robots.txt"] = {"file": "robots-www.txt", "content_type": "text/plain; charset=utf-8"}
    manifest["https://rss.dw.com/robots.txt"] = {
        "file": "robots-rss.txt",
        "content_type": "text/plain; charset=utf-8",
    }
    for host in ("amp.dw.com", "m.dw.com", "p.dw.com"):
        manifest[f"https://{host}/robots.txt"] = {
            "file": "robots-www.txt",
            "content_type": "text/plain; charset=utf-8",
        }

    # the stylesheets the pages link (same site, relative hrefs), so that a replayed page is
    # styled: one short stylesheet of the mirror's own for every href (its query is not part
    # of a route)
    (out_dir / "style.css").write_text(STYLESHEET, encoding="utf-8")
    for page in sorted(pages_dir.glob("*.html")):
        for href in STYLESHEET_HREF.findall(page.read_text(encoding="utf-8")):
            manifest[WWW + href.split("?", 1)[0]] = {"file": "style.css", "content_type": CSS_TYPE}

    expected["broken"] = broken
    expected["feed"] = feed_urls
    expected["topic"] = list(dict.fromkeys(site.url_of(cid) for cid in C.TOPIC_ITEMS))
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (out_dir / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (default: %(default)s)"
    )
    parser.add_argument(
        "--extra-articles", type=int, default=0, help="add N synthetic articles for benchmarks"
    )
    parser.add_argument(
        "--topic-size", type=int, default=None,
        help="list the synthetic articles this many to a topic page (default: all on one)",
    )
    parser.add_argument(
        "--real-size", action="store_true",
        help="synthetic articles of a real article's size (tests/mirror/dw_real_size.py)",
    )
    args = parser.parse_args(argv)
    build(args.out, extra_articles=args.extra_articles, topic_size=args.topic_size, real_size=args.real_size)
    print(f"wrote the DW mirror to {args.out}")


if __name__ == "__main__":
    main()
