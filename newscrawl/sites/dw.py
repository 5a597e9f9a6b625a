"""Deutsche Welle (all language editions; the archive crawls ``/zh/`` and ``/zh-hant/``).

Everything DW-specific lives here: what the site declares (:class:`DW`: hosts, ``dw.de``,
article URL forms — with or without a language prefix, old ``dw-world.de`` and API links —,
editions, the feed, topic listings), tracking parameters, the video hosts whose embeds are kept, source names
per edition, image sizes, credit and byline labels, boilerplate, and the page classes of its
template generations:

* :class:`LegacyPage` — the pre-2023 template (``#bodyContent``, ``div.longText``, a facts
  list with a ``DD.MM.YYYY`` date), valid until mid-2023;
* :class:`ReactPage` — the current server-rendered React template: the embedded Apollo state
  (``window.__APOLLO_STATE__``, or the same map under another name), then JSON-LD, then the
  DOM, then the page's metas and visible date;
* :class:`GalleryPage` — picture gallery pages (``g-``) of the current template.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from scrapy.http import Response, TextResponse

from newscrawl.items import Gallery, GalleryImage, Image
from newscrawl.markdown import escape_text
from newscrawl.sites.base import (
    URL_JUNK,
    ArticlePage,
    ArticleUrl,
    Body,
    CreditRules,
    Feed,
    Link,
    Listing,
    Published,
    Site,
    Sitemap,
    as_dict,
    as_list,
    first,
    ld_date,
    ld_names,
)
from newscrawl.text import clean_text, parse_datetime, repair_surrogates, unique

BASE = "https://www.dw.com"
FEED_URL = "https://rss.dw.com/xml/rss-chi-all"
#: Every host an article is linked under, to the one the archive keeps.
HOSTS = {host: "www.dw.com" for host in (
    "dw.com", "m.dw.com", "amp.dw.com", "dw.de", "www.dw.de", "m.dw.de", "dw-world.de", "www.dw-world.de",
    "dw-world.com", "www.dw-world.com")}
TRACKING = re.compile(r"^maca$", re.I)
#: ``/zh/<slug>/a-123``, ``/zh/a-123``, and (old links) ``/<slug>/a-123`` or ``/a-123``.
CONTENT_PATH = re.compile(
    r"^(?:/(?P<lang>[a-z]{2,3}(?:-[a-z]{2,4})?)(?=/))?(?:/[^/]+)??/(?P<kind>a|g)-(?P<num>\d+)/?$")
#: ``dw-world.de``/``dw.de`` links of the 2000s: ``/dw/article/0,,4321,00.html``.
OLD_ARTICLE_PATH = re.compile(r"^/dw/article/0,(?:\d*),(?P<num>\d+),\d+\.html$")
API_ARTICLE = re.compile(r"^/api/detail/(?:article|gallery)/(?P<num>\d+)")
#: A topic (``t-``) or section (``s-``) page, and a bare topic or section id.
TOPIC_PATH = re.compile(r"/[ts]-\d+/?$")
TOPIC_ID = re.compile(r"[ts]-\d+|\d+")
#: The language editions (URL prefixes) DW has; other first path segments are slugs.
EDITIONS = frozenset("""
zh zh-hant de en es fr ar pt-br pt-002 ru uk tr fa hi id sw ha am bn bs bg el hr mk pl ps ro sq sr ur
dari fa-af ka km ms tl vi ta th ko ja it nl
""".split())
LANGS = {"zh": "zh-Hans", "zh-hant": "zh-Hant"}
HTML_LANGS = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant",
              "zh-tw": "zh-Hant", "zh-hk": "zh-Hant"}
#: The archive's name for DW, per edition (the Chinese editions share one name).
SOURCE_NAMES = {"zh-Hans": "德国之声", "zh-Hant": "德国之声", None: "Deutsche Welle"}
#: DW's own players: their iframes stay in a body, as links.
EMBED_HOSTS = frozenset({"www.dw.com", "tv.dw.com", "p.dw.com"})

# ---- images -----------------------------------------------------------------------------------
IMAGE_URL = re.compile(
    r"^https?://(?:(?:static|www|m|amp)\.dw\.com|(?:www\.)?dw\.de|(?:www\.)?dw-world\.de)/image/(?P<id>\d+)_(?P<fmt>\$\{formatId\}|\d+)\.(?P<ext>\w+)")
#: 940×529, the size DW itself shares; thumbnails (``_303``, ``_401``, ``_404``, 600–603) become it.
FORMAT_ID = "6"
USEFUL_FORMATS = frozenset({"6", "7", "8", "604", "605", "606", "607", "804", "805", "806", "807"})
#: The 600-series: the whole picture at a width (pixels); the widest one allowed is kept.
WIDTH_FORMATS = {"600": 78, "601": 201, "602": 379, "603": 545, "604": 767, "605": 1199, "606": 1568,
                 "607": 1920}
CREDITS = CreditRules(
    label=re.compile(r"[（(]?\s*(?:图像来源|圖片來源|图片来源|圖像來源|图片|圖片|Bild|Bilder|Image|Images|Photo|Photos"
                     r"|Foto|Fotos|Crédit|Фото)\s*[:：]\s*(?P<credit>[^)）]+?)\s*[)）]?\s*$"),
)

# ---- bylines and credit lines -----------------------------------------------------------------
AUTHOR_SEPARATORS = re.compile(r"\s*(?:[,，、/;；&]|\bund\b|\band\b|\bet\b|\by\b|\bи\b|和)\s*")
NOT_AUTHORS = {"Deutsche Welle", "DW", "德国之声", "德國之聲", "德国之声中文网", "德國之聲中文網", "DW中文",
               "dw.com"}
AUTHOR_ROLE = re.compile(r"\s*(?:摘译|摘譯|编译|編譯|编辑|編輯|撰文|报道|報導|综合报道|綜合報導|整理)$")
_GENDERED = r"(?:\s*[/*_:·]\s*(?:in|innen|e|rice|{w}\w*))?"
AUTHOR_LABEL = ("(?:autor(?:in|en|innen)?" + _GENDERED.format(w="autor") + "|autor(?:a|es|as)?(?:\\(a\\))?"
                "|auteur(?:e|es|s)?" + _GENDERED.format(w="aut") + "|autrice|authors?|by|text|von"
                "|作者|撰文|撰稿|記者|记者|文|автор(?:ка|ы|и)?" + _GENDERED.format(w="автор")
                + "|yazar|penulis|mwandishi|نویسنده|الكاتب)")
EDITOR_LABEL = ("(?:edition|édition|editing|edited\\s+by|editors?|editor(?:in|a)?|redaktion|redakteur(?:in)?"
                + _GENDERED.format(w="redakt")
                + "|redaktor(?:ka)?|edición|editado\\s+por|édité\\s+par|révision"
                "|编辑|編輯|责编|責編|责任编辑|責任編輯|校对|審校|审校|редактор(?:ка)?|редакция|editör)")
#: One "Label: names" part of a credit line; several may share one line ("Autorin: X / Redaktion: Y").
CREDIT_PART = re.compile(
    rf"(?P<label>{AUTHOR_LABEL}|{EDITOR_LABEL})\s*(?:[:：]|(?<=by)\s)\s*(?P<names>.+?)\s*(?=$|[|·]|[/\s]\s*(?:{AUTHOR_LABEL}|{EDITOR_LABEL})\s*[:：])",
    re.I)
_EDITOR_ONLY = re.compile(rf"^(?:{EDITOR_LABEL})$", re.I)
#: How a credit line starts (its first label, after separators): a line that does not start
#: so has no parts, and is told at once without scanning it for labels.
_CREDIT_START = re.compile(rf"[ /|·,;]*(?:{AUTHOR_LABEL}|{EDITOR_LABEL})", re.I)

# ---- boilerplate --------------------------------------------------------------------------------
#: Boilerplate lines by how they start (anchored: one look at the line's start) …
BOILERPLATE_LINE = re.compile(
    r"^(?:更多内容|更多內容|相关内容|相關內容|阅读更多|閱讀更多|延伸阅读|延伸閱讀|相关阅读|相關閱讀"
    r"|Read more|Mehr zum Thema|Lesen Sie auch|Lire aussi|En savor más)\s*[:：]"
    r"|^©\s*\d{4}\s*年?\s*(?:德国之声|德國之聲|Deutsche Welle|DW)"
    # the edition's social-media promotion: "DW中文有Instagram！欢迎搜寻dw.chinese…"
    r"|^DW中文有\s*(?:Instagram|脸书|臉書|Facebook|YouTube|Telegram|X)\b"
    # newsletter promotions
    r"|^(?:订阅|訂閱|Abonnieren Sie|Subscribe to|Jetzt abonnieren).{0,40}"
    r"(?:newsletter|新闻信|新聞信|电子报|電子報)"
    r"|^[a-z]{2,4}(?:/[a-z]{2,4})*\s*\([a-z ,/]*\)$",  # agency sign-off: "cwo/fab (dpa, afp)"
    re.I,
)
#: … and by what they say anywhere (kept apart: in one pattern with the anchored ones, every
#: position of every line would be tried against all of them)
BOILERPLATE_ANYWHERE = re.compile(
    r"(?:欢迎|歡迎)(?:搜寻|搜尋|关注|關注|订阅|訂閱).{0,30}dw[._]?chinese",  # "…欢迎搜寻dw.chinese…"
    re.I)
#: News agencies and sources that make up a closing sign-off line such as "（路透社、法新社）".
AGENCIES = set("""
路透社 路透 法新社 法新 美联社 美聯社 美联 美聯 德新社 德新 共同社 韩联社 韓聯社 中央社 彭博社 彭博
法广 法廣 美国之音 美國之音 新华社 新華社 塔斯社 埃菲社 安莎社 德国之声 德國之聲
综合报道 綜合報導 综合 綜合 dpa afp ap rtr reuters epd kna efe kyodo bbc
""".split())
BOILERPLATE_CSS = (
    "span.rich-text-ad, div.advertisement, div.vjs-wrapper, .video-player",
    '[data-tracking-name="sharing-icons-inline"]',
    '[data-tracking-name="content-detail-kicker"], .copy-button-wrapper, .feedback',
)
#: Old-template boxes inside ``div.longText`` that are not article text: audio/video teasers
#: (with their hidden share panels and permalinks), newsletter promotions, link lists.
LEGACY_COMPONENTS = re.compile(
    r"\b(?:mediaItem|videoTeaser|audioTeaser|avTeaser|mediaTeaser|video|audio|avPlayer|jwplayer|embedBox"
    r"|shareLayer|sharePanel|shareBox|newsletter\w*|linkList|relatedContent|infoBox|teaserBox)\b", re.I)
LEGACY_GALLERY = re.compile(r"\b(?:gallery|imageGallery|picGallery|slideshow)\b", re.I)
_STATE_ASSIGNMENT = re.compile(r"window\.(?P<name>__[A-Z][A-Z0-9_]*__)\s*=\s*(?P<parse>JSON\.parse\(\s*)?")
#: the literal start of every :data:`_STATE_ASSIGNMENT` match
_STATE_START = "window.__"
_VISIBLE_DATE = re.compile(r"(?<!\d)(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?!\d)"
                           r"|(?P<y2>\d{4})\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日")


# ---- text rules (module functions: tests use them) ---------------------------------------------

def author_name(text: Any) -> str | None:
    """A byline name without its role ("安静 摘译") or sources in brackets ("苗子 (德新社)")."""
    name = clean_text(re.sub(r"[（(][^）)]*[)）]", "", text if isinstance(text, str) else ""))
    name = clean_text(AUTHOR_ROLE.sub("", name)) if name else None
    return None if not name or name in NOT_AUTHORS or len(name) > 60 else name


def author_names(text: Any) -> list[str]:
    """The names of a byline: ``"林一 摘译, 王二"`` → ``["林一", "王二"]``."""
    if not isinstance(text, str):
        return []
    return unique([n for n in map(author_name, AUTHOR_SEPARATORS.split(text)) if n])


_SIGNOFF = re.compile(r"[（(]?\s*(.+?)\s*[)）]?[。.]?")
_SIGNOFF_SEPARATORS = re.compile(r"[、，,/;；\s]+")
#: The first name of a would-be sign-off: brackets, full stops and separators around it.
_SIGNOFF_FIRST = re.compile(r"[、，,/;；\s（()）。.]*([^、，,/;；\s（()）。.]+)")


def is_signoff(text: str) -> bool:
    """A line of nothing but agency names: "（路透社、法新社）", "德新社/美联社"."""
    first = _SIGNOFF_FIRST.match(text)
    if first and first.group(1).lower() not in AGENCIES:  # an ordinary line, told at once
        return False
    inner = _SIGNOFF.fullmatch(text)
    if not inner:
        return False
    parts = [p.strip().lower() for p in _SIGNOFF_SEPARATORS.split(inner.group(1)) if p.strip()]
    return bool(parts) and all(p in AGENCIES for p in parts)


def credit_parts(text: str) -> list[tuple[str, list[str]]]:
    """Every ``Label: names`` part of a line made only of such parts (else ``[]``)."""
    text = text.strip().strip("()（）")
    if not _CREDIT_START.match(text):  # the first part must open the line
        return []
    parts, pos = [], 0
    for match in CREDIT_PART.finditer(text):
        gap = text[pos:match.start()].strip(" /|·,;")
        if gap:
            return []
        names = author_names(match.group("names"))
        if not names or any(len(n) > 40 for n in names):
            return []
        label = re.sub(r"\s+", " ", match.group("label").lower())
        role = "editor" if _EDITOR_ONLY.match(label) else "author"
        parts.append((role, names))
        pos = match.end()
    return parts if parts and not text[pos:].strip(" /|·,;.") else []


def image_url(url: Any, base: str = BASE) -> str | None:
    """An absolute image URL at a useful size: DW's ``${formatId}`` template filled, and
    thumbnails (``_303``, ``_401``, …, also ``www.dw.com/image/…`` on old pages) asked for at
    940×529 on ``static.dw.com``."""
    url = URL_JUNK.sub("", url) if isinstance(url, str) else ""
    if not url:
        return None
    try:
        url = urljoin(base, url)
    except ValueError:
        return None
    match = IMAGE_URL.match(url)
    if match:
        fmt = match.group("fmt") if match.group("fmt") in USEFUL_FORMATS else FORMAT_ID
        ext = match.group("ext") if fmt != FORMAT_ID else "jpg"
        return f"https://static.dw.com/image/{match.group('id')}_{fmt}.{ext}"
    return url if url.startswith(("http://", "https://")) else None


def picture_url(url: str, max_width: int) -> str:
    """The DW picture at ``url`` in its widest 600-series format no wider than ``max_width``
    (``_607``, 1920 px, by default); other URLs as they are."""
    match = IMAGE_URL.match(url)
    fitting = [(width, fmt) for fmt, width in WIDTH_FORMATS.items() if width <= max_width]
    if not match or not fitting:
        return url
    return f"https://static.dw.com/image/{match.group('id')}_{max(fitting)[1]}.jpg"


def picture_identity(url: str) -> str:
    """One name for every format of a DW picture (``…/image/67411201_6.jpg``, ``_302``,
    ``_607.jpg``, on any of DW's image hosts): ``https://static.dw.com/image/67411201``;
    other URLs as they are."""
    match = IMAGE_URL.match(url)
    return f"https://static.dw.com/image/{match.group('id')}" if match else url


def state_assignments(text: str, first: bool = False) -> list[re.Match[str]]:
    """The ``window.__NAME__ = …`` assignments of a page (only the first with ``first``).

    The same matches as ``_STATE_ASSIGNMENT.finditer``, found by ``str.find`` of the
    pattern's literal start and a match there: the regular expression's own scan of an
    80 KB page cost about twice as much (0.06 against 0.03 ms)."""
    found: list[re.Match[str]] = []
    at = text.find(_STATE_START)
    while at != -1:
        match = _STATE_ASSIGNMENT.match(text, at)
        if match is None:
            at = text.find(_STATE_START, at + 1)
            continue
        found.append(match)
        if first:
            break
        at = text.find(_STATE_START, match.end())
    return found


def apollo_state(text: str) -> dict[str, Any] | None:
    """The embedded Apollo map (``window.__APOLLO_STATE__``, or the same map under another
    ``window.__NAME__``), or ``None`` when absent or not valid JSON.

    The state is a JSON object literal, or (as some builds emit it) a JSON string handed to
    ``JSON.parse("…")``. A map counts when it has ``Article:``/``ImageGallery:`` entries or a
    ``ROOT_QUERY``.
    """
    decoder = json.JSONDecoder()
    for match in state_assignments(text):
        try:
            state, _ = decoder.raw_decode(text, match.end())
            if match.group("parse") and isinstance(state, str):
                state = json.loads(state)
        except (ValueError, RecursionError):
            continue
        if isinstance(state, dict) and ("ROOT_QUERY" in state or any(
                isinstance(k, str) and k.startswith(("Article:", "ImageGallery:")) for k in state)):
            return state
    return None


#: The dates a teaser in a listing's page state may carry, of the article's latest version
#: (``contentDate``: its last publication date, as DW's listings show it).
TEASER_DATES = ("contentDate", "lastModifiedDate", "lastPublicationDate")


def teaser_dates(state: dict[str, Any]) -> dict[str, str]:
    """``namedUrl`` → the latest date (ISO 8601, as given) of each teaser in a listing's
    page state that has one: when DW last published or modified that article. Entries that
    are no teasers, paths that are no string and values that are no date are left out."""
    dates: dict[str, str] = {}
    for key, entry in state.items():
        teaser = isinstance(key, str) and key.startswith(("Article:", "ImageGallery:"))
        if not (teaser and isinstance(entry, dict)):
            continue
        path = entry.get("namedUrl")
        given = [(when, value) for value in (entry.get(name) for name in TEASER_DATES)
                 if (when := parse_datetime(value)) is not None]
        if isinstance(path, str) and given:
            dates[path] = str(max(given)[1])
    return dates


def visible_date(text: str | None) -> Published | None:
    """An absolute date shown on the page (``30.01.2024``, ``2024年1月30日``): a day, never a
    time of day; relative dates ("3 小时前") are not read."""
    match = _VISIBLE_DATE.search(text or "")
    if not match:
        return None
    y, m, d = (match.group("y") or match.group("y2"), match.group("m") or match.group("m2"),
               match.group("d") or match.group("d2"))
    try:
        day = date(int(y), int(m), int(d))
    except ValueError:
        return None
    return Published(day.isoformat(), "day") if day.year >= 1990 else None


def meta_published(value: str | None) -> Published | None:
    """A machine-readable meta date: a day when it has no time of day."""
    value = clean_text(value)
    if not value:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return Published(value, "day")
    return Published(value, "second")


# ---- page classes --------------------------------------------------------------------------------

class DwPage(ArticlePage):
    """What every DW layout shares: URL and language rules, images, credits, boilerplate."""

    site: DW
    boilerplate_css = BOILERPLATE_CSS
    credit_rules = CREDITS

    def image_url(self, src: str | None) -> str | None:
        return image_url(src, self.site.canonical_url(self.response.url))

    def declared_url(self) -> str | None:
        """The page's own canonical link."""
        return self.response.xpath('//link[@rel="canonical"]/@href').get()

    def url(self) -> str:
        return self._url

    @cached_property
    def _url(self) -> str:
        """The declared canonical link when it names the same article (with its edition, if
        the fetched URL has one), else the fetched URL, canonical; worked out once a page."""
        own = self.site.canonical_url(self.response.url)
        declared = self.declared_url()
        if isinstance(declared, str) and declared.strip():
            try:
                declared = self.site.canonical_url(urljoin(BASE, declared.strip()))
            except ValueError:
                return own
            own_id = self.site.article_id(own)
            declared_id = self.site.article_id(declared)
            same = declared_id and (own_id is None or declared_id == own_id)
            if same and (self.site.edition_of(declared) or not self.site.edition_of(own)):
                return declared
        return own

    def id(self) -> str | None:
        return self.site.article_id(self.url()) or self.site.article_id(
            self.site.canonical_url(self.response.url))

    @cached_property
    def number(self) -> str | None:
        """The digits of the id the page was fetched under (else of its canonical link)."""
        article_id = self.site.article_id(self.site.canonical_url(self.response.url))
        if article_id is None:
            declared = DwPage.declared_url(self)
            if declared:
                article_id = self.site.article_id(self.site.canonical_url(urljoin(BASE, declared)))
        return article_id.split("-", 1)[1] if article_id else None

    def lang(self) -> str | None:
        """The edition the page was fetched from, else its canonical link's, else ``html@lang``."""
        lang = self.site.lang_of(self.site.canonical_url(self.response.url)) or self.site.lang_of(self.url())
        if lang:
            return lang
        html_lang = (self.response.xpath("/html/@lang").get() or "").strip().lower()
        return HTML_LANGS.get(html_lang, html_lang or None)

    def is_boilerplate_line(self, text: str) -> bool:
        return bool(BOILERPLATE_LINE.search(text) or BOILERPLATE_ANYWHERE.search(text)) or is_signoff(text)

    def credit_parts(self, text: str) -> list[tuple[str, list[str]]]:
        return credit_parts(text)

    def read_body(self) -> Body:
        """As any site's; an audio/video page whose body is only credits has its teaser as
        the text (escaped: page text becomes Markdown only through newscrawl.markdown)."""
        body = super().read_body()
        if body.markdown:
            return body
        return replace(body, markdown=escape_text(clean_text(self.lead()) or "") or None)


class ReactPage(DwPage):
    """The current template (server-rendered React, since mid-2023): Apollo state → JSON-LD →
    DOM → metas and the visible date, per field."""

    layout = "react"
    valid_from = date(2023, 6, 1)

    @classmethod
    def matches(cls, response: TextResponse) -> bool:
        text = response.text
        return ('"Article:' in text and bool(state_assignments(text, first=True))) or bool(
            response.css("article h1, article div.rich-text")) or '"NewsArticle"' in text

    # ---- the data layers -------------------------------------------------------------
    @cached_property
    def state(self) -> dict[str, Any]:
        return apollo_state(self.response.text) or {}

    @cached_property
    def entry(self) -> dict[str, Any]:
        """The page's own ``Article:<id>`` (other ``Article:`` entries are teasers)."""
        return as_dict(self.state.get(f"Article:{self.number}"))

    @cached_property
    def ld(self) -> dict[str, Any]:
        return self.ld_of_type("NewsArticle", "Article", "ReportageNewsArticle", "ImageGallery")

    @cached_property
    def header(self) -> Any:
        return self.response.css("article header")

    def ref(self, value: Any) -> dict[str, Any]:
        """Follow an Apollo ``{"__ref": key}`` to its entry (a plain object passes through)."""
        value = as_dict(value)
        if isinstance(value.get("__ref"), str):
            return as_dict(self.state.get(value["__ref"]))
        return value

    def declared_url(self) -> str | None:
        declared = self.entry.get("canonicalUrl")
        return declared if isinstance(declared, str) else super().declared_url()

    # ---- fields ----------------------------------------------------------------------
    def title(self) -> str | None:
        return first(clean_text(self.entry.get("title")), clean_text(self.entry.get("name")),
                     lambda: clean_text(self.ld.get("headline")), lambda: self.text("h1", self.header),
                     lambda: self.text("article h1"), lambda: clean_text(self.meta("og:title")))

    def published(self) -> Published | None:
        exact = first(*(lambda v=v: v if isinstance(v, str) and _is_time(v) else None for v in (
            self.entry.get("firstPublicationDate"), self.entry.get("contentDate"))),
            lambda: _time_or_none(ld_date(self.ld.get("datePublished"))),
            lambda: _time_or_none(self.meta("article:published_time")),
            lambda: _time_or_none(self.header.css("time::attr(datetime)").get()))
        if exact:
            return Published(exact, "second")
        return first(lambda: meta_published(self.meta("date")), lambda: meta_published(self.meta("dc.date")),
                     lambda: visible_date(" ".join(
                         self.header.css("time, time + span").xpath("string()").getall())))

    def updated(self) -> str | None:
        return first(*(lambda v=v: v if isinstance(v, str) and _is_time(v) else None for v in (
            self.entry.get("lastModifiedDate"), self.entry.get("lastPublicationDate"))),
            lambda: _time_or_none(ld_date(self.ld.get("dateModified"))),
            lambda: _time_or_none(self.meta("article:modified_time")))

    def authors(self) -> list[str]:
        """The page's own Apollo entry is authoritative (no author there means nobody is
        named, unless the body ends with a credit line); without one: JSON-LD, then the
        header's byline."""
        if self.entry:
            names = [self.ref(ref).get("fullName") for ref in as_list(self.entry.get("persons"))] or [
                as_dict(x).get("fullName") for x in as_list(self.entry.get('persons({"amount":1})'))]
            found = unique([n for n in map(author_name, names) if n])
            if not found:
                found = author_names(self.entry.get("legacyAuthor"))
        else:
            byline = self.header.css(".author-details .author, .author-details .author-link")
            found = unique([n for n in map(author_name, ld_names(self.ld.get("author"))) if n]) or unique(
                [n for n in map(author_name, byline.xpath("string()").getall()) if n])
        return unique(found + self.body_authors())

    def lead(self) -> str | None:
        return first(clean_text(self.entry.get("teaser")), lambda: self.text("p.teaser-text", self.header),
                     lambda: self.text("p", self.header), lambda: clean_text(self.ld.get("description")),
                     lambda: clean_text(self.meta("description")))

    def tags(self) -> list[str]:
        names: list[Any] = [self.ref(ref).get("name") for ref in as_list(self.entry.get("relatedAutoTopics"))]
        if not names and "relatedAutoTopics" not in self.entry:
            names = self.response.css(
                '[data-tracking-name="section-related-topics"] a[href*="/t-"],'
                ' aside[data-tracking-name="related-topics"] a[href*="/t-"]').xpath("string()").getall()
        return [n for n in map(clean_text, names) if n]

    def category(self) -> str | None:
        focus = as_dict(self.entry.get("thematicFocusCategory"))
        return first(clean_text(focus.get("name")), clean_text(self.entry.get("kicker")),
                     lambda: self.text(".kicker > span:first-child", self.header),
                     lambda: self.text('[data-tracking-name="content-detail-kicker"] > span:first-child'))

    def content_link_image(self, link: Any) -> Image | None:
        link = self.ref(link)
        target = self.ref(link.get("target"))
        url = image_url(target.get("staticUrl"))
        if not url:
            return None
        return Image(url=url, caption=clean_text(link.get("description")),
                     credit=self.credit_rules.credit(target.get("licenserSupplement"))
                     or clean_text(target.get("licenserSupplement")))

    def lead_image(self) -> Image | None:
        image = self.content_link_image(self.entry.get("mainContentImageLink")) if self.entry else None
        if image:
            return image
        outside = "//article//figure[not(ancestor::div[contains(@class,'rich-text')])]"
        for fig in self.response.xpath(outside)[:1]:
            box = self.read_box(fig.root, title_css="")
            if box:
                return box.image()
        images = self.ld.get("image")
        url = images[0] if isinstance(images, list) and images else images
        url = as_dict(url).get("url") if isinstance(url, dict) else url
        url = image_url(url)
        return Image(url=url, caption=None, credit=None) if url else None

    def body_html(self) -> str | None:
        text = self.entry.get("text")
        if isinstance(text, str) and text.strip():
            return text
        return self.dom_markup("article div.rich-text")

    def read_box(self, box: HtmlElement, title_css: str = "") -> Any:
        found = super().read_box(box, title_css)
        img = next(box.iter("img"), None)
        if found and not found.caption and img is not None and (img.get("data-id") or "").isdigit():
            linked = self.content_link_image({"__ref": f'ContentLink:{{"targetId":{img.get("data-id")}}}'})
            if linked:
                found.caption, found.credit = linked["caption"], found.credit or linked["credit"]
        return found

    def gallery_entries(self) -> list[dict[str, Any]]:
        return [self.ref(ref) for ref in as_list(self.entry.get("imageGalleries"))]

    def gallery(self) -> Gallery | None:
        galleries = self.gallery_entries()
        return self.gallery_of(galleries[0])[0] if galleries else None

    def gallery_url(self) -> str | None:
        galleries = self.gallery_entries()
        if not galleries:
            return None
        _, incomplete = self.gallery_of(galleries[0])
        named = galleries[0].get("namedUrl")
        # a lone surrogate ("\\ud800" in the JSON) makes a URL no request can encode: not followed
        if incomplete and isinstance(named, str) and named.strip() and repair_surrogates(named) == named:
            return self.site.canonical_url(urljoin(BASE, named))
        return None

    def gallery_of(self, entry: dict[str, Any]) -> tuple[Gallery | None, bool]:
        """A gallery from its Apollo entry; the flag says whether captions are missing."""
        images: list[GalleryImage] = []
        for img in as_list(entry.get("extendedGalleryImages")):
            img = self.ref(img)
            target = self.ref(img.get("assignedImage"))
            url = image_url(target.get("staticUrl"))
            if url:
                images.append(GalleryImage(url=url, title=clean_text(img.get("name")),
                                           caption=clean_text(img.get("description")),
                                           credit=clean_text(target.get("licenserSupplement"))))
        if not images:
            return None, bool(entry.get("namedUrl"))
        title = first(clean_text(entry.get("title")), clean_text(entry.get("name")))
        gallery = Gallery(title=title, images=images)
        return gallery, any(not image["caption"] for image in images)


class GalleryPage(ReactPage):
    """A picture gallery page (``g-``): the teaser is the body, the pictures the gallery."""

    layout = "gallery"
    valid_from = date(2023, 6, 1)

    @classmethod
    def matches(cls, response: TextResponse) -> bool:
        path = urlsplit(response.url).path
        if not re.search(r"/g-\d+/?$", path):
            return False
        return '"ImageGallery:' in response.text or bool(response.css("article h1"))

    @cached_property
    def entry(self) -> dict[str, Any]:
        return as_dict(self.state.get(f"ImageGallery:{self.number}"))

    def body_html(self) -> str | None:
        return None

    def lead_image(self) -> Image | None:
        return None

    def gallery(self) -> Gallery | None:
        gallery = self.gallery_of(self.entry)[0] if self.entry else None
        return gallery or self.dom_gallery()

    def gallery_url(self) -> str | None:
        return None

    def dom_gallery(self) -> Gallery | None:
        images = [box.gallery_image() for box in (self.read_box(fig.root, title_css="h3")
                                                  for fig in self.response.css("article figure")) if box]
        return Gallery(title=self.title(), images=images) if images else None


class LegacyPage(DwPage):
    """The pre-2023 template: ``#bodyContent`` with ``h1``, ``p.intro``, a facts list
    (``ul.smallList``: date ``DD.MM.YYYY``, author, topics, keywords), ``div.longText`` with
    ``div.picBox`` image boxes and embedded components, a slideshow gallery."""

    layout = "legacy"
    valid_until = date(2023, 6, 1)
    image_box_css = "div.picBox"

    @classmethod
    def matches(cls, response: TextResponse) -> bool:
        return bool(response.css("#bodyContent, div.longText"))

    #: Fact-list labels, matched tolerantly (case, colon, gender-inclusive forms).
    FACT_LABELS: ClassVar[dict[str, re.Pattern[str]]] = {
        "date": re.compile(r"^(?:日期|Datum|Date|Fecha|Data|Дата|Tarih|Tanggal|Tarehe)$", re.I),
        "author": re.compile(rf"^(?:{AUTHOR_LABEL})$", re.I),
        "topics": re.compile(r"^(?:相关主题|相關主題|Themenseiten|Themen|Related Subjects|Related topics"
                             r"|Thèmes|Temas|Темы)$", re.I),
        "keywords": re.compile(r"^(?:关键词|關鍵詞|关键字|關鍵字|Schlagwörter|Keywords|Mots-clés"
                               r"|Palabras clave|Ключевые слова)$", re.I),
    }

    @cached_property
    def facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        for li in self.response.css("ul.smallList > li"):
            label = (clean_text(li.css("strong").xpath("string()").get()) or "").strip().rstrip(":：").strip()
            for key, pattern in self.FACT_LABELS.items():
                if key not in facts and pattern.match(label):
                    texts = li.xpath("./text() | ./*[not(self::strong)]//text()").getall()
                    facts[key] = clean_text(" ".join(texts))
                    facts[f"{key}_links"] = li.css("a").xpath("string()").getall()
        return facts

    @cached_property
    def column(self) -> Any:
        return self.response.css(".col3") or self.response.css("#bodyContent")

    def title(self) -> str | None:
        return first(lambda: self.text("#bodyContent h1, .col3 h1"), lambda: self.text("h1"),
                     lambda: clean_text(self.meta("og:title")))

    def published(self) -> Published | None:
        for name in ("article:published_time", "date", "dc.date", "DC.date.issued", "dcterms.created"):
            found = meta_published(self.meta(name))
            if found and (found.precision == "day" or _is_time(found.value)):
                return found
        return visible_date(self.facts.get("date"))

    def updated(self) -> str | None:
        return _time_or_none(self.meta("article:modified_time"))

    def authors(self) -> list[str]:
        return unique(author_names(self.facts.get("author")) + self.body_authors())

    def lead(self) -> str | None:
        return first(lambda: self.text("p.intro"), lambda: clean_text(self.meta("description")))

    def tags(self) -> list[str]:
        keywords = re.split(r"[,，、]", self.facts.get("keywords") or self.meta("keywords") or "")
        return list(self.facts.get("topics_links") or []) + keywords

    def lead_image(self) -> Image | None:
        column = self.column
        boxes = column.xpath("./div[contains(concat(' ', @class, ' '), ' picBox ')]") if column else None
        box = self.read_box(boxes[0].root) if boxes else None
        return box.image() if box else None

    def body_html(self) -> str | None:
        return self.dom_markup("div.longText")

    def take_components(self, root: HtmlElement) -> list[Gallery]:
        """The first inline gallery out (for :meth:`gallery`), the others dropped; audio/video
        teasers (with their hidden share panels and permalinks) and newsletter promotions out."""
        galleries: list[Gallery] = []
        for el in list(root.iter("div", "section", "aside", "ul", "figure")):
            if el is root or el.getparent() is None:
                continue
            classes = el.get("class") or ""
            if LEGACY_GALLERY.search(classes) and el.xpath(".//img"):
                gallery = self.slideshow(el)
                if gallery and not galleries:
                    galleries.append(gallery)
                el.drop_tree()
            elif LEGACY_COMPONENTS.search(classes) or el.xpath("./form[.//input[@type='email']]"):
                el.drop_tree()
        return galleries

    def slideshow(self, box: Any) -> Gallery | None:
        """A slideshow (``div.gallery … ul.slides > li``): its title, each slide's title,
        caption and credit (often only in the image's ``title`` attribute)."""
        root = box if isinstance(box, HtmlElement) else box.root
        slides = root.xpath(".//ul[contains(@class,'slides')]/li | .//div[contains(@class,'slide')]"
                            "[not(ancestor::ul[contains(@class,'slides')])][.//img]")
        images = [found.gallery_image() for found in (self.read_box(li, title_css="h3, h4, strong")
                                                      for li in slides) if found]
        if not images:
            return None
        heading = next(iter(root.xpath("./h2 | ./h3 | .//*[contains(@class,'galleryTitle')]")), None)
        title = clean_text(heading.text_content()) if heading is not None else None
        if heading is not None and slides and heading in slides[0].iter():
            title = None
        return Gallery(title=title, images=images)

    def gallery(self) -> Gallery | None:
        if inline := self.body().galleries:
            return inline[0]
        box = self.response.css("div.gallery, div.imageGallery")
        return self.slideshow(box[0]) if box else None


def _is_time(value: Any) -> bool:
    from newscrawl.text import parse_datetime

    return isinstance(value, str) and parse_datetime(value) is not None


def _time_or_none(value: Any) -> str | None:
    return value if _is_time(value) else None


# ---- the site ------------------------------------------------------------------------------------

class DW(Site):
    name = "dw"
    base = BASE
    source_names: ClassVar[dict[str | None, str]] = SOURCE_NAMES
    allowed_domains: ClassVar[list[str]] = ["dw.com"]
    host_map = HOSTS
    tracking = TRACKING
    article_urls = (
        ArticleUrl(CONTENT_PATH, id="{kind}-{num}"),
        ArticleUrl(OLD_ARTICLE_PATH, id="a-{num}", moved_to="{base}/a-{num}"),
        ArticleUrl(API_ARTICLE, id=None, moved_to="{base}/zh/a-{num}", host="api.dw.com"),
    )
    article_what = "a DW article (a-…) or gallery (g-…) URL, nor a p.dw.com link"
    article_help = "article (a-…) or picture gallery (g-…) URLs, or short p.dw.com permalinks"
    #: DW's permalinks (``p.dw.com/p/4boRv``): they redirect to an article
    short_hosts = frozenset({"p.dw.com"})
    editions: ClassVar[dict[str, str]] = {edition: LANGS.get(edition, edition) for edition in EDITIONS}
    default_edition = "zh"
    feeds = (Feed(FEED_URL),)
    #: announced in robots.txt (read at run time: which editions have sitemaps can change)
    sitemaps = (Sitemap("{base}/robots.txt"),)
    listings = (
        Listing("topic", "topics", "topic/section pages: URLs, t-…/s-… ids, or bare numbers (topics)",
                item="topics (t-…/s-… ids, numbers or URLs)", path=TOPIC_PATH, value=TOPIC_ID,
                url="{base}/{edition}/{value}", page_what="a topic (t-…) or section (s-…) page",
                value_what="a topic or section: give t-… or s-… ids, numbers or www.dw.com URLs",
                written=lambda value: f"t-{value}" if value.isdigit() else value),
    )
    embed_hosts = EMBED_HOSTS
    body_markers = ('class="rich-text', 'class="longText', "__APOLLO_STATE__")

    layouts = (GalleryPage, ReactPage, LegacyPage)
    #: teasers put a kind kicker before the title ("图集" + "图集：从燃煤电厂到美术馆"); compared
    #: after folding to simplified script, so one pattern serves both editions
    teaser_affixes = re.compile(r"^(?:(?:图集|视频|音频)[：:]?\s*)+")

    def picture_url(self, url: str, max_width: int) -> str:
        return picture_url(url, max_width)

    def picture_identity(self, url: str) -> str:
        return picture_identity(url)

    def listing_entries(self, response: Response) -> list[Link]:
        """A topic page's links, each with the date its teaser carries in the page state
        (:func:`teaser_dates`) as :attr:`Link.modified <newscrawl.sites.base.Link.modified>`:
        an archived article listed with a date not later than its last check needs no due
        re-check; a later one has changed."""
        entries = super().listing_entries(response)
        state = apollo_state(response.text) if isinstance(response, TextResponse) else None
        if not state:
            return entries
        by_id = {}
        for path, when in teaser_dates(state).items():
            article_id = self.article_id(self.canonical_url(urljoin(BASE, path)))
            if article_id:
                by_id[article_id] = when
        return [link._replace(modified=by_id.get(self.article_id(self.canonical_url(link.url)) or ""))
                for link in entries]


SITE = DW()
