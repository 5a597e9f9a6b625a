"""``scrapy crawl dw`` — Deutsche Welle Chinese.

Sources (comma-separated lists; the RSS feed when none is given):

* ``-a topics=t-12345,https://www.dw.com/zh/<name>/s-9058`` — topic/section pages (URLs,
  ``t-``/``s-`` ids, or bare numbers for topics);
* ``-a urls=<article or gallery URL>,...`` — single pages;
* ``-a feed=1`` (the Chinese feed) or ``-a feed=<feed URL>`` — read a feed as well;
* ``-a lang=zh`` — the edition that bare topic ids resolve to (``zh`` or ``zh-hant``);
* ``-a full=1`` — ignore the state: fetch every article again (see ``crawling/incremental.py``);
* ``-a optional=t-12345`` — sources that may fail or list nothing without failing the run.

The arguments are derived from what :class:`~newscrawl.sites.dw.DW` declares
(:mod:`newscrawl.spiders.declared`).
"""

from __future__ import annotations

from newscrawl.arguments import Argument
from newscrawl.sites.dw import SITE
from newscrawl.spiders.declared import SiteSpider


class DwSpider(SiteSpider):
    name = "dw"
    site = SITE
    edition_argument = Argument("lang", "choice", "the edition bare topic ids resolve to (default zh)",
                                choices=("zh", "zh-hant"))
