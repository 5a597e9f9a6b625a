"""The Epoch Times Chinese (``/gb/`` simplified, ``/b5/`` traditional).

URL rules, listings (tag and category pages with their pagers), and the article parser
with layered fallbacks, one small function per field. Bylines live in the text, not in
markup: :func:`parse_byline` reads every shape we know of. See
``../shared/spec/site-epochtimes.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import quote, urljoin, urlsplit
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement
from scrapy.http import Response

from newscrawl.html import clean_common, drop, drop_empty_blocks, fragment, make_figure, replace
from newscrawl.items import Article, Image
from newscrawl.markdown import to_markdown
from newscrawl.sites.base import (
    ParsedPage,
    ParseError,
    Site,
    first,
    json_ld_of_type,
    meta_content,
    normalise_url,
)
from newscrawl.text import clean_text, to_utc_iso, unique

BASE = "https://www.epochtimes.com"
HOSTS = {"epochtimes.com": "www.epochtimes.com", "m.epochtimes.com": "www.epochtimes.com"}
ARTICLE_PATH = re.compile(r"^/(?P<ed>gb|b5)/\d{1,2}/\d{1,2}/\d{1,2}/(?P<id>n\d+)\.htm$")
EDITIONS = {"gb": "zh-Hans", "b5": "zh-Hant"}
SOURCE_NAME = "大纪元"
#: The site is edited in New York: a bare wall-clock time on a page is US Eastern.
EASTERN = ZoneInfo("America/New_York")
VISIBLE_TIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?", re.I)

BOILERPLATE_CSS = (
    "script, style, ins, noscript",
    "div[class*='ad_'], div[class*='-ad'], div[id*='ad_'], .share-bar, .social-share, .print-hide",
)
EDITOR_LINE = re.compile(r"^\s*(?:责任编辑|責任編輯)\s*[:：]\s*(?P<name>.+?)\s*#?\s*$")
DROP_LINE = re.compile(r"^(?:#$|本文网址|本文網址|点阅【.*】系列文章$|點閱【.*】系列文章$)")
TRAILING_END_MARK = re.compile(r"\s*#\s*$")
CREDIT_TAIL = re.compile(r"^(?P<caption>.*?)[（(](?P<credit>[^（）()]{1,60})[)）]\s*$")


# ---- bylines --------------------------------------------------------------------------

DATELINE = re.compile(r"^\s*【[^】]{0,40}?(?:讯|訊)】\s*")
BYLINE = re.compile(r"^[（(](?P<inner>[^（）()]{1,80})[)）]")
COMMENTARY = re.compile(r"^\s*文\s*[/／]\s*(?P<name>[^\s，。,（(]{2,20})")
SOURCE_PREFIX = re.compile(
    r"^(?:英文|日文|法文|德文|韩文|韓文)?(?:大纪元|大紀元)(?:新闻网|新聞網|时报|時報)?")
ROLE = re.compile(
    r"^(?:特约|特約|资深|資深|驻\S{1,4}?|駐\S{1,4}?)?(?:记者|記者|编辑|編輯|通讯员|通訊員)(?!站|部)")
NO_PERSON = re.compile(r"专题部|專題部|记者站|記者站|编辑部|編輯部|新闻组|新聞組|报导组|報導組")
VERB_TAIL = re.compile(
    r"(?:(?:采访|採訪|综合|綜合|编译|編譯|整理|翻译|翻譯|专访|專訪)?(?:报导|報導|报道|報道)"
    r"|编译|編譯|综合|綜合|整理|翻译|翻譯|撰文|采访|採訪)$")
NAME_SEPARATORS = re.compile(r"[、，,;；]")
#: Places that follow a reporter's name in a byline (simplified and traditional).
PLACES = sorted(set("""
台湾 臺灣 台灣 台北 臺北 新北 台中 臺中 台南 臺南 高雄 桃园 桃園
新竹 基隆 花莲 花蓮 宜兰 宜蘭 香港 澳门 澳門 纽约 紐約 华盛顿
華盛頓 华府 華府 洛杉矶 洛杉磯 旧金山 舊金山 硅谷 矽谷 芝加哥 休斯顿
休斯頓 波士顿 波士頓 费城 費城 亚特兰大 亞特蘭大 西雅图 西雅圖 达拉斯
達拉斯 圣地亚哥 聖地亞哥 美国 美國 加拿大 多伦多 多倫多 温哥华 溫哥華
蒙特利尔 蒙特利爾 渥太华 渥太華 卡尔加里 卡爾加里 英国 英國 伦敦 倫敦
法国 法國 巴黎 德国 德國 柏林 慕尼黑 法兰克福 法蘭克福 日本 东京
東京 大阪 韩国 韓國 首尔 首爾 澳洲 澳大利亚 澳大利亞 悉尼 雪梨
墨尔本 墨爾本 布里斯班 新西兰 紐西蘭 奥克兰 奧克蘭 新加坡 马来西亚
馬來西亞 吉隆坡 泰国 泰國 曼谷 印度 以色列 乌克兰 烏克蘭 基辅 基輔
欧洲 歐洲 布鲁塞尔 布魯塞爾 瑞士 日内瓦 日內瓦 荷兰 荷蘭 阿姆斯特丹
意大利 罗马 羅馬 西班牙 瑞典 捷克 布拉格 维也纳 維也納 大陆 大陸
北京 上海 广州 廣州 深圳 武汉 武漢 成都
""".split()), key=len, reverse=True)


def _strip_places(text: str) -> str:
    """Drop place names that follow the reporter's name (``林岑心台湾台北`` → ``林岑心``)."""
    changed = True
    while changed and text:
        changed = False
        for place in PLACES:
            if text.endswith(place) and len(text) > len(place):
                text = text[: -len(place)]
                changed = True
                break
    return text


