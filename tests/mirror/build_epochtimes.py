# ruff: noqa: E501
"""Generate the offline Epoch Times (Chinese) demo mirror from ``epochtimes_content``.

    python -m tests.mirror.build_epochtimes [--out DIR]

Writes two mirror directories into DIR (default: ``tests/mirror/``):

* ``epochtimes/`` — the site on day one: article pages (``pages/n<id>-gb.html``,
  ``pages/n<id>-b5.html``), tag listings, the 大陆新闻 category listing, the full-text RSS
  feed ``nsc413.xml``, ``robots.txt``, ``manifest.json`` (real URL -> route, read by
  ``tests.mirror.server``) and ``expected.json`` (what a correct parser and crawler
  must extract, for day one and day two).
* ``epochtimes-day2/`` — an overlay served on top of day one: only the routes that are
  new or changed on day two (three new articles at the top of tag 中美关系 and of the feed,
  one retitled article, the listings that show them).

The output is deterministic: the same input gives byte-identical files. All text is
invented; the page structure imitates www.epochtimes.com (WordPress theme, lazy images,
Google ad slots, JSON-LD on current pages only).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from tests.mirror import epochtimes_content as C

DEFAULT_OUT = Path(__file__).resolve().parent
WWW = "https://www.epochtimes.com"
UPLOADS = "https://i.epochtimes.com/assets/uploads"
THEME = "https://www.epochtimes.com/assets/themes/atmobile"
GIF = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
HTML_TYPE = "text/html; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
FEED_URL = f"{WWW}/gb/nsc413.xml"
GPT = "div-gpt-ad-1592410423"
GA_ID = "G-ET7Q2DEMO1"

ROBOTS = """# robots.txt for https://www.epochtimes.com (offline demo mirror)
User-agent: *
Disallow: /gb/search
Disallow: /b5/search

