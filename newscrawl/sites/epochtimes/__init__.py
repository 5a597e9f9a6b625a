"""The Epoch Times Chinese (``/gb/`` simplified, ``/b5/`` traditional).

Everything Epoch-Times-specific lives in this package: URL rules and editions, listings
(tag and category pages with their pagers), source names, the credit and trailer patterns,
boilerplate, the byline reader (:mod:`.byline`) and the page classes of its templates:

* :class:`CurrentPage` — ``h1.title`` and ``time[datetime]`` (with an offset), JSON-LD;
* :class:`ArttopPage` — ``div.arttop h1`` with a visible ``更新:`` time, JSON-LD in UTC;
* :class:`OldPage` — ``#artContent`` with ``h1.blue18``, only the visible US Eastern time.

Every layout has its body in ``#artbody``; a page without paragraphs there is no article.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import quote, urljoin
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement
from scrapy.http import Response, TextResponse

from newscrawl.sites.base import (
    URL_JUNK,
    ArticlePage,
    ArticleUrl,
    CreditRules,
    Feed,
    Link,
    Listing,
    Published,
    Site,
    Sitemap,
    first,
    ld_date,
)
from newscrawl.sites.epochtimes.byline import BYLINE, DATELINE, NameBook, parse_byline
from newscrawl.text import clean_text, parse_datetime

BASE = "https://www.epochtimes.com"
HOSTS = {"epochtimes.com": "www.epochtimes.com", "m.epochtimes.com": "www.epochtimes.com"}
ARTICLE_PATH = re.compile(r"^/(?P<ed>gb|b5)/\d{1,2}/\d{1,2}/\d{1,2}/(?P<id>n\d+)\.htm$")
#: Tag pages (``/gb/tag/王毅.html``) and category listings (``/gb/nsc413.htm``, ``_2`` pages).
TAG_PATH = re.compile(r"^/(?:gb|b5)/tag/.+\.html$")
#: The creation day in an article URL's path: two-digit year, month and day without zeros.
URL_DAY = re.compile(r"/(?:gb|b5)/(\d{1,2})/(\d{1,2})/(\d{1,2})/n\d+\.htm")
CATEGORY_PATH = re.compile(r"^/(?:gb|b5)/[a-z]+\d+(?:_\d+)?\.htm$")
#: A bare tag name (no path) and category id.
TAG_NAME = re.compile(r"[^/\\]+")
CATEGORY_ID = re.compile(r"[a-z]+\d+(?:\.htm)?")
EDITIONS = {"gb": "zh-Hans", "b5": "zh-Hant"}
#: The archive's name for the site (one name for both scripts).
SOURCE_NAMES: dict[str | None, str] = {None: "大纪元"}
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
CREDITS = CreditRules(tail=re.compile(r"[（(](?P<credit>[^（）()]{1,60})[)）]\s*$"))


def eastern_to_utc(text: str | None) -> str | None:
    """``更新: 2022-10-31 12:39 PM`` read as New York time (daylight saving aware) → UTC."""
    found = eastern_time(text)
    return found.value if found else None


def eastern_time(text: str | None) -> Published | None:
    """The visible time as a :class:`Published` (to the minute, or the second when shown)."""
    match = VISIBLE_TIME.search(text or "")
    if not match:
        return None
    year, month, day, hour, minute, second, ampm = match.groups()
    hour = int(hour)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
    try:
        local = datetime(int(year), int(month), int(day), hour, int(minute), int(second or 0), tzinfo=EASTERN)
    except ValueError:  # February 30, minute 61, year 0
        return None
    utc = parse_datetime(local)
    if utc is None:
        return None
    return Published(utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "second" if second else "minute")


# ---- page classes ------------------------------------------------------------------------------

class EpochTimesPage(ArticlePage):
    """What every Epoch Times layout shares: ``#artbody``, trailers, bylines, tags, crumbs."""

    site: EpochTimes
    boilerplate_css = BOILERPLATE_CSS
    credit_rules = CREDITS
    #: The title element of the layout.
    title_css: ClassVar[str] = "h1"

    @classmethod
    def has_body(cls, response: TextResponse) -> bool:
        return bool(response.xpath("//*[@id='artbody']//p[normalize-space()]"))

    @cached_property
    def ld(self) -> dict[str, Any]:
        return self.ld_of_type("NewsArticle", "Article", "ReportageNewsArticle")

    def title(self) -> str | None:
        return first(lambda: self.text(self.title_css), lambda: clean_text(self.meta("og:title")),
                     lambda: clean_text(self.ld.get("headline")))

    def visible_time(self) -> Published | None:
        shown = self.response.css("div.arttop, .art_info, time, .article_info, .post_time, .publish_date")
        return eastern_time(" ".join(shown.xpath("string()").getall()))

    def published(self) -> Published | None:
        exact = first(lambda: _time(self.response.css("time::attr(datetime)").get()),
                      lambda: _time(self.meta("article:published_time")),
                      lambda: _time(ld_date(self.ld.get("datePublished"))))
        return Published(exact) if exact else self.visible_time()

    def updated(self) -> str | None:
        return first(lambda: _time(ld_date(self.ld.get("dateModified"))),
                     lambda: _time(self.meta("article:modified_time")))

    def authors(self) -> list[str]:
        return parse_byline(self.byline_text(), NameBook(self.context.known_names))

    def byline_text(self) -> str | None:
        """The first paragraph's text, or the first two when the dateline stands alone."""
        paragraphs = self.body().paragraphs
        if not paragraphs:
            return None
        if len(paragraphs) > 1 and DATELINE.sub("", paragraphs[0]).strip() == "":
            return paragraphs[0] + paragraphs[1]
        return paragraphs[0]

    def lead(self) -> str | None:
        """The page's description, without the dateline and byline it often starts with."""
        text = clean_text(first(lambda: self.meta("description"), lambda: self.meta("og:description"))) or ""
        text = DATELINE.sub("", text)
        return clean_text(BYLINE.sub("", text, count=1))

    def tags(self) -> list[str]:
        links = self.response.xpath(
            "//*[@id='artbody']//a[contains(@href, '/tag/')]"
            " | //*[contains(concat(' ', @class, ' '), ' post_tags ') or @id='tags']"
            "//a[contains(@href, '/tag/')]")
        return [t for t in (clean_text(a.xpath("string()").get()) for a in links) if t]

    def category(self) -> str | None:
        crumbs = [clean_text(t) for t in self.response.css("a.breadcrumbs").xpath("string()").getall()]
        crumbs = [c for c in crumbs if c and c not in ("首页", "首頁")]
        return crumbs[-1] if crumbs else None

    def body_html(self) -> str | None:
        return self.dom_markup("#artbody")

    def image_url(self, src: str | None) -> str | None:
        src = URL_JUNK.sub("", src or "")
        if not src:
            return None
        src = src.split("data:")[0] if not src.startswith("data:") else ""
        try:
            url = urljoin(BASE, src) if src else None
        except ValueError:
            return None
        return url if url and url.startswith(("http://", "https://")) else None

    def is_boilerplate_line(self, text: str) -> bool:
        return bool(DROP_LINE.match(text))

    def credit_parts(self, text: str) -> list[tuple[str, list[str]]]:
        match = EDITOR_LINE.match(text)
        name = clean_text(match.group("name")) if match else None
        return [("editor", [name])] if name else []

    def take_lines(self, root: HtmlElement, credits: dict[str, list[str]]) -> None:
        super().take_lines(root, credits)
        # the end mark may close the last paragraph: "…。 #"
        paragraphs = [el for el in root.iter("p") if clean_text(el.text_content())]
        if paragraphs:
            last = paragraphs[-1]
            holder, attr = (last, "text") if len(last) == 0 else (last[-1], "tail")
            value = getattr(holder, attr) or ""
            if TRAILING_END_MARK.search(value):
                setattr(holder, attr, TRAILING_END_MARK.sub("", value))

    def editor(self) -> str | None:
        editors = self.body().credits.get("editor", [])
        return editors[0] if editors else None


