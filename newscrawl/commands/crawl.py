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
from newscrawl.commands import command_parser, process_of, settings_of
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
    #: the name its errors give (``scrapy crawl: error: …``)
    command_name = "crawl"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        command_parser(parser, self.command_name)

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        settings = settings_of(self)
        try:
            check_cli_settings(opts.set, settings)
            super().process_options(args, opts)
            if len(args) != 1:
                names = ", ".join(sorted(get_spider_loader(settings).list()))
                raise UsageError(f"give one spider ({names})" if not args else
                                 f"running 'scrapy {self.command_name}' with more than one spider "
                                 f"is not supported")
            spidercls = spider_class(settings, args[0])
            check_feed_targets(settings.getdict("FEEDS"))
            if hasattr(spidercls, "check_arguments"):
                spidercls.check_arguments(opts.spargs)
        except (UsageError, ArgumentError) as exc:
            usage_exit(self.command_name, str(exc))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        settings, process = settings_of(self), process_of(self)
        crawler = self._create_crawler(args[0])
        process.crawl(crawler, **opts.spargs)
        process.start()
        stats = crawler.stats.get_stats() if crawler.stats else {}
        reason = None if process.bootstrap_failed else stats.get("finish_reason")
        outcome = outcome_of(crawler, reason, max_errors=settings.getint("NEWSCRAWL_MAX_ERRORS"))
        report([outcome.summary()], settings)
        self.exitcode = outcome.status
