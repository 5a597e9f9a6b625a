"""``scrapy crawl epochtimes`` — The Epoch Times Chinese.

Sources (comma-separated; the full-text RSS feed when none is given):

* ``-a tags=王毅,布林肯`` — tag pages, by name or URL (followed over their pages);
* ``-a categories=nsc413`` — category listings, by id or URL (followed over their pages);
* ``-a urls=<article URL>,...`` — single articles;
* ``-a feed=1`` or ``-a feed=<feed URL>`` — read a feed as well (``feed=0``: not at all);
* ``-a edition=gb|b5`` — simplified (default) or traditional script: links to the other
  edition are followed in this one, so each article is fetched once;
* ``-a full=1`` — ignore the state: fetch every article again (see ``spiders/base.py``);
* ``-a optional=半导体`` — sources that may fail or list nothing without failing the run.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

from newscrawl.arguments import Argument, http_url
from newscrawl.sites.epochtimes import SITE
from newscrawl.spiders.base import FULL, OPTIONAL, NewsSpider, feed_argument

CATEGORY_ID = re.compile(r"[a-z]+\d+(?:\.htm)?")
CATEGORY_PATH = re.compile(r"^/(?:gb|b5)/[a-z]+\d+(?:_\d+)?\.htm$")
TAG_PATH = re.compile(r"^/(?:gb|b5)/tag/.+\.html$")


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "/"))


def _url_like(value: str, path: re.Pattern[str], what: str) -> str | None:
    full = SITE.canonical_url(value) if value.startswith("/") else value
    why = http_url(full, SITE.allowed_domains)
    if why or not path.match(urlsplit(full).path):
        return why or f"{value!r} is not {what}"
    return None


def _tag(value: str) -> str | None:
    if _is_url(value):
        return _url_like(value, TAG_PATH, "a tag page (…/gb/tag/<name>.html)")
    if "/" in value or "\\" in value:
        return f"{value!r} is not a tag name (give the name, e.g. 王毅, or the tag page's URL)"
    return None


def _category(value: str) -> str | None:
    if _is_url(value):
        return _url_like(value, CATEGORY_PATH, "a category listing (…/gb/nsc413.htm)")
    if not CATEGORY_ID.fullmatch(value):
        return f"{value!r} is not a category id (e.g. nsc413) or a category listing URL"
    return None


def _article(value: str) -> str | None:
    why = http_url(value, SITE.allowed_domains)
    if why is None and SITE.article_id(SITE.canonical_url(value)) is None:
        why = f"{value!r} is not an Epoch Times article URL (…/gb/22/10/31/n13856572.htm)"
    return why


class EpochTimesSpider(NewsSpider):
    name = "epochtimes"
    site = SITE
    allowed_domains = SITE.allowed_domains
    #: server-rendered pages: a browser would not find an article the HTML lacks
    render_fallback = False
    arguments: ClassVar[tuple[Argument, ...]] = (
        Argument("tags", "list", "tag pages, by name (王毅) or URL", check=_tag, item="tag names or URLs"),
        Argument("categories", "list", "category listings, by id (nsc413) or URL", check=_category,
                 item="category ids (nsc413) or URLs"),
        Argument("urls", "list", "single article URLs", check=_article, item="article URLs"),
        feed_argument(SITE.feed_url("gb"), SITE.allowed_domains),
        Argument("edition", "choice", "gb: simplified script (default), b5: traditional",
                 choices=("gb", "b5")),
        FULL,
        OPTIONAL,
    )

    def choose_sources(self, args: dict[str, Any]) -> None:
        self.edition = args["edition"] or "gb"
        for tag in args["tags"] or []:
            self.add_listing("tag", tag, SITE.tag_url(tag, self.edition))
        for category in args["categories"] or []:
            self.add_listing("category", category, SITE.category_url(category, self.edition))
        self.feeds = self.choose_feeds(args["feed"], SITE.feed_url(self.edition))

    def resolve_source(self, entry: str) -> list[str]:
        urls = [SITE.tag_url(entry, self.edition)] if not _tag(entry) else []
        return urls + ([SITE.category_url(entry, self.edition)] if not _category(entry) else [])

    def link_url(self, url: str) -> str:
        return SITE.to_edition(SITE.canonical_url(url), self.edition)
