"""``scrapy crawl epochtimes`` — The Epoch Times Chinese.

Sources (comma-separated; the full-text RSS feed when none is given):

* ``-a tags=王毅,布林肯`` — tag pages, by name or URL (followed over their pages);
* ``-a categories=nsc413`` — category listings, by id or URL (followed over their pages);
* ``-a urls=<article URL>,...`` — single articles;
* ``-a feed=1`` or ``-a feed=<feed URL>`` — read a feed as well (``feed=0``: not at all);
* ``-a edition=gb|b5`` — simplified (default) or traditional script: links to the other
  edition are followed in this one, so each article is fetched once;
* ``-a full=1`` — ignore the state: fetch every article again (see ``crawling/incremental.py``);
* ``-a optional=半导体`` — sources that may fail or list nothing without failing the run.

The arguments are derived from what :class:`~newscrawl.sites.epochtimes.EpochTimes`
declares (:mod:`newscrawl.spiders.declared`).
"""

from __future__ import annotations

from newscrawl.arguments import Argument
from newscrawl.sites.epochtimes import SITE
from newscrawl.spiders.declared import SiteSpider


class EpochTimesSpider(SiteSpider):
    name = "epochtimes"
    site = SITE
    #: server-rendered pages: a browser would not find an article the HTML lacks
    render_fallback = False
    edition_argument = Argument(
        "edition", "choice", "gb: simplified script (default), b5: traditional; links to the other edition"
        " are followed in this one, so a story and its twin give one post", choices=("gb", "b5"))
