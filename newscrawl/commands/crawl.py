"""``scrapy crawl``, as Scrapy's, with its arguments checked first and an exit status that
says how the run went (see :mod:`newscrawl.outcome`):

* ``0`` ok; ``1`` failed (did not start or finish, archive or state failures, a failed
  source that is not optional, too many errors, a drift alarm); ``2`` a usage mistake (an
  unknown spider, argument or ``NEWSCRAWL_*`` setting, a wrong value: one line on stderr,
  nothing crawled); ``75`` another run of the spider holds its lock.

The run ends with one summary line on stderr (:meth:`newscrawl.outcome.Outcome.summary`).
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from newscrawl.arguments import (
    ArgumentError,
    check_cli_settings,
    check_feed_targets,
    did_you_mean,
    usage_exit,
)
from newscrawl.outcome import outcome_of, report


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
            check_feed_targets(self.settings.getdict("FEEDS"))
            if hasattr(spidercls, "check_arguments"):
                spidercls.check_arguments(opts.spargs)
        except (UsageError, ArgumentError) as exc:
            usage_exit("crawl", str(exc))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        stats = crawler.stats.get_stats() if crawler.stats else {}
        reason = None if self.crawler_process.bootstrap_failed else stats.get("finish_reason")
        outcome = outcome_of(crawler, reason, max_errors=self.settings.getint("NEWSCRAWL_MAX_ERRORS"))
        report([outcome.summary()], self.settings)
        self.exitcode = outcome.status