class CurrentPage(EpochTimesPage):
    """Since about 2021 (estimated): ``div.arttop h1.title``, ``time[datetime]`` with an
    offset, ``article:published_time``, JSON-LD."""

    layout = "current"
    valid_from = date(2021, 1, 1)
    title_css = "h1.title"

    @classmethod
    def matches(cls, response: TextResponse) -> bool:
        return bool(response.css("h1.title:not(.blue18), time[datetime]")) and cls.has_body(response)


class ArttopPage(EpochTimesPage):
    """About 2016–2021 (estimated; some pages keep it later): ``div.arttop`` with a plain
    ``h1`` and a visible ``更新:`` time; JSON-LD dates in UTC."""

    layout = "arttop"
    valid_from = date(2016, 1, 1)
    valid_until = date(2021, 1, 1)
    title_css = "div.arttop h1"

    @classmethod
    def matches(cls, response: TextResponse) -> bool:
        return bool(response.css("div.arttop h1")) and cls.has_body(response)

    def published(self) -> Published | None:
        exact = first(lambda: _time(ld_date(self.ld.get("datePublished"))),
                      lambda: _time(self.meta("article:published_time")))
        return Published(exact) if exact else self.visible_time()


class OldPage(EpochTimesPage):
    """Until about 2016 (estimated): ``#artContent`` with ``h1.blue18`` and ``div.art_info``
    holding only the visible US Eastern time; no JSON-LD."""

    layout = "old"
    valid_until = date(2016, 1, 1)
    title_css = "h1.blue18"

    @classmethod
    def matches(cls, response: TextResponse) -> bool:
        return bool(response.css("h1.blue18, #artContent")) and cls.has_body(response)

    def published(self) -> Published | None:
        return first(self.visible_time, lambda: super(OldPage, self).published())


