"""``scrapy crawlall [-c crawl.toml] [spider ...]``: several or all spiders in one go, for cron.

Each spider runs with the arguments and settings its section of the config file gives
(TOML; see ``deploy/crawl.toml``); without a config, every spider runs with its defaults.
The exit status tells cron and systemd how it went:

* ``0`` — every spider finished, without drift alarms;
* ``1`` — a spider failed: its archive could not be written or its state could not be used
  (``newscrawl/failed/*`` stats), its finish reason was not ``finished``, it logged more than
  ``NEWSCRAWL_MAX_ERRORS`` errors, its sources gave no article at all although articles
  were expected (``expect_articles``, default true), or its run report raised a
  layout-drift alarm;
* ``75`` (EX_TEMPFAIL) — nothing failed, but a spider was skipped because another run of
  it still holds its lock;
* ``2`` — a usage or config mistake, checked before anything runs
  (:func:`newscrawl.arguments.load_config`): a section that is no spider, an unknown key,
  argument or setting, a wrong value: one line on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, ClassVar

from scrapy import signals
from scrapy.commands import ScrapyCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from newscrawl.arguments import ArgumentError, check_cli_settings, did_you_mean, load_config, usage_exit

logger = logging.getLogger(__name__)
EX_TEMPFAIL = 75


def archive_failures(stats: dict[str, Any]) -> list[str]:
    """What the archive could not do (``newscrawl/failed/<what>`` stats): write failures, a
    state it could not use. Any of them fails the run, for ``scrapy crawl`` as for crawlall."""
    return [f"{what.removeprefix('newscrawl/failed/')} ({count}x)" for what, count in sorted(stats.items())
            if what.startswith("newscrawl/failed/") and count]


def judge(reason: str | None, stats: dict[str, Any], *, max_errors: int,
          expect_articles: bool) -> list[str]:
    """Why a finished crawl counts as failed (empty: it did not)."""
    problems = []
    if reason != "finished":
        problems.append(f"finish reason {reason!r}")
    errors = stats.get("log_count/ERROR", 0)
    if errors > max_errors:
        problems.append(f"{errors} errors logged (more than {max_errors})")
    seen = sum(stats.get(k, 0) for k in ("newscrawl/requests/article", "newscrawl/incremental/known_skipped",
                                         "newscrawl/incremental/failed_skipped"))
    if expect_articles and reason == "finished" and seen == 0:
        problems.append("its sources gave no article at all")
    problems.extend(archive_failures(stats))
    if stats.get("newscrawl/drift/alarms", 0):
        problems.append(f"{stats['newscrawl/drift/alarms']} layout-drift alarm(s) in its run report")
    return problems


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {}

    def syntax(self) -> str:
        return "[-c crawl.toml] [spider ...]"

    def short_desc(self) -> str:
        return "Run several or all spiders (for cron/systemd); non-zero exit status on failure"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-c", "--config", type=Path,
                            help="TOML file: a [spider] section each, with args and settings tables")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Everything is checked before a crawler is made: settings, config, spider names."""
        try:
            check_cli_settings(opts.set, self.settings)
            super().process_options(args, opts)
            loader = get_spider_loader(self.settings)
            spiders = {name: loader.load(name) for name in loader.list()}
            self.config = load_config(opts.config, spiders, self.settings) if opts.config else {}
            self.names = args or list(self.config) or sorted(spiders)
            for name in self.names:
                if name not in spiders:
                    raise ArgumentError(f"unknown spider {name!r}{did_you_mean(name, spiders)}; "
                                        f"the spiders are: {', '.join(sorted(spiders))}")
        except (UsageError, ArgumentError) as exc:
            usage_exit("crawlall", str(exc))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        loader = get_spider_loader(self.settings)
        outcomes: dict[str, dict[str, Any]] = {}
        for name in self.names:
            section = self.config.get(name, {})
            settings = self.settings.copy()
            settings.update(section.get("settings", {}), priority="cmdline")
            crawler = Crawler(loader.load(name), settings)
            outcome: dict[str, Any] = {"reason": None, "crawler": crawler,
                                       "expect_articles": section.get("expect_articles", True)}
            crawler.signals.connect(
                lambda spider, reason, outcome=outcome: outcome.update(reason=reason),
                signal=signals.spider_closed, weak=False)
            outcomes[name] = outcome
            self.crawler_process.crawl(crawler, **section.get("args", {}))
        self.crawler_process.start()
        self.exitcode = self._report(outcomes)

    def _report(self, outcomes: dict[str, dict[str, Any]]) -> int:
        failed, locked = [], []
        for name, outcome in outcomes.items():
            stats = outcome["crawler"].stats.get_stats() if outcome["crawler"].stats else {}
            if outcome["reason"] == "locked":
                locked.append(name)
                print(f"crawlall: {name}: skipped, another run holds its lock", file=sys.stderr)
                continue
            problems = judge(outcome["reason"], stats,
                             max_errors=self.settings.getint("NEWSCRAWL_MAX_ERRORS"),
                             expect_articles=outcome["expect_articles"])
            items = stats.get("item_scraped_count", 0)
            if problems:
                failed.append(name)
                print(f"crawlall: {name}: FAILED: {'; '.join(problems)}", file=sys.stderr)
            else:
                print(f"crawlall: {name}: ok, {items} new or changed articles", file=sys.stderr)
        if failed:
            return 1
        return EX_TEMPFAIL if locked else 0
