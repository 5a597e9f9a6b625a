"""``scrapy crawl``, as Scrapy's, with an exit status that says how the run went.

* ``1`` when the archive could not be written or the state could not be used (a full disk,
  a read-only folder, a damaged, newer or missing state: see :mod:`newscrawl.archive`), or
  when its ``JOBDIR`` is from a crawl that was killed (see :mod:`newscrawl.jobdir`);
* ``75`` (EX_TEMPFAIL: "try again later") when another run holds the spider's lock, so cron
  and systemd can tell an overlap from a success or a failure even without ``scrapy crawlall``;
* ``2`` on a usage mistake: an unknown spider, argument or ``NEWSCRAWL_*`` setting, a wrong
  value (:mod:`newscrawl.arguments`): one line on stderr, nothing crawled.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from newscrawl.arguments import ArgumentError, check_cli_settings, did_you_mean, usage_exit
from newscrawl.commands.crawlall import EX_TEMPFAIL, archive_failures
from newscrawl.jobdir import JOBDIR_CRASHED


def spider_class(settings, name: str) -> type:
    """The spider ``name``, or ArgumentError naming the spiders (with a "did you mean")."""
    loader = get_spider_loader(settings)
    try:
        return loader.load(name)
    except KeyError:
        names = sorted(loader.list())
        raise ArgumentError(f"unknown spider {name!r}{did_you_mean(name, names)}; "
                            f"the spiders are: {', '.join(names)}") from None


class Command(ScrapyCrawl):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            check_cli_settings(opts.set, self.settings)
            super().process_options(args, opts)
            if len(args) != 1:
                names = ", ".join(sorted(get_spider_loader(self.settings).list()))
                raise UsageError(f"give one spider ({names})" if not args else
                                 "running 'scrapy crawl' with more than one spider is not supported")
            spidercls = spider_class(self.settings, args[0])
            if hasattr(spidercls, "check_arguments"):
                spidercls.check_arguments(opts.spargs)
        except (UsageError, ArgumentError) as exc:
            usage_exit("crawl", str(exc))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
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