class PlainPage(EpochTimesPage):
    """Any other page with paragraphs in ``#artbody`` (a saver stripped the header):
    ``og:title``/JSON-LD title, any time the page has."""

    layout = "plain"

    @classmethod
    def matches(cls, response: TextResponse) -> bool:
        return cls.has_body(response)


def _time(value: Any) -> str | None:
    return value if isinstance(value, str) and parse_datetime(value) is not None else None


# ---- the site --------------------------------------------------------------------------------------

#: A WordPress size variant of an upload: ``…/photo-600x400.jpg`` of ``…/photo.jpg``.
SIZED_UPLOAD = re.compile(r"^(?P<base>https?://[^/?#]*epochtimes\.com/assets/uploads/[^?#]+?)"
                          r"-\d{2,5}x\d{2,5}(?P<ext>\.\w{3,4})$")


def picture_url(url: str) -> str:
    """The original upload of an Epoch Times picture (WordPress's size suffix removed)."""
    match = SIZED_UPLOAD.match(url)
    return match.group("base") + match.group("ext") if match else url


class EpochTimes(Site):
    name = "epochtimes"
    base = BASE
    source_names: ClassVar[dict[str | None, str]] = SOURCE_NAMES
    allowed_domains: ClassVar[list[str]] = ["epochtimes.com"]
    host_map = HOSTS
    article_urls = (ArticleUrl(ARTICLE_PATH),)
    article_what = "an Epoch Times article URL (…/gb/22/10/31/n13856572.htm)"
    editions = EDITIONS
    default_edition = "gb"
    #: every page is in both scripts, under the same path
    edition_twins = True
    feeds = (Feed("{base}/{edition}/nsc413.xml"),)
    #: announced in robots.txt (read at run time: which editions have sitemaps can change)
    sitemaps = (Sitemap("{base}/robots.txt"),)
    listings = (
        Listing("tag", "tags", "tag pages, by name (王毅) or URL; followed over their numbered pages",
                item="tag names or URLs", path=TAG_PATH,
                value=TAG_NAME, url="{base}/{edition}/tag/{value}.html",
                page_what="a tag page (…/gb/tag/<name>.html)",
                value_what="a tag name (give the name, e.g. 王毅, or the tag page's URL)", written=quote),
        Listing("category", "categories",
                "category listings, by id (nsc413) or URL; followed over their pages",
                item="category ids (nsc413) or URLs", path=CATEGORY_PATH, value=CATEGORY_ID,
                url="{base}/{edition}/{value}.htm", page_what="a category listing (…/gb/nsc413.htm)",
                value_what="a category id (e.g. nsc413) or a category listing URL",
                written=lambda value: value.removesuffix(".htm")),
    )
    #: tag and category pages list the newest articles first
    listings_newest_first = True
    #: Tried in this order: the most specific markers first, the plain fallback last.
    layouts = (OldPage, CurrentPage, ArttopPage, PlainPage)
    body_markers = ('id="artbody"',)

    def picture_url(self, url: str, max_width: int) -> str:
        return picture_url(url)  # the original: WordPress offers no chosen width

    def picture_identity(self, url: str) -> str:
        """The original upload: ``photo-600x400.jpg`` and ``photo.jpg`` are one picture."""
        return picture_url(url)

    def link_date(self, link: Link) -> date | None:
        """The creation day in the article's URL (``/gb/22/10/31/n….htm``: 2022-10-31), which
        may be a day before its publication; else what the base reads (a sitemap's lastmod)."""
        match = URL_DAY.search(link.url)
        if match:
            year, month, day = (int(part) for part in match.groups())
            with contextlib.suppress(ValueError):
                return date(2000 + year, month, day)
        return super().link_date(link)

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


SITE = EpochTimes()

__all__ = ["SITE", "ArttopPage", "CurrentPage", "EpochTimes", "OldPage", "PlainPage", "eastern_to_utc",
           "parse_byline"]