def _names(segment: str) -> list[str]:
    segment = SOURCE_PREFIX.sub("", segment.strip())
    if NO_PERSON.search(segment):
        return []
    segment = ROLE.sub("", segment)
    segment = VERB_TAIL.sub("", segment.strip())
    segment = _strip_places(segment.strip())
    names = []
    for name in NAME_SEPARATORS.split(segment):
        name = _strip_places(VERB_TAIL.sub("", name.strip()))
        if not name or NO_PERSON.search(name) or re.search(r"大纪元|大紀元|记者|記者", name):
            continue
        names.append(name)
    return names


def parse_byline(paragraph: str | None) -> list[str]:
    """Author names from the opening of an article's first paragraph.

    ``【大纪元2022年10月31日讯】（大纪元记者林岑心采访报导）…`` → ``["林岑心"]``; several
    names, places after the name, translators after ``／``, traditional script and
    departments without a person (``大纪元专题部``) are handled. No byline → ``[]``.
    """
    text = clean_text(paragraph) or ""
    text = DATELINE.sub("", text)
    if match := COMMENTARY.match(text):
        return [match.group("name")]
    match = BYLINE.match(text)
    if not match:
        return []
    names: list[str] = []
    for segment in re.split(r"[／/]", match.group("inner")):
        names.extend(_names(segment))
    return unique(names)


def eastern_to_utc(text: str | None) -> str | None:
    """``更新: 2022-10-31 12:39 PM`` read as New York time (daylight saving aware) → UTC."""
    match = VISIBLE_TIME.search(text or "")
    if not match:
        return None
    year, month, day, hour, minute, second, ampm = match.groups()
    hour = int(hour)
    if ampm:
        hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
    local = datetime(int(year), int(month), int(day), hour, int(minute), int(second or 0), tzinfo=EASTERN)
    return to_utc_iso(local)


# ---- the site -------------------------------------------------------------------------

