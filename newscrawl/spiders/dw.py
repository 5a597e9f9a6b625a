"""``scrapy crawl dw`` — Deutsche Welle Chinese.

Sources (comma-separated lists; the RSS feed when none is given):

* ``-a topics=t-12345,https://www.dw.com/zh/<name>/s-9058`` — topic/section pages (URLs,
  ``t-``/``s-`` ids, or bare numbers for topics);
* ``-a urls=<article or gallery URL>,...`` — single pages;
* ``-a feed=1`` (the Chinese feed) or ``-a feed=<feed URL>`` — read a feed as well;
* ``-a lang=zh`` — the edition that bare topic ids resolve to (``zh`` or ``zh-hant``);
* ``-a full=1`` — ignore the state: fetch every article again (see ``spiders/base.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy

from newscrawl.sites.dw import SITE
from newscrawl.spiders.base import NewsSpider, falsy, split_arg, truthy


class DwSpider(NewsSpider):
    name = "dw"
    site = SITE
    allowed_domains = SITE.allowed_domains

    def __init__(self, *args: Any, topics: str | None = None, feed: str | None = None,
                 lang: str = "zh", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lang = lang
        self.topics = [SITE.listing_url(t, lang) for t in split_arg(topics)]
        if feed is None:
            self.feeds = [] if self.topics or self.urls else [SITE.feed_url]
        elif truthy(feed):
            self.feeds = [SITE.feed_url]
        elif falsy(feed):
            self.feeds = []
        else:
            self.feeds = split_arg(feed)

    async def start(self) -> AsyncIterator[Any]:
        for url in self.feeds:
            yield scrapy.Request(url, callback=self.parse_feed)
        for url in self.topics:
            yield scrapy.Request(url, callback=self.parse_listing)
        for request in self.article_requests(self.urls, explicit=True, source="urls"):
            yield request
