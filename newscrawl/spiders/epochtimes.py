"""``scrapy crawl epochtimes`` — The Epoch Times Chinese.

Sources (comma-separated; the full-text RSS feed when none is given):

* ``-a tags=王毅,布林肯`` — tag pages, by name or URL (followed over their pages);
* ``-a categories=nsc413`` — category listings, by id or URL (followed over their pages);
* ``-a urls=<article URL>,...`` — single articles;
* ``-a feed=1`` or ``-a feed=<feed URL>`` — read a feed as well (``feed=0``: not at all);
* ``-a edition=gb|b5`` — simplified (default) or traditional script: links to the other
  edition are followed in this one, so each article is fetched once;
* ``-a full=1`` — ignore the state: fetch every article again (see ``spiders/base.py``).
"""

from __future__ import annotations

from typing import Any

from newscrawl.sites.epochtimes import SITE
from newscrawl.spiders.base import NewsSpider, split_arg


class EpochTimesSpider(NewsSpider):
    name = "epochtimes"
    site = SITE
    allowed_domains = SITE.allowed_domains
    #: server-rendered pages: a browser would not find an article the HTML lacks
    render_fallback = False

    def __init__(self, *args: Any, tags: str | None = None, categories: str | None = None,
                 feed: str | None = None, edition: str = "gb", **kwargs: Any):
        super().__init__(*args, **kwargs)
        if edition not in ("gb", "b5"):
            raise ValueError(f"edition must be gb or b5, not {edition!r}")
        self.edition = edition
        self.listings = [SITE.tag_url(t, edition) for t in split_arg(tags)]
        self.listings += [SITE.category_url(c, edition) for c in split_arg(categories)]
        self.feeds = self.choose_feeds(feed, SITE.feed_url(edition))

    def link_url(self, url: str) -> str:
        return SITE.to_edition(SITE.canonical_url(url), self.edition)