class EpochTimes(Site):
    name = "epochtimes"
    source_name = SOURCE_NAME
    allowed_domains: ClassVar[list[str]] = ["epochtimes.com"]

    def canonical_url(self, url: str) -> str:
        canonical = normalise_url(urljoin(BASE, url), HOSTS)
        if ARTICLE_PATH.match(urlsplit(canonical).path):
            canonical = canonical.split("?", 1)[0]
        return canonical

    def article_id(self, url: str) -> str | None:
        parts = urlsplit(url)
        if not (parts.hostname or "").endswith("epochtimes.com"):
            return None
        match = ARTICLE_PATH.match(parts.path)
        return match.group("id") if match else None

    @staticmethod
    def edition_of(url: str) -> str | None:
        match = re.match(r"^/(gb|b5)/", urlsplit(url).path)
        return match.group(1) if match else None

    def to_edition(self, url: str, edition: str) -> str:
        """The same page in the other script (``/gb/`` ↔ ``/b5/``)."""
        parts = urlsplit(url)
        if self.edition_of(url) in (None, edition):
            return url
        return url.replace(f"{parts.netloc}/{self.edition_of(url)}/", f"{parts.netloc}/{edition}/", 1)

    def feed_url(self, edition: str = "gb", category: str = "nsc413") -> str:
        return f"{BASE}/{edition}/{category}.xml"

    def tag_url(self, value: str, edition: str = "gb") -> str:
        """A tag page from its name (``王毅``) or URL."""
        value = value.strip()
        if value.startswith(("http://", "https://", "/")):
            return self.to_edition(self.canonical_url(value), edition)
        return f"{BASE}/{edition}/tag/{quote(value)}.html"

    def category_url(self, value: str, edition: str = "gb") -> str:
        """A category listing from its id (``nsc413``) or URL."""
        value = value.strip()
        if value.startswith(("http://", "https://", "/")):
            return self.to_edition(self.canonical_url(value), edition)
        return f"{BASE}/{edition}/{value.removesuffix('.htm')}.htm"

    def next_page(self, response: Response) -> str | None:
        href = response.css("a.next.page-numbers::attr(href)").get()
        if not href:
            current = clean_text(response.css(".page-numbers.current").xpath("string()").get())
            if current and current.isdigit():
                wanted = str(int(current) + 1)
                for a in response.css("a.page-numbers"):
                    if clean_text(a.xpath("string()").get()) == wanted:
                        href = a.attrib.get("href")
                        break
        return response.urljoin(href) if href else None

    def parse(self, response: Response) -> ParsedPage:
        return ParsedPage(_article(_Page(self, response)))


@dataclass
class _Page:
    site: EpochTimes
    response: Response

    def __post_init__(self) -> None:
        self.url = self.site.canonical_url(self.response.url)
        self.id = self.site.article_id(self.url)
        self.body = self.response.css("#artbody")
        if not self.body or not self.body.xpath(".//p[normalize-space()]"):
            raise ParseError("unrecognised_layout",
                             f"{self.response.url}: no Epoch Times article body (#artbody with text)")

    @cached_property
    def ld(self) -> dict[str, Any]:
        return json_ld_of_type(self.response, "NewsArticle", "Article", "ReportageNewsArticle") or {}

    def meta(self, name: str) -> str | None:
        return meta_content(self.response, name)

    def text(self, css: str) -> str | None:
        return clean_text(self.response.css(css).xpath("string()").get())


# ---- fields ---------------------------------------------------------------------------

def _title(p: _Page) -> str | None:
    return clean_text(first(lambda: p.text("h1.title"), lambda: p.text("h1.blue18"),
                            lambda: p.text("div.arttop h1"), lambda: p.meta("og:title"),
                            lambda: p.ld.get("headline")))


def _published(p: _Page) -> str | None:
    return first(
        lambda: to_utc_iso(p.response.css("time::attr(datetime)").get()),
        lambda: to_utc_iso(p.meta("article:published_time")),
        lambda: to_utc_iso(p.ld.get("datePublished")),
        lambda: eastern_to_utc(" ".join(p.response.css(
            "div.arttop, .art_info, time, .article_info, .post_time").xpath("string()").getall())),
    )


def _updated(p: _Page) -> str | None:
    return to_utc_iso(first(lambda: p.ld.get("dateModified"), lambda: p.meta("article:modified_time")))


