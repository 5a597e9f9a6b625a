"""``scrapy crawl``, as Scrapy's, but a run stopped by another run's lock exits with 75.

(EX_TEMPFAIL: "try again later"), so cron and systemd can tell an overlap from a success
or a failure even without ``scrapy crawlall``. A run refused because its ``JOBDIR`` is
from a crawl that was killed exits with 1 (see :mod:`newscrawl.jobdir`).
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from newscrawl.commands.crawlall import EX_TEMPFAIL
from newscrawl.jobdir import JOBDIR_CRASHED


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider" if not args else
                             "running 'scrapy crawl' with more than one spider is not supported")
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats and crawler.stats.get_value("finish_reason") == "locked":
            self.exitcode = EX_TEMPFAIL
        elif crawler.stats and crawler.stats.get_value("finish_reason") == JOBDIR_CRASHED:
            self.exitcode = 1
