"""``scrapy crawl dw`` — Deutsche Welle Chinese.

Sources (comma-separated lists; the RSS feed when none is given):

* ``-a topics=t-12345,https://www.dw.com/zh/<name>/s-9058`` — topic/section pages (URLs,
  ``t-``/``s-`` ids, or bare numbers for topics);
* ``-a urls=<article or gallery URL>,...`` — single pages;
* ``-a feed=1`` (the Chinese feed) or ``-a feed=<feed URL>`` — read a feed as well;
* ``-a lang=zh`` — the edition that bare topic ids resolve to (``zh`` or ``zh-hant``);
* ``-a full=1`` — ignore the state: fetch every article again (see ``spiders/base.py``);
* ``-a optional=t-12345`` — sources that may fail or list nothing without failing the run.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from newscrawl.arguments import Argument, http_url
from newscrawl.sites.dw import SITE
from newscrawl.spiders.base import FULL, OPTIONAL, NewsSpider, feed_argument

TOPIC_ID = re.compile(r"[ts]-\d+|\d+")
TOPIC_PATH = re.compile(r"/[ts]-\d+/?$")


def _topic(value: str) -> str | None:
    if value.startswith(("http://", "https://", "//")):
        why = http_url(value if not value.startswith("//") else "https:" + value, SITE.allowed_domains)
        if why or not TOPIC_PATH.search(unquote(urlsplit(value).path)):
            return why or f"{value!r} is not a topic (t-…) or section (s-…) page"
        return None
    if not TOPIC_ID.fullmatch(value):
        return f"{value!r} is not a topic or section: give t-… or s-… ids, numbers or www.dw.com URLs"
    return None


def _article(value: str) -> str | None:
    why = http_url(value, SITE.allowed_domains)
    if why:
        return why
    if SITE.article_id(SITE.canonical_url(value)) is None and urlsplit(value).hostname != "p.dw.com":
        return f"{value!r} is not a DW article (a-…) or gallery (g-…) URL, nor a p.dw.com link"
    return None


class DwSpider(NewsSpider):
    name = "dw"
    site = SITE
    allowed_domains = SITE.allowed_domains
    arguments: ClassVar[tuple[Argument, ...]] = (
        Argument("topics", "list", "topic/section pages: URLs, t-…/s-… ids, or numbers (topics)",
                 check=_topic, item="topics (t-…/s-… ids, numbers or URLs)"),
        Argument("urls", "list", "article (a-…) or gallery (g-…) URLs, or p.dw.com links",
                 check=_article, item="article URLs"),
        feed_argument(SITE.feed_url, SITE.allowed_domains),
        Argument("lang", "choice", "the edition bare topic ids resolve to", choices=("zh", "zh-hant")),
        FULL,
        OPTIONAL,
    )

    def choose_sources(self, args: dict[str, Any]) -> None:
        self.lang = args["lang"] or "zh"
        for topic in args["topics"] or []:
            self.add_listing("topic", topic, SITE.listing_url(topic, self.lang))
        self.feeds = self.choose_feeds(args["feed"], SITE.feed_url)

    def resolve_source(self, entry: str) -> list[str]:
        return [SITE.listing_url(entry, self.lang)] if not _topic(entry) else []