def _tags(p: _Page) -> list[str]:
    links = p.response.xpath(
        "//*[@id='artbody']//a[contains(@href, '/tag/')]"
        " | //*[contains(concat(' ', @class, ' '), ' post_tags ') or @id='tags']"
        "//a[contains(@href, '/tag/')]")
    return unique([t for t in (clean_text(a.xpath("string()").get()) for a in links) if t])


def _lead(p: _Page) -> str | None:
    """The page's description, without the dateline and byline it often starts with."""
    text = clean_text(first(lambda: p.meta("description"), lambda: p.meta("og:description"))) or ""
    text = DATELINE.sub("", text)
    return clean_text(BYLINE.sub("", text, count=1))


def _category(p: _Page) -> str | None:
    crumbs = [clean_text(t) for t in p.response.css("a.breadcrumbs").xpath("string()").getall()]
    crumbs = [c for c in crumbs if c and c not in ("首页", "首頁")]
    return crumbs[-1] if crumbs else None


def _body(p: _Page) -> tuple[str | None, list[Image], str | None, str | None]:
    """Markdown body, its images, the editor, and the first paragraph's text (for the byline)."""
    root = fragment(p.body.get())
    drop(root, BOILERPLATE_CSS)
    images: list[Image] = []
    for fig in list(root.iter("figure")):
        img = fig.find(".//img")
        src = None if img is None else first(img.get("data-src"), img.get("data-original"),
                                             (img.get("src") or "").split("data:")[0] or None)
        if not src:
            fig.drop_tree()
            continue
        cap_el = fig.find(".//figcaption")
        caption, credit = _split_credit(cap_el.text_content() if cap_el is not None else None)
        image = Image(url=urljoin(BASE, src), caption=caption, credit=credit)
        images.append(image)
        replace(fig, make_figure(image["url"], caption, credit))
    editor = _drop_trailers(root)
    clean_common(root, BASE, lambda u: p.site.canonical_url(u) if p.site.article_id(u) else u)
    drop_empty_blocks(root)
    first_para = next((clean_text(el.text_content()) for el in root.iter("p")
                       if clean_text(el.text_content())), None)
    return to_markdown(root), images, editor, first_para


def _split_credit(text: str | None) -> tuple[str | None, str | None]:
    """``说明文字。（林一/大纪元）`` → caption, credit."""
    text = clean_text(text)
    if not text:
        return None, None
    match = CREDIT_TAIL.match(text)
    if not match or not match.group("caption").strip():
        return text, None
    return clean_text(match.group("caption")), clean_text(match.group("credit"))


def _drop_trailers(root: HtmlElement) -> str | None:
    """Remove the end mark, 责任编辑, 本文网址 and 点阅 lines; return the editor."""
    editor = None
    for el in list(root.iter("p", "div", "span", "h4", "strong")):
        if el.getparent() is None:
            continue
        text = clean_text(el.text_content()) or ""
        if match := EDITOR_LINE.match(text):
            editor = editor or clean_text(match.group("name"))
            el.drop_tree()
        elif DROP_LINE.match(text):
            el.drop_tree()
    # the end mark may close the last paragraph: "…。 #"
    paragraphs = [el for el in root.iter("p") if clean_text(el.text_content())]
    if paragraphs:
        last = paragraphs[-1]
        tail_holder = last if len(last) == 0 else last[-1]
        attr = "text" if len(last) == 0 else "tail"
        value = getattr(tail_holder, attr) or ""
        if TRAILING_END_MARK.search(value):
            setattr(tail_holder, attr, TRAILING_END_MARK.sub("", value))
    return editor


def _article(p: _Page) -> Article:
    body, images, editor, first_para = _body(p)
    edition = p.site.edition_of(p.url)
    return Article(
        site=p.site.name, id=p.id, url=p.url, title=_title(p), published=_published(p),
        updated=_updated(p), authors=parse_byline(first_para), editor=editor,
        lead=_lead(p),
        body_markdown=body, images=images, tags=_tags(p), category=_category(p),
        lang=EDITIONS.get(edition or ""), source_name=SOURCE_NAME,
    )


SITE = EpochTimes()
