"""``scrapy extract <spider> <saved-page> --url <page URL>``: re-parse a saved page.

Prints the item as one JSON object on stdout, normalised exactly as the pipelines would
(nothing is written, no state is read). A page the parser cannot turn into a valid item
gives a clear message on stderr and exit status 1. For debugging a layout change and for
re-parsing archived HTML.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.http import HtmlResponse
from scrapy.spiderloader import get_spider_loader

from newscrawl.pipelines import normalize_article, validate_article
from newscrawl.sites import ParseError


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider> <saved-page> --url <page URL>"

    def short_desc(self) -> str:
        return "Parse a saved page with a spider's site parser and print the item as JSON"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", required=True, help="the URL the page was fetched from")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 2:
            raise UsageError("give a spider name and a saved page")
        name, page = args
        try:
            spidercls = get_spider_loader(self.settings).load(name)
        except KeyError:
            return self._fail(f"unknown spider {name!r}")
        site = getattr(spidercls, "site", None)
        if site is None:
            return self._fail(f"spider {name!r} has no site parser")
        try:
            body = Path(page).read_bytes()
        except OSError as exc:
            return self._fail(f"cannot read {page}: {exc.strerror}")
        response = HtmlResponse(url=opts.url, body=body)
        try:
            parsed = site.parse(response)
        except ParseError as exc:
            return self._fail(f"cannot parse {page}: {exc} [{exc.reason}]")
        item = normalize_article(parsed.item)
        reason = validate_article(item)
        if reason:
            return self._fail(f"{page} gives no valid article: {reason}")
        if parsed.gallery_url:
            print(f"note: full gallery captions are on {parsed.gallery_url}", file=sys.stderr)
        sys.stdout.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")

    def _fail(self, message: str) -> None:
        print(f"scrapy extract: {message}", file=sys.stderr)
        self.exitcode = 1
