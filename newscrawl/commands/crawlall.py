"""``scrapy crawlall [-c crawl.toml] [spider ...]``: several or all spiders in one go, for cron.

Each spider runs with the arguments and settings its section of the config file gives
(TOML; see ``deploy/crawl.toml``); without a config, every spider runs with its defaults.
The config is checked before anything runs (:func:`newscrawl.arguments.load_config`): a
section that is no spider, an unknown key, argument or setting, or a wrong value is one line
on stderr and exit status 2. Each spider's run ends with one summary line; the exit status
(:mod:`newscrawl.outcome`) is 0 ok, 1 a spider failed, 2 a usage or config mistake, 75 a
spider was skipped because another run of it holds its lock (and none failed).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, ClassVar

from scrapy import signals
from scrapy.commands import ScrapyCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from newscrawl.arguments import ArgumentError, check_cli_settings, did_you_mean, load_config, usage_exit
from newscrawl.commands import command_parser, process_of, settings_of
from newscrawl.outcome import EX_TEMPFAIL, archive_failures, exit_status, judge, outcome_of, report

logger = logging.getLogger(__name__)
__all__ = ["EX_TEMPFAIL", "Command", "archive_failures", "judge"]


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {}

    def syntax(self) -> str:
        return "[-c crawl.toml] [spider ...]"

    def short_desc(self) -> str:
        return "Run several or all spiders (for cron/systemd); non-zero exit status on failure"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        command_parser(parser, "crawlall")
        parser.add_argument("-c", "--config", type=Path,
                            help="TOML file: a [spider] section each, with args and settings tables")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Everything is checked before a crawler is made: settings, config, spider names."""
        settings = settings_of(self)
        try:
            check_cli_settings(opts.set, settings)
            super().process_options(args, opts)
            loader = get_spider_loader(settings)
            spiders = {name: loader.load(name) for name in loader.list()}
            self.config = load_config(opts.config, spiders, settings) if opts.config else {}
            self.names = args or list(self.config) or sorted(spiders)
            for name in self.names:
                if name not in spiders:
                    raise ArgumentError(f"unknown spider {name!r}{did_you_mean(name, spiders)}; "
                                        f"the spiders are: {', '.join(sorted(spiders))}")
        except (UsageError, ArgumentError) as exc:
            usage_exit("crawlall", str(exc))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        own, process = settings_of(self), process_of(self)
        loader = get_spider_loader(own)
        runs: dict[str, dict[str, Any]] = {}
        for name in self.names:
            section = self.config.get(name, {})
            settings = own.copy()
            settings.update(section.get("settings", {}), priority="cmdline")
            crawler = Crawler(loader.load(name), settings)
            run: dict[str, Any] = {"reason": None, "crawler": crawler,
                                   "expect_articles": section.get("expect_articles", True)}
            crawler.signals.connect(
                lambda spider, reason, run=run: run.update(reason=reason),
                signal=signals.spider_closed, weak=False)
            runs[name] = run
            args_ = dict(section.get("args", {}))
            if not run["expect_articles"] and "optional" not in args_:
                args_["optional"] = "*"  # expect_articles = false: every source may list nothing
            process.crawl(crawler, **args_)
        process.start()
        outcomes = [outcome_of(run["crawler"], run["reason"], expect_articles=run["expect_articles"],
                               max_errors=own.getint("NEWSCRAWL_MAX_ERRORS"))
                    for run in runs.values()]
        report([f"crawlall: {outcome.summary()}" for outcome in outcomes], own)
        self.exitcode = exit_status(outcomes)
