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

from typing import Any

from newscrawl.sites.dw import SITE
from newscrawl.spiders.base import NewsSpider, split_arg


class DwSpider(NewsSpider):
    name = "dw"
    site = SITE
    allowed_domains = SITE.allowed_domains

    def __init__(self, *args: Any, topics: str | None = None, feed: str | None = None,
                 lang: str = "zh", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lang = lang
        self.listings = [SITE.listing_url(t, lang) for t in split_arg(topics)]
        self.feeds = self.choose_feeds(feed, SITE.feed_url)
