"""``scrapy reparse <spider> [--url URL ...]``: re-derive the archive from the WARC captures.

Runs the spider in reparse mode (``NEWSCRAWL_REPARSE``): its start yields one request per
article, for the captures of its page (:func:`newscrawl.replay.reparse_plan`), and
:class:`newscrawl.replay.ReplayMiddleware` answers every request (also a gallery page, a
redirect, a rendering) from the captures, so **no request reaches the site**. Responses,
callbacks and pipelines are those of a live crawl: an article whose item changed (a fixed
parser) gets a new version through the archive (its post rewritten, one more JSON line), an
unchanged one writes nothing. Capturing is off (nothing new was fetched) and robots.txt is
not asked for. Exit status as for ``scrapy crawl``; 1 also when a ``--url`` has no capture.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.exceptions import UsageError

from newscrawl.commands import process_of, require_warc_files, settings_of
from newscrawl.commands.crawl import Command as CrawlCommand
from newscrawl.commands.crawlall import EX_TEMPFAIL, archive_failures


class Command(CrawlCommand):
    command_name = "reparse"

    def syntax(self) -> str:
        return "<spider> [--url URL ...]"

    def short_desc(self) -> str:
        return "Re-parse articles from their WARC captures into new versions (no request to the site)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", action="append", default=[], metavar="URL",
                            help="only the article of this URL (may be repeated; default: every article)")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        settings = settings_of(self)
        require_warc_files(settings, args[0], "reparse")  # a UsageError: one line, exit status 2
        for name, value in {"NEWSCRAWL_REPARSE": True, "NEWSCRAWL_WARC": False,
                            "ROBOTSTXT_OBEY": False}.items():
            settings.set(name, value, priority="cmdline")
        if opts.url:
            opts.spargs["urls"] = ",".join(opts.url)  # as -a urls=a,b would give them

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider")
        process = process_of(self)
        crawler = self._create_crawler(args[0])
        process.crawl(crawler, **opts.spargs)
        process.start()
        if process.bootstrap_failed:
            self.exitcode = 1
            return
        stats = crawler.stats.get_stats() if crawler.stats else {}
        dropped = sum(v for k, v in stats.items() if k.startswith("newscrawl/dropped/"))
        n = {key: stats.get(f"newscrawl/items/{key}", 0) for key in ("new", "updated", "unchanged")}
        print(f"scrapy reparse: {args[0]}: {stats.get('newscrawl/reparse/replayed', 0)} responses replayed "
              f"from the captures, {stats.get('downloader/request_count', 0)} requests sent; new {n['new']}, "
              f"updated {n['updated']}, unchanged {n['unchanged']}, dropped {dropped}", file=sys.stderr)
        problems = archive_failures(stats)
        if problems:
            print(f"scrapy reparse: {args[0]} FAILED: {'; '.join(problems)}", file=sys.stderr)
            self.exitcode = 1
        elif stats.get("finish_reason") == "locked":
            self.exitcode = EX_TEMPFAIL
        elif (stats.get("newscrawl/reparse/selected_missing") or stats.get("newscrawl/reparse/no_captures")
              or stats.get("finish_reason") != "finished"):
            self.exitcode = 1