Sitemap: https://www.epochtimes.com/sitemap_index.xml
"""

CSS_TYPE = "text/css; charset=utf-8"
#: the mirror's own stylesheet (the site's real ones are not copied), served for both theme files
STYLESHEET = """/* newscrawl test mirror: a stylesheet of its own for every Epoch Times page */
body { margin: 0 auto; max-width: 46rem; padding: 1rem; font: 18px/1.7 "Noto Sans CJK SC", sans-serif; }
h1 { font-size: 2rem; line-height: 1.3; }
img { max-width: 100%; height: auto; }
"""

# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def pct(text: str) -> str:
    return quote(text, safe="")


def strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _pick(seed: str, n: int) -> int:
    return int(hashlib.sha256(seed.encode()).hexdigest(), 16) % n


EST = timezone(timedelta(hours=-5))
EDT = timezone(timedelta(hours=-4))


def _us_dst(local: datetime) -> bool:
    """Is this US Eastern wall-clock time daylight saving time (rules since 2007)?"""
    year = local.year
    march = datetime(year, 3, 1)
    start = march + timedelta(days=(6 - march.weekday()) % 7 + 7, hours=2)  # 2nd Sunday 2:00
    nov = datetime(year, 11, 1)
    end = nov + timedelta(days=(6 - nov.weekday()) % 7, hours=1)  # 1st Sunday, 2:00 EDT = 1:00 EST
    return start <= local < end


class When:
    """A US Eastern wall-clock time (the site is edited in New York)."""

    def __init__(self, local: str):
        self.local = datetime.strptime(local, "%Y-%m-%d %H:%M:%S")
        self.tz = EDT if _us_dst(self.local) else EST
        self.aware = self.local.replace(tzinfo=self.tz)
        self.utc = self.aware.astimezone(UTC)

    def iso(self) -> str:
        """2023-03-07T09:15:42-05:00"""
        return self.aware.isoformat()

    def z(self) -> str:
        return self.utc.strftime("%Y-%m-%dT%H:%M:%SZ")

    def shown(self) -> str:
        """Current pages: 2023-03-07 09:15 AM"""
        return self.local.strftime("%Y-%m-%d %I:%M %p")

    def shown_old(self) -> str:
        """Old pages: 2019-11-03 9:41 PM (no leading zero on the hour)"""
        return self.local.strftime("%Y-%m-%d ") + f"{int(self.local.strftime('%I'))}:{self.local:%M %p}"

    def day(self) -> str:
        return self.local.strftime("%Y-%m-%d")

    def rfc822(self) -> str:
        return format_datetime(self.aware)

    def __lt__(self, other: When) -> bool:
        return self.utc < other.utc


# --------------------------------------------------------------------------------------
# labels of the two scripts
# --------------------------------------------------------------------------------------

LABELS = {
    "gb": {
        "html_lang": "zh-Hans",
        "og_locale": "zh_CN",
        "encoding": "gb",
        "site": "大纪元",
        "home": "首页",
        "other_script": "繁体",
        "updated": "更新",
        "dateline": "【大纪元{y}年{m}月{d}日讯】",
        "editor": "责任编辑：",
        "source": "（转自大纪元新闻网）",
        "url": "本文网址",
        "series": "点阅【{}】系列文章",
        "share": "分享到：",
        "share_items": ["Facebook", "Twitter", "微信", "电报", "电邮", "复制链接"],
        "tags": "标签：",
        "hot_news": "热门新闻",
        "related": "相关新闻",
        "hot_topics": "热点：",
        "search": "搜索",
        "search_placeholder": "搜索大纪元",
        "newsletter": "订阅大纪元电子报",
        "subscribe": "订阅",
        "next": "下一页",
        "prev": "上一页",
        "page_n": "第{}页",
        "tag_title": "标签：{}",
        "ad": "广告",
        "nav": [
            ("首页", "/gb/"),
            ("大陆", "/gb/nsc413.htm"),
            ("美国", "/gb/ncid1349362.htm"),
            ("国际", "/gb/nsc418.htm"),
            ("台湾", "/gb/nsc412.htm"),
            ("香港", "/gb/nsc414.htm"),
            ("财经", "/gb/nsc420.htm"),
            ("科技", "/gb/nsc419.htm"),
            ("评论", "/gb/nsc1003.htm"),
            ("视频", "/gb/nsc2007.htm"),
        ],
        "footer": [
            ("关于我们", "/gb/aboutus.htm"),
            ("联系我们", "/gb/contactus.htm"),
            ("广告服务", "/gb/advertise.htm"),
            ("隐私政策", "/gb/privacy.htm"),
            ("使用条款", "/gb/terms.htm"),
        ],
        "rights": "大纪元. All Rights Reserved.",
    },
    "b5": {
        "html_lang": "zh-Hant",
        "og_locale": "zh_TW",
        "encoding": "big5",
        "site": "大紀元",
        "home": "首頁",
        "other_script": "简体",
        "updated": "更新",
        "dateline": "【大紀元{y}年{m}月{d}日訊】",
        "editor": "責任編輯：",
        "source": "（轉自大紀元新聞網）",
        "url": "本文網址",
        "series": "點閱【{}】系列文章",
        "share": "分享到：",
        "share_items": ["Facebook", "Twitter", "微信", "電報", "電郵", "複製鏈接"],
        "tags": "標籤：",
        "hot_news": "熱門新聞",
        "related": "相關新聞",
        "hot_topics": "熱點：",
        "search": "搜索",
        "search_placeholder": "搜索大紀元",
        "newsletter": "訂閱大紀元電子報",
        "subscribe": "訂閱",
        "next": "下一頁",
        "prev": "上一頁",
        "page_n": "第{}頁",
        "tag_title": "標籤：{}",
        "ad": "廣告",
        "nav": [
            ("首頁", "/b5/"),
            ("大陸", "/b5/nsc413.htm"),
            ("美國", "/b5/ncid1349362.htm"),
            ("國際", "/b5/nsc418.htm"),
            ("台灣", "/b5/nsc412.htm"),
            ("香港", "/b5/nsc414.htm"),
            ("財經", "/b5/nsc420.htm"),
            ("科技", "/b5/nsc419.htm"),
            ("評論", "/b5/nsc1003.htm"),
            ("視頻", "/b5/nsc2007.htm"),
        ],
        "footer": [
            ("關於我們", "/b5/aboutus.htm"),
            ("聯繫我們", "/b5/contactus.htm"),
            ("廣告服務", "/b5/advertise.htm"),
            ("隱私政策", "/b5/privacy.htm"),
            ("使用條款", "/b5/terms.htm"),
        ],
        "rights": "大紀元. All Rights Reserved.",
    },
}


def tag_url(name: str, script: str = "gb") -> str:
    return f"{WWW}/{script}/tag/{pct(name)}.html"


def tag_page_url(name: str, n: int, *, raw: bool = False) -> str:
    slug = name if raw else pct(name)
    return f"{WWW}/gb/tag/{slug}.html" if n == 1 else f"{WWW}/gb/tag/{slug}_{n}.html"


def category_page_path(n: int) -> str:
    cid = C.CATEGORY["id"]
    return f"/gb/{cid}.htm" if n == 1 else f"/gb/{cid}_{n}.htm"


# --------------------------------------------------------------------------------------
# the registry of articles
# --------------------------------------------------------------------------------------


class Site:
    def __init__(self) -> None:
        self.articles = C.ARTICLES
        self.by_key = {a["key"]: a for a in self.articles}
        self.misfits = C.MISFITS

    @staticmethod
    def path(art: dict, script: str = "gb") -> str:
        return f"/{script}/{art['date']}/{art['id']}.htm"

    def url(self, art: dict, script: str = "gb") -> str:
        return WWW + self.path(art, script)

    @staticmethod
    def pub(art: dict) -> When:
        return When(art["pub"])

    @staticmethod
    def on_day(art: dict, day: int) -> bool:
        return art.get("day", 1) <= day

    def version(self, art: dict, script: str, day: int) -> dict:
        """The article as shown in one script on one day (the edit applies on day two)."""
        v = dict(art[script])
        v["body"] = list(v["body"])
        v["mod"] = art["mod"]
        if day >= 2 and "edit" in art:
            e = art["edit"]
            v["title"] = e["title"]
            v["body"][e["para"]] = e["text"]
            v["mod"] = e["mod"]
        return v

    def title(self, art: dict, script: str, day: int) -> str:
        return self.version(art, script, day)["title"]

    def visible(self, day: int) -> list[dict]:
        """Articles that exist on that day, newest first."""
        arts = [a for a in self.articles if self.on_day(a, day)]
        return sorted(arts, key=lambda a: (self.pub(a).utc, a["id"]), reverse=True)


# --------------------------------------------------------------------------------------
# body rendering
# --------------------------------------------------------------------------------------

TAG_RE = re.compile(r"\{t:([^}|]+)\}")


def expand(text: str, script: str) -> str:
    """Escape a paragraph and turn {t:NAME} into an inline tag link."""
    out, pos = [], 0
    for m in TAG_RE.finditer(text):
        out.append(esc(text[pos : m.start()]))
        name = m.group(1)
        out.append(f'<a href="{tag_url(name, script)}">{esc(name)}</a>')
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def plain(text: str) -> str:
    return TAG_RE.sub(lambda m: m.group(1), text)


def inline_tags(body: list) -> list[str]:
    names = []
    for block in body:
        if isinstance(block, str):
            names += TAG_RE.findall(block)
    return names


def image_info(art: dict, img: dict, index: int) -> dict:
    """url, caption, credit, attachment id of one figure."""
    if img.get("old"):
        pub = When(art["pub"]).local
        url = f"{UPLOADS}/{pub:%Y/%m}/{img['f']}.jpg"
        aid = int(art["id"][1:]) + 3 + index
    else:
        aid = img.get("aid") or int(art["id"][1:]) + 37 + 11 * index
        path = img.get("path") or f"{When(art['pub']).local:%Y/%m}"
        url = f"{UPLOADS}/{path}/id{aid}-{img['f']}-600x400.jpg"
    return {"url": url, "caption": img["cap"], "credit": img["cr"], "aid": aid, "old": bool(img.get("old"))}


def images_of(art: dict, v: dict) -> list[dict]:
    imgs = [b[1] for b in v["body"] if isinstance(b, tuple) and b[0] == "img"]
    return [image_info(art, img, i) for i, img in enumerate(imgs)]


def figcaption(info: dict) -> str:
    text = info["caption"] + (f"（{info['credit']}）" if info["credit"] else "")
    return esc(text)


def figure_html(info: dict, mode: str) -> str:
    alt = attr(info["caption"].rstrip("。"))
    aid = info["aid"]
    if mode == "feed" or info["old"]:
        img = f'<img class="size-medium wp-image-{aid}" src="{info["url"]}" alt="{alt}" width="600" height="400">'
        if info["old"]:
            img = f'<img src="{info["url"]}" alt="{alt}" border="0">'
    else:
        img = (
            f'<img decoding="async" class="size-medium wp-image-{aid} lazy" src="{GIF}" '
            f'data-src="{info["url"]}" alt="{alt}" width="600" height="400">'
        )
    return (
        f'<figure class="wp-caption aligncenter" id="attachment_{aid}" style="width: 600px">'
        f'{img}<figcaption class="wp-caption-text">{figcaption(info)}</figcaption></figure>'
    )


def ad_block(n: int, script: str = "gb") -> str:
    slot = f"{GPT}-{n}"
    return (
        f'<div class="ad_article_inside"><div class="ad_label">{LABELS[script]["ad"]}</div><div id="{slot}" style="min-height:250px;">'
        f"<script>googletag.cmd.push(function() {{ googletag.display('{slot}'); }});</script></div></div>"
    )


OLD_AD = (
    '<div class="ad_336_280"><script type="text/javascript">google_ad_client = "ca-pub-0000000000000000"; '
    'google_ad_slot = "1234567890"; google_ad_width = 336; google_ad_height = 280;</script>'
    '<script type="text/javascript" src="https://pagead2.googlesyndication.com/pagead/show_ads.js"></script></div>'
)


def share_bar(script: str, url: str, title: str) -> str:
    L = LABELS[script]
    links = []
    targets = [
        f"https://www.facebook.com/sharer/sharer.php?u={pct(url)}",
        f"https://twitter.com/intent/tweet?url={pct(url)}&amp;text={pct(title)}",
        "#wechat-qr",
        f"https://t.me/share/url?url={pct(url)}",
        f"mailto:?subject={pct(title)}&amp;body={pct(url)}",
        "#copy-link",
    ]
    for label, href in zip(L["share_items"], targets, strict=True):
        links.append(f'<a class="share-btn" href="{href}" rel="nofollow" target="_blank">{label}</a>')
    return f'<div class="share-bar"><span class="share-label">{L["share"]}</span>{"".join(links)}</div>'


def dateline_of(art: dict, script: str) -> str:
    if art.get("dateline") is False:
        return ""
    if isinstance(art.get("dateline"), str):
        text = art["dateline"]
        return text if script == "gb" else text.replace("大纪元", "大紀元").replace("讯", "訊")
    d = When(art["pub"]).local
    return LABELS[script]["dateline"].format(y=d.year, m=d.month, d=d.day)


def first_paragraph_text(art: dict, v: dict, script: str) -> str:
    first = v["body"][0]
    assert isinstance(first, str) and "{t:" not in first, art["key"]
    return dateline_of(art, script) + (v["byline"] or "") + first


def trailer_html(art: dict, v: dict, script: str, url: str) -> tuple[list[str], dict]:
    """The trailer paragraphs, and what the parser must do with them."""
    L = LABELS[script]
    out: list[str] = []
    info = {"editor": None, "drop": [], "keep": []}
    for t in v["trailer"]:
        kind = t[0]
        if kind == "editor":
            out.append(f"<p>{L['editor']}{t[1]} #</p>")
            info["editor"] = t[1]
        elif kind == "editor_sp":
            out.append(f"<p>{L['editor']}{t[1]}  #</p>")
            info["editor"] = t[1]
        elif kind == "editor_plain":
            out.append(f"<p>{L['editor']}{t[1]}</p>")
            info["editor"] = t[1]
        elif kind == "hash":
            out.append("<p>#</p>")
        elif kind == "src":
            out.append(f"<p>{L['source']}</p>")
            info["keep"].append(L["source"])
        elif kind == "url":
            out.append(f"<p>{L['url']}: {url}</p>")
            info["drop"].append(L["url"])
        elif kind == "series":
            name, ncid = t[1], t[2]
            pre, post = L["series"].split("{}")
            out.append(f'<p>{pre}<a href="{WWW}/{script}/{ncid}.htm">{esc(name)}</a>{post}</p>')
            # the name is a link: the Markdown line reads 点阅【[name](…)】系列文章
            info["drop"] += [pre, post]
    if info["editor"]:
        info["drop"].append(L["editor"])
    return out, info


def body_html(site: Site, art: dict, v: dict, script: str, url: str, mode: str) -> tuple[str, dict]:
    """mode: "page" (lazy images, ads, share bar), "old" (B pages) or "feed"."""
    parts: list[str] = []
    infos = images_of(art, v)
    img_i = 0
    para_n = 0
    for i, block in enumerate(v["body"]):
        if isinstance(block, str):
            text = first_paragraph_text(art, v, script) if i == 0 else block
            parts.append(f"<p>{expand(text, script)}</p>")
            para_n += 1
            if para_n == 2 and mode == "page":
                parts.append(ad_block(2, script))
            if para_n == 2 and mode == "old":
                parts.append(OLD_AD)
        elif block[0] == "h2":
            parts.append(f"<h2>{esc(block[1])}</h2>")
        elif block[0] == "img":
            parts.append(figure_html(infos[img_i], mode))
            img_i += 1
    if mode == "page":
        parts.append(share_bar(script, url, v["title"]))
    trailer, info = trailer_html(art, v, script, url)
    parts += trailer
    info["images"] = infos
    return "\n".join(parts), info


def excerpt_of(v: dict, n: int = 46) -> str:
    text = plain(v["body"][0])
    return text[:n] + "…" if len(text) > n else text


def description_of(v: dict) -> str:
    text = plain(v["body"][0])
    end = text.find("。")
    return text[: end + 1] if end >= 0 else text


def thumb_of(art: dict, v: dict) -> str:
    infos = images_of(art, v)
    if not infos:
        return f"{THEME}/images/default_thumb.jpg"
    return infos[0]["url"].replace("-600x400.jpg", "-200x133.jpg")


# --------------------------------------------------------------------------------------
# page chrome
# --------------------------------------------------------------------------------------


def website_jsonld(script: str) -> str:
    L = LABELS[script]
    data = {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": L["site"],
        "url": f"{WWW}/{script}/",
        "potentialAction": {
            "@type": "SearchAction",
            "target": f"{WWW}/{script}/search/?q={{search_term_string}}",
            "query-input": "required name=search_term_string",
        },
    }
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def ad_head(script: str, kind: str) -> str:
    slots = [
        (f"/2198174/et_{script}_{kind}_top", "[728, 90]", 0),
        (f"/2198174/et_{script}_{kind}_inside", "[300, 250]", 2),
        (f"/2198174/et_{script}_{kind}_side", "[300, 600]", 3),
    ]
    defs = " ".join(
        f"googletag.defineSlot('{path}', {size}, '{GPT}-{n}').addService(googletag.pubads());"
        for path, size, n in slots
    )
    return "\n".join(
        [
            '<script async src="https://securepubads.g.doubleclick.net/tag/js/gpt.js"></script>',
            "<script>window.googletag = window.googletag || {cmd: []}; googletag.cmd.push(function() { "
            + defs
            + " googletag.pubads().enableLazyLoad(); googletag.pubads().collapseEmptyDivs(); googletag.enableServices(); });</script>",
            f'<script async src="https://www.googletagmanager.com/gtag/js?id={GA_ID}"></script>',
            "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} "
            f"gtag('js', new Date()); gtag('config', '{GA_ID}', {{'content_group': '{kind}'}});</script>",
        ]
    )


def head(
    script: str,
    *,
    title: str | None,
    kind: str,
    canonical: str,
    metas: list[str],
    jsonld: list[str],
    html_lang: str | None = None,
    extra_script: str = "",
) -> str:
    L = LABELS[script]
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{html_lang or L["html_lang"]}" prefix="og: https://ogp.me/ns#">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta http-equiv="X-UA-Compatible" content="IE=edge">',
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
    ]
    if title is not None:
        lines.append(f"<title>{esc(title)}</title>")
    lines += [
        '<meta name="robots" content="index, follow, max-image-preview:large, max-snippet:-1">',
        f'<link rel="canonical" href="{canonical}">',
        *metas,
        f'<link rel="stylesheet" id="atmobile-style-css" href="{THEME}/css/style.min.css?ver=20230302" type="text/css" media="all">',
        f'<link rel="stylesheet" id="foundation-css" href="{THEME}/css/foundation.min.css?ver=6.4.3" type="text/css" media="all">',
        f'<link rel="icon" href="{THEME}/images/favicon.ico" sizes="32x32">',
        f'<link rel="apple-touch-icon" href="{THEME}/images/apple-touch-icon.png">',
        f'<script>var encoding = "{L["encoding"]}";</script>',
        extra_script,
        ad_head(script, kind),
        website_jsonld(script) if jsonld is not None else "",
        *(jsonld or []),
        "</head>",
    ]
    return "\n".join(line for line in lines if line)


def header_html(script: str) -> str:
    L = LABELS[script]
    nav = "".join(f'<li class="menu-item"><a href="{WWW}{path}">{text}</a></li>' for text, path in L["nav"])
    hot = " ".join(f'<a href="{tag_url(t, script)}">{t}</a>' for t in C.HOT_TOPICS[script])
    other = "b5" if script == "gb" else "gb"
    return "\n".join(
        [
            f'<div class="top_ad" id="top_ad"><div id="{GPT}-0" style="min-height:90px;"><script>googletag.cmd.push(function() {{ googletag.display(\'{GPT}-0\'); }});</script></div></div>',
            '<header id="header" class="site-header">',
            '<div class="header_top row">',
            f'<div class="logo columns"><a href="{WWW}/{script}/" title="{L["site"]}"><img src="{THEME}/images/logo_{script}.svg" alt="{L["site"]}" width="220" height="60"></a></div>',
            f'<div class="header_links columns"><a href="{WWW}/{script}/">{"简体" if script == "gb" else "繁體"}</a> | <a href="{WWW}/{other}/">{"繁體" if script == "gb" else "简体"}</a></div>',
            f'<form class="search_form columns" action="{WWW}/{script}/search/" method="get" role="search"><input type="text" name="q" placeholder="{L["search_placeholder"]}"><button type="submit">{L["search"]}</button></form>',
            "</div>",
            f'<nav id="nav" class="main_nav"><ul class="menu">{nav}</ul></nav>',
            f'<div class="hot_topics"><span class="hot_label">{L["hot_topics"]}</span>{hot}</div>',
            "</header>",
        ]
    )


def footer_html(script: str, year: int) -> str:
    L = LABELS[script]
    links = " | ".join(f'<a href="{WWW}{path}">{text}</a>' for text, path in L["footer"])
    return "\n".join(
        [
            '<footer id="footer" class="site-footer">',
            f'<div class="footer_links">{links}</div>',
            f'<div class="copyright">© 2000-{year} {L["rights"]}</div>',
            "</footer>",
            f'<script src="{THEME}/js/jquery-3.6.0.min.js"></script>',
            f'<script src="{THEME}/js/foundation.min.js?ver=6.4.3"></script>',
            f'<script src="{THEME}/js/lazyload.min.js?ver=17.8.3"></script>',
            '<script>document.addEventListener("DOMContentLoaded", function () { new LazyLoad({ elements_selector: "img.lazy, img[data-src]" }); });</script>',
            f'<script src="{THEME}/js/main.min.js?ver=20230302"></script>',
            "</body>",
            "</html>",
            "",
        ]
    )


def breadcrumbs_html(cat: str, script: str) -> str:
    L = LABELS[script]
    parts = [f'<a class="breadcrumbs" href="{WWW}/{script}/">{L["home"]}</a>']
    for text, cid in C.CATEGORIES[cat][script]:
        parts.append(f'<a class="breadcrumbs" href="{WWW}/{script}/{cid}.htm">{text}</a>')
    return f'<div id="breadcrumbs">{" &gt; ".join(parts)}</div>'


def category_name(cat: str, script: str) -> str:
    return C.CATEGORIES[cat][script][-1][0]


def sidebar_html(site: Site, script: str, day: int, seed: str, exclude: set[str]) -> tuple[str, list[str]]:
    """The "热门新闻" box: links to other articles (never part of a listing or body)."""
    L = LABELS[script]
    if script == "gb":
        pool = [a for a in site.visible(day) if a["id"] not in exclude][:14]
    else:
        pool = [a for a in site.visible(day) if "b5" in a and a["id"] not in exclude]
    start = _pick(seed, len(pool))
    chosen = (pool[start:] + pool[:start])[: min(6, len(pool))]
    items = "".join(
        f'<li><a href="{site.url(a, script)}">{esc(site.title(a, script, day))}</a></li>' for a in chosen
    )
    titles = [site.title(a, script, day) for a in chosen]
    box = "\n".join(
        [
            '<aside id="sidebar" class="large-4 medium-4 small-12 columns">',
            f'<div class="widget hot_news"><h3 class="widget_title">{L["hot_news"]}</h3><ol class="hot_list">{items}</ol></div>',
            f'<div class="widget ad_sidebar"><div id="{GPT}-3" style="min-height:600px;"><script>googletag.cmd.push(function() {{ googletag.display(\'{GPT}-3\'); }});</script></div></div>',
            f'<div class="widget newsletter"><h3 class="widget_title">{L["newsletter"]}</h3><form action="{WWW}/{script}/newsletter/" method="post"><input type="email" name="email" placeholder="Email"><button type="submit">{L["subscribe"]}</button></form></div>',
            "</aside>",
        ]
    )
    return box, titles


def related_html(site: Site, art: dict, script: str, day: int) -> tuple[str, list[str]]:
    L = LABELS[script]
    if script == "gb":
        mine = set(art["gb"]["tags"])
        pool = [a for a in site.visible(day) if a is not art]
        # most shared tags first, then the newest
        pool.sort(key=lambda a: -len(mine & set(a["gb"]["tags"])))
    else:
        pool = [a for a in site.visible(day) if a is not art and "b5" in a]
    chosen = pool[:3]
    items = "".join(
        f'<li><a href="{site.url(a, script)}">{esc(site.title(a, script, day))}</a></li>' for a in chosen
    )
    box = f'<div class="related_posts"><h3 class="related_title">{L["related"]}</h3><ul>{items}</ul></div>'
    return box, [site.title(a, script, day) for a in chosen]


# --------------------------------------------------------------------------------------
# article pages
# --------------------------------------------------------------------------------------


def render_article(site: Site, art: dict, script: str, day: int) -> tuple[str, dict]:
    L = LABELS[script]
    v = site.version(art, script, day)
    variant = art["variant"]
    url = site.url(art, script)
    other = "b5" if script == "gb" else "gb"
    pub = When(art["pub"])
    mod = When(v["mod"]) if v["mod"] else None
    title = v["title"]
    category = category_name(art["cat"], script)
    mode = "old" if variant == "B" else "page"
    body, info = body_html(site, art, v, script, url, mode)
    images = info["images"]
    description = description_of(v)
    year = pub.local.year if variant == "B" else int(C.DAY_ONE[:4])

    metas = [
        f'<meta name="description" content="{attr(description)}">',
        f'<meta property="og:locale" content="{L["og_locale"]}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:site_name" content="{L["site"]}">',
        f'<meta property="og:title" content="{attr(title)}">',
        f'<meta property="og:description" content="{attr(description)}">',
        f'<meta property="og:url" content="{url}">',
    ]
    if images:
        metas += [
            f'<meta property="og:image" content="{images[0]["url"]}">',
            '<meta property="og:image:width" content="600">',
            '<meta property="og:image:height" content="400">',
        ]
    if variant != "B":
        metas.insert(1, f'<link rel="alternate" hreflang="{L["html_lang"]}" href="{url}">')
        metas.insert(
            2,
            f'<link rel="alternate" hreflang="{LABELS[other]["html_lang"]}" href="{site.url(art, other)}">',
        )
        metas.append(f'<meta property="article:section" content="{category}">')
    if variant == "A":
        metas.append(f'<meta property="article:published_time" content="{pub.iso()}">')
        metas.append(f'<meta property="article:modified_time" content="{(mod or pub).iso()}">')
    metas += [
        '<meta name="twitter:card" content="summary_large_image">',
        f'<meta name="twitter:title" content="{attr(title)}">',
    ]

    jsonld: list[str] | None = None
    if variant in ("A", "C"):
        ld: dict = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": url},
            "headline": title,
            "description": description,
        }
        if images:
            ld["image"] = {"@type": "ImageObject", "url": images[0]["url"], "width": 600, "height": 400}
        if variant == "A":
            ld["datePublished"] = pub.iso()
            ld["dateModified"] = (mod or pub).iso()
        else:
            ld["datePublished"] = pub.z()
            if art.get("jsonld_modified", True):
                ld["dateModified"] = (mod or pub).z()
        ld["author"] = {"@type": "Organization", "name": L["site"], "url": f"{WWW}/{script}/"}
        ld["publisher"] = {
            "@type": "Organization",
            "name": L["site"],
            "logo": {
                "@type": "ImageObject",
                "url": f"{THEME}/images/logo_{script}_600x60.png",
                "width": 600,
                "height": 60,
            },
        }
        ld["articleSection"] = category
        ld["inLanguage"] = L["html_lang"]
        jsonld = [
            f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False, indent=1)}</script>'
        ]

    page_title = title + art.get("title_suffix", " | " + L["site"])
    post_var = f'<script>var et_post = {{"id": "{art["id"]}", "type": "post", "section": "{C.CATEGORIES[art["cat"]][script][-1][1]}"}};</script>'
    out = [
        head(
            script,
            title=page_title,
            kind="article",
            canonical=url,
            metas=metas,
            jsonld=jsonld,
            html_lang=art.get("html_lang"),
            extra_script=post_var,
        ),
        f'<body class="post-template-default single single-post postid-{art["id"][1:]} single-format-standard {script}">',
        '<div id="fb-root"></div>',
        header_html(script),
        '<div id="main" class="row">',
        breadcrumbs_html(art["cat"], script),
        '<div id="main_content" class="large-8 medium-8 small-12 columns">',
        f'<article id="post-{art["id"][1:]}" class="post type-post status-publish">',
    ]
    other_link = f'<a href="{site.path(art, other)}" class="other_script">{L["other_script"]}</a>'
    if variant == "A":
        out.append(
            f'<div class="arttop arttop2"><h1 class="title">{esc(title)}</h1>'
            f'<div class="mbottom10 large-12 medium-12 small-12 columns">'
            f'<time datetime="{pub.iso()}">{L["updated"]}: {pub.shown()}</time> '
            f'<span class="author-area"></span> {other_link}</div></div>'
        )
    elif variant == "C":
        out.append(
            f'<div class="arttop"><h1>\n  {esc(title)}\n</h1>'
            f'<div class="mbottom10 art_meta"><span class="publish_date">{L["updated"]}: {pub.shown()}</span> {other_link}</div></div>'
        )
    else:
        out.append(f'<div id="artContent" class="art_content"><h1 class="blue18 title">{esc(title)}</h1>')
        out.append(f'<div class="art_info">{L["updated"]}: {pub.shown_old()}</div>')
        out.append(
            f'<div class="fontsize_bar">{other_link} | <a href="javascript:fontZoom(16)">大</a> '
            '<a href="javascript:fontZoom(14)">中</a> <a href="javascript:fontZoom(12)">小</a></div>'
        )
    out.append('<div id="artbody" itemprop="articleBody">')
    out.append(body)
    out.append("</div>")
    if variant == "B":
        out.append(share_bar(script, url, title))
    tag_links = " ".join(f'<a href="{tag_url(t, script)}" rel="tag">{esc(t)}</a>' for t in v["tags"])
    out.append(f'<div class="post_tags" id="tags">{L["tags"]}{tag_links}</div>')
    if variant == "B":
        out.append("</div>")
    out.append("</article>")
    related, related_titles = related_html(site, art, script, day)
    out.append(related)
    out.append("</div>")
    sidebar, hot_titles = sidebar_html(site, script, day, art["id"] + script, {art["id"]})
    out.append(sidebar)
    out.append("</div>")
    out.append(footer_html(script, year))
    page = "\n".join(out)

    # -- what a correct parser extracts ------------------------------------------------
    tags = list(dict.fromkeys(inline_tags(v["body"]) + v["tags"]))
    must_not = ["分享到", "googletag", GPT, L["ad"]] if mode == "page" else ["分享到", "google_ad_client"]
    must_not += info["drop"]
    must_not += [t for t in related_titles[:1] + hot_titles[:1] if t != title]
    must = list(info["keep"])
    paragraphs = [b for b in v["body"] if isinstance(b, str)]
    last = paragraphs[-1]
    lead_plain = last.split("{", 1)[0]
    if len(paragraphs) > 1 and len(lead_plain) >= 10:
        must.append(lead_plain[:16])
    expected = {
        "url": url,
        "id": art["id"],
        "title": title,
        "published": pub.z(),
        "updated": mod.z() if mod and mod.utc > pub.utc and variant != "B" else None,
        "authors": list(v["authors"]),
        "editor": info["editor"],
        "tags": tags,
        "category": category,
        "lang": L["html_lang"],
        "images": [{"url": i["url"], "caption": i["caption"], "credit": i["credit"]} for i in images],
        "body_first_paragraph": first_paragraph_text(art, v, script),
        "body_must_not_contain": list(dict.fromkeys(must_not)),
        "body_must_contain": must,
        "body_headings": [b[1] for b in v["body"] if isinstance(b, tuple) and b[0] == "h2"],
        "variant": variant,
        "byline": v["byline"],
    }
    return page, expected


# --------------------------------------------------------------------------------------
# misfits: pages at article URLs that are no articles
# --------------------------------------------------------------------------------------


def render_misfit(site: Site, m: dict) -> str:
    script = "gb"
    L = LABELS[script]
    url = WWW + f"/gb/{m['date']}/{m['id']}.htm"
    pub = When(m["pub"])
    sidebar, _ = sidebar_html(site, script, 1, m["id"], {m["id"]})
    if m["kind"] == "video":
        metas = [
            f'<meta name="description" content="{attr(m["excerpt"])}">',
            '<meta property="og:type" content="video.other">',
            f'<meta property="og:site_name" content="{L["site"]}">',
            f'<meta property="og:title" content="{attr(m["title"])}">',
            f'<meta property="og:url" content="{url}">',
            f'<meta property="og:image" content="{m["thumb"].replace("-200x133", "-600x400")}">',
        ]
        main = "\n".join(
            [
                '<div class="video_page">',
                '<div class="video-container">',
                f'<iframe src="{WWW}/gb/video/embed/{m["id"]}" width="640" height="360" frameborder="0" allow="autoplay; fullscreen" allowfullscreen title="video player"></iframe>',
                "</div>",
                f'<div class="video_info"><span class="video_title">{esc(m["title"])}</span> <span class="video_date">{pub.day()}</span>',
                f'<div class="video_desc">{esc(m["excerpt"])}</div></div>',
                share_bar(script, url, m["title"]),
                "</div>",
            ]
        )
        page_head = head(
            script, title=m["title"] + " | " + L["site"], kind="video", canonical=url, metas=metas, jsonld=[]
        )
    else:
        metas = [f'<meta property="og:url" content="{url}">', '<meta property="og:type" content="article">']
        main = "\n".join(
            [
                f'<article id="post-{m["id"][1:]}" class="post type-post status-publish">',
                f'<div class="arttop arttop2"><div class="mbottom10 large-12 medium-12 small-12 columns"><time datetime="{pub.iso()}">{L["updated"]}: {pub.shown()}</time> <span class="author-area"></span></div></div>',
                '<div id="artbody" itemprop="articleBody">',
                ad_block(2),
                "</div>",
                f'<div class="post_tags" id="tags">{L["tags"]}</div>',
                "</article>",
            ]
        )
        page_head = head(script, title=None, kind="article", canonical=url, metas=metas, jsonld=None)
    return "\n".join(
        [
            page_head,
            f'<body class="single {script}">',
            header_html(script),
            '<div id="main" class="row">',
            breadcrumbs_html(m["cat"], script),
            '<div id="main_content" class="large-8 medium-8 small-12 columns">',
            main,
            "</div>",
            sidebar,
            "</div>",
            footer_html(script, 2023),
        ]
    )


# --------------------------------------------------------------------------------------
# listings
# --------------------------------------------------------------------------------------


def entry(site: Site, art: dict, day: int, script: str = "gb") -> dict:
    v = site.version(art, script, day)
    return {
        "url": site.url(art, script),
        "title": v["title"],
        "excerpt": excerpt_of(v),
        "thumb": thumb_of(art, v),
        "date": When(art["pub"]).day(),
        "sort": (When(art["pub"]).utc, art["id"]),
    }


def misfit_entry(m: dict) -> dict:
    return {
        "url": WWW + f"/gb/{m['date']}/{m['id']}.htm",
        "title": m["title"],
        "excerpt": m["excerpt"],
        "thumb": m["thumb"] or f"{THEME}/images/default_thumb.jpg",
        "date": When(m["pub"]).day(),
        "sort": (When(m["pub"]).utc, m["id"]),
    }


def tag_entries(site: Site, tag: str, day: int) -> list[dict]:
    out = []
    for art in site.articles:
        if site.on_day(art, day) and tag in art["gb"]["tags"]:
            script = "b5" if art.get("tag_b5") == tag else "gb"
            out.append(entry(site, art, day, script))
    out += [misfit_entry(m) for m in site.misfits if m["listed_on"] == tag]
    return sorted(out, key=lambda e: e["sort"], reverse=True)


def category_entries(site: Site, day: int) -> list[dict]:
    arts = [a for a in site.articles if site.on_day(a, day) and a["cat"] == C.CATEGORY["key"]]
    return sorted((entry(site, a, day) for a in arts), key=lambda e: e["sort"], reverse=True)


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def pagination_html(current: int, total: int, href) -> str:
    L = LABELS["gb"]
    parts = []
    if current > 1:
        parts.append(f'<a class="prev page-numbers" href="{href(current - 1)}">{L["prev"]}</a>')
    for n in range(1, total + 1):
        if n == current:
            parts.append(f'<span aria-current="page" class="page-numbers current">{n}</span>')
        else:
            parts.append(f'<a class="page-numbers" href="{href(n)}">{n}</a>')
    if current < total:
        parts.append(f'<a class="next page-numbers" href="{href(current + 1)}">{L["next"]}</a>')
    return f'<div class="pagination">{"".join(parts)}</div>'


def thumb_img(e: dict) -> str:
    return f'<img class="lazy" src="{GIF}" data-src="{e["thumb"]}" alt="{attr(e["title"])}" width="200" height="133">'


def listing_page(site: Site, *, title: str, canonical: str, main: str, day: int, seed: str, kind: str) -> str:
    script = "gb"
    L = LABELS[script]
    metas = [
        f'<meta name="description" content="{attr(title)}">',
        f'<meta property="og:locale" content="{L["og_locale"]}">',
        '<meta property="og:type" content="website">',
        f'<meta property="og:site_name" content="{L["site"]}">',
        f'<meta property="og:title" content="{attr(title)}">',
        f'<meta property="og:url" content="{canonical}">',
    ]
    sidebar, _ = sidebar_html(site, script, day, seed, set())
    return "\n".join(
        [
            head(script, title=title, kind=kind, canonical=canonical, metas=metas, jsonld=[]),
            f'<body class="archive {kind} {script}">',
            header_html(script),
            '<div id="main" class="row">',
            main,
            sidebar,
            "</div>",
            footer_html(script, 2023),
        ]
    )


def render_tag_page(site: Site, tag: str, n: int, pages: list[list[dict]], day: int) -> str:
    L = LABELS["gb"]
    items = []
    for e in pages[n - 1]:
        items.append(
            f'<li><a href="{e["url"]}" class="title">{esc(e["title"])}</a>'
            f'<div class="excerpt">{esc(e["excerpt"])}</div>'
            f'<a href="{e["url"]}" class="img">{thumb_img(e)}</a>'
            f"<time>{e['date']}</time></li>"
        )
    main = "\n".join(
        [
            '<div class="main_content large-8 medium-8 small-12 columns">',
            f'<h1 class="tag-title">{L["tag_title"].format(esc(tag))}</h1>',
            '<ul class="posts_list">',
            *items,
            "</ul>",
            pagination_html(n, len(pages), lambda k: tag_page_url(tag, k)),
            "</div>",
        ]
    )
    title = tag + (f" | {L['page_n'].format(n)}" if n > 1 else "") + " | " + L["site"]
    return listing_page(
        site, title=title, canonical=tag_page_url(tag, n), main=main, day=day, seed=f"{tag}{n}", kind="tag"
    )


def render_category_page(site: Site, n: int, pages: list[list[dict]], day: int) -> str:
    L = LABELS["gb"]
    name = C.CATEGORY["name"]
    entries = pages[n - 1]
    pager = pagination_html(n, len(pages), category_page_path)
    if n == 1:
        top, rest = entries[0], entries[1:]
        posts = [
            f'<div class="one_post"><div class="title"><a href="{e["url"]}">{esc(e["title"])}</a></div>'
            f'<div class="img"><a href="{e["url"]}">{thumb_img(e)}</a></div>'
            f'<div class="excerpt">{esc(e["excerpt"])}</div><time>{e["date"]}</time></div>'
            for e in rest
        ]
        main = "\n".join(
            [
                '<div id="newscontent" class="large-8 medium-8 small-12 columns">',
                f'<div class="cat_title"><h1>{name}</h1></div>',
                f'<div class="toppost"><a class="title" href="{top["url"]}">{esc(top["title"])}</a>'
                f'<a class="img" href="{top["url"]}"><img src="{top["thumb"].replace("-200x133", "-600x400")}" alt="{attr(top["title"])}"></a>'
                f'<div class="excerpt">{esc(top["excerpt"])}</div><time>{top["date"]}</time></div>',
                f'<div class="ad_list">{ad_block(2)}</div>',
                '<div class="column_list">',
                *posts,
                "</div>",
                pager,
                "</div>",
            ]
        )
    else:
        posts = [
            f'<div class="one_post"><div class="img"><a href="{e["url"]}">{thumb_img(e)}</a></div>'
            f'<div class="text"><div class="title"><a href="{e["url"]}">{esc(e["title"])}</a></div>'
            f'<div class="excerpt">{esc(e["excerpt"])}</div><time>{e["date"]}</time></div></div>'
            for e in entries
        ]
        main = "\n".join(
            [
                '<div id="newscontent" class="large-8 medium-8 small-12 columns">',
                f'<div class="cat_title"><h1>{name}</h1></div>',
                '<div class="posts_list">',
                *posts,
                "</div>",
                pager,
                "</div>",
            ]
        )
    title = name + (f" | {L['page_n'].format(n)}" if n > 1 else "") + " | " + L["site"]
    return listing_page(
        site,
        title=title,
        canonical=WWW + category_page_path(n),
        main=main,
        day=day,
        seed=f"cat{n}",
        kind="category",
    )


# --------------------------------------------------------------------------------------
# the full-text feed
# --------------------------------------------------------------------------------------


def feed_items(site: Site, day: int) -> list[tuple[dict, str]]:
    arts = [a for a in site.visible(day) if a["cat"] == C.CATEGORY["key"]]
    arts = arts[: 10 if day == 1 else 12]
    return [(a, "b5" if a.get("feed_b5") else "gb") for a in arts]


def render_feed(site: Site, day: int) -> tuple[str, list[str]]:
    items = feed_items(site, day)
    build_time = When(C.DAY_ONE if day == 1 else C.DAY_TWO)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">',
        "<channel>",
        f"<title>{C.CATEGORY['name']} - 大纪元</title>",
        f'<atom:link href="{FEED_URL}" rel="self" type="application/rss+xml" />',
        f"<link>{WWW}/gb/nsc413.htm</link>",
        "<description>大纪元 大陆新闻 全文</description>",
        f"<lastBuildDate>{build_time.rfc822()}</lastBuildDate>",
        "<language>zh-CN</language>",
        "<sy:updatePeriod>hourly</sy:updatePeriod>",
        "<sy:updateFrequency>1</sy:updateFrequency>",
        "<generator>https://wordpress.org/?v=6.1.1</generator>",
        "<image>",
        f"<url>{THEME}/images/logo_gb_144.png</url>",
        f"<title>{C.CATEGORY['name']} - 大纪元</title>",
        f"<link>{WWW}/gb/nsc413.htm</link>",
        "<width>144</width>",
        "<height>144</height>",
        "</image>",
    ]
    urls = []
    for art, script in items:
        v = site.version(art, script, day)
        url = site.url(art, script)
        urls.append(url)
        body, _ = body_html(site, art, v, script, url, "feed")
        assert "]]>" not in body
        when = When(art.get("feed_pubdate") or art["pub"])
        out += [
            "<item>",
            f"<title>{esc(v['title'])}</title>",
            f"<link>{url}</link>",
            f'<guid isPermaLink="true">{url}</guid>',
            f"<pubDate>{when.rfc822()}</pubDate>",
            f"<dc:creator><![CDATA[{LABELS[script]['site']}]]></dc:creator>",
            f"<category><![CDATA[{category_name(art['cat'], script)}]]></category>",
            f"<description><![CDATA[{dateline_of(art, script)}{v['byline'] or ''}{description_of(v)}]]></description>",
            f"<content:encoded><![CDATA[{body}]]></content:encoded>",
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out), urls


# --------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------


class MirrorDir:
    def __init__(self, path: Path):
        self.path = path
        self.pages = path / "pages"
        self.pages.mkdir(parents=True, exist_ok=True)
        for old in self.pages.glob("*.html"):
            old.unlink()
        self.manifest: dict[str, dict] = {}

    def page(self, url: str, name: str, content: str) -> str:
        (self.pages / name).write_text(content, encoding="utf-8")
        self.manifest[url] = {"file": f"pages/{name}", "content_type": HTML_TYPE}
        return f"pages/{name}"

    def file(self, url: str, name: str, content: str, content_type: str) -> None:
        (self.path / name).write_text(content, encoding="utf-8")
        self.manifest[url] = {"file": name, "content_type": content_type}

    def write_manifest(self) -> None:
        (self.path / "manifest.json").write_text(
            json.dumps(self.manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


def article_file(art: dict, script: str) -> str:
    return f"{art['id']}-{script}.html"


def build(out_dir: Path) -> None:
    out_dir = Path(out_dir)
    site = Site()
    one = MirrorDir(out_dir / "epochtimes")
    two = MirrorDir(out_dir / "epochtimes-day2")
    expected: dict[str, object] = {}

    # ---- day one ----------------------------------------------------------------------
    twins = []
    for art in site.articles:
        if not site.on_day(art, 1):
            continue
        for script in ("gb", "b5"):
            if script not in art:
                continue
            page, exp = render_article(site, art, script, 1)
            expected[one.page(site.url(art, script), article_file(art, script), page)] = exp
        if "b5" in art:
            twins.append([site.url(art, "gb"), site.url(art, "b5")])
    misfits = []
    for m in site.misfits:
        url = WWW + f"/gb/{m['date']}/{m['id']}.htm"
        file = one.page(url, f"{m['id']}-gb.html", render_misfit(site, m))
        misfits.append({"file": file, "url": url, "kind": m["kind"], "reason": m["why"]})

    listings: dict[int, dict[str, list[list[dict]]]] = {}
    for day in (1, 2):
        listings[day] = {tag: chunks(tag_entries(site, tag, day), C.TAGS_PER_PAGE) for tag in C.TAG_LISTINGS}
        listings[day]["\0category"] = chunks(category_entries(site, day), C.CATEGORY["per_page"])

    for tag, slug in C.TAG_LISTINGS.items():
        pages = listings[1][tag]
        for n in range(1, len(pages) + 1):
            one.page(
                tag_page_url(tag, n, raw=True),
                f"tag-{slug}-{n}.html",
                render_tag_page(site, tag, n, pages, 1),
            )
    cat_pages = listings[1]["\0category"]
    for n in range(1, len(cat_pages) + 1):
        one.page(WWW + category_page_path(n), f"nsc413-{n}.html", render_category_page(site, n, cat_pages, 1))
    feed, feed_urls = render_feed(site, 1)
    one.file(FEED_URL, "nsc413.xml", feed, RSS_TYPE)
    one.file(f"{WWW}/robots.txt", "robots.txt", ROBOTS, TEXT_TYPE)
    for name in ("style.min.css", "foundation.min.css"):  # the theme's stylesheets every page links
        one.file(f"{THEME}/css/{name}", "style.css", STYLESHEET, CSS_TYPE)

    # ---- day two: only what is new or changed ----------------------------------------
    day2_expected: dict[str, dict] = {}
    new_urls = []
    edited = None
    for art in site.articles:
        if art.get("day") == 2:
            page, exp = render_article(site, art, "gb", 2)
            day2_expected[two.page(site.url(art), article_file(art, "gb"), page)] = exp
            new_urls.append(site.url(art))
        elif "edit" in art:
            page, exp = render_article(site, art, "gb", 2)
            day2_expected[two.page(site.url(art), article_file(art, "gb"), page)] = exp
            edited = {
                "url": site.url(art),
                "id": art["id"],
                "title_day1": art["gb"]["title"],
                "title_day2": art["edit"]["title"],
                "changed_paragraph_day1": art["gb"]["body"][art["edit"]["para"]],
                "changed_paragraph_day2": art["edit"]["text"],
            }

    def changed(day1_pages: list[list[dict]], day2_pages: list[list[dict]], n: int) -> bool:
        if n > len(day1_pages):
            return True
        key = lambda page: [(e["url"], e["title"]) for e in page]  # noqa: E731
        return key(day1_pages[n - 1]) != key(day2_pages[n - 1]) or len(day1_pages) != len(day2_pages)

    for tag, slug in C.TAG_LISTINGS.items():
        pages = listings[2][tag]
        for n in range(1, len(pages) + 1):
            if changed(listings[1][tag], pages, n):
                two.page(
                    tag_page_url(tag, n, raw=True),
                    f"tag-{slug}-{n}.html",
                    render_tag_page(site, tag, n, pages, 2),
                )
    cat2 = listings[2]["\0category"]
    for n in range(1, len(cat2) + 1):
        if changed(cat_pages, cat2, n):
            two.page(WWW + category_page_path(n), f"nsc413-{n}.html", render_category_page(site, n, cat2, 2))
    feed2, feed2_urls = render_feed(site, 2)
    two.file(FEED_URL, "nsc413.xml", feed2, RSS_TYPE)

    # ---- expected.json ---------------------------------------------------------------
    def urls_of(pages: list[list[dict]]) -> list[list[str]]:
        return [[e["url"] for e in page] for page in pages]

    expected["misfits"] = misfits
    expected["twins"] = twins
    expected["tags"] = {f"day{d}": {tag: urls_of(listings[d][tag]) for tag in C.TAG_LISTINGS} for d in (1, 2)}
    expected["tag_pages"] = {
        f"day{d}": {
            tag: [tag_page_url(tag, n, raw=True) for n in range(1, len(listings[d][tag]) + 1)]
            for tag in C.TAG_LISTINGS
        }
        for d in (1, 2)
    }
    expected["category"] = {
        "name": C.CATEGORY["name"],
        "pages": {
            f"day{d}": [WWW + category_page_path(n) for n in range(1, len(listings[d]["\0category"]) + 1)]
            for d in (1, 2)
        },
        **{f"day{d}": urls_of(listings[d]["\0category"]) for d in (1, 2)},
    }
    expected["feed"] = feed_urls
    new_urls.sort(
        key=lambda u: [e["url"] for page in listings[2][next(iter(C.TAG_LISTINGS))] for e in page].index(u)
    )
    expected["day2"] = {
        "new": new_urls,
        "edited": edited,
        "feed": feed2_urls,
        "routes": sorted(two.manifest),
        "expected": day2_expected,
    }
    one.write_manifest()
    two.write_manifest()
    (one.path / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="directory that receives epochtimes/ and epochtimes-day2/ (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    build(args.out)
    print(f"wrote the Epoch Times mirror to {args.out / 'epochtimes'} and {args.out / 'epochtimes-day2'}")


if __name__ == "__main__":
    main()
