"""``scrapy crawl``, as Scrapy's, with an exit status that says how the run went.

* ``1`` when the archive could not be written or the state could not be used (a full disk,
  a read-only folder, a damaged, newer or missing state: see :mod:`newscrawl.archive`), or
  when its ``JOBDIR`` is from a crawl that was killed (see :mod:`newscrawl.jobdir`);
* ``75`` (EX_TEMPFAIL: "try again later") when another run holds the spider's lock, so cron
  and systemd can tell an overlap from a success or a failure even without ``scrapy crawlall``.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from newscrawl.commands.crawlall import EX_TEMPFAIL, archive_failures
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
            return
        stats = crawler.stats.get_stats() if crawler.stats else {}
        problems = archive_failures(stats)
        if problems:
            print(f"scrapy crawl: {args[0]} FAILED: {'; '.join(problems)}", file=sys.stderr)
            self.exitcode = 1
        elif stats.get("finish_reason") == JOBDIR_CRASHED:
            self.exitcode = 1
        elif stats.get("finish_reason") == "locked":
            self.exitcode = EX_TEMPFAIL
