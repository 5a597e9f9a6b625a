"""``scrapy extract <spider> <saved-page> [--url <page URL>]``: re-parse a saved page.

The page is parsed as fetched from ``--url``; without it, from the URL the page gives itself
(its canonical link, or ``og:url``), which a saved article page has.

``scrapy extract <spider> --warc <file.warc.gz> --url <page URL> [--at <time>]`` parses the
latest capture of that URL in a WARC file or a folder of them (at or before ``--at``) as
the live response was parsed: same headers, body decoded as Scrapy decodes it,
``crawled_at`` the time of the capture.

Prints the item as one JSON object on stdout, normalised exactly as the pipelines would
(nothing is written, no state is read). A page the parser cannot turn into a valid item
(also an empty or binary file, or a page that says it is another article than ``--url``)
gives a clear message on stderr and exit status 1; an unknown spider, a ``--url`` that is
not an article URL of the spider's site, or a saved page without ``--url`` that names no article
URL of its own, one line and exit status 2. For debugging a layout
change and for re-parsing archived HTML.
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
from scrapy.http import HtmlResponse, Response, TextResponse

from newscrawl.arguments import ArgumentError, http_url, usage_exit
from newscrawl.commands import command_parser, settings_of
from newscrawl.commands.crawl import spider_class
from newscrawl.pipelines import normalize_article, validate_article
from newscrawl.replay import decoded, find_in_file, parse_at
from newscrawl.sites import ParseError, Site
from newscrawl.sites.base import meta_content
from newscrawl.warc import CAPTURE_META


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return ("<spider> (<saved-page> [--url <page URL>] | "
                "--warc <file.warc.gz> --url <page URL> [--at <time>])")

    def short_desc(self) -> str:
        return "Parse a saved page with a spider's site parser and print the item as JSON"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        command_parser(parser, "extract")
        parser.add_argument("--url", help="the URL the page was fetched from (with a saved page, default: "
                            "the URL its canonical link or og:url gives)")
        parser.add_argument("--warc", metavar="FILE", help="parse the page's capture in this WARC file "
                            "(or in the WARC files of this folder)")
        parser.add_argument("--at", metavar="TIME", help="with --warc: the latest capture at or before "
                            "TIME (ISO 8601, or a timestamp such as 20261122 or 20261122023133)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != (1 if opts.warc else 2):
            raise UsageError("give a spider name and a saved page, or a spider name and --warc FILE")
        if opts.warc and not opts.url:
            raise UsageError("--warc needs --url: the page whose capture to parse")
        name, page = args[0], (args[1] if len(args) > 1 else opts.warc)
        try:
            spidercls = spider_class(settings_of(self), name)
        except ArgumentError as exc:
            usage_exit("extract", str(exc))
        site = getattr(spidercls, "site", None)
        if site is None:
            return self._fail(f"spider {name!r} has no site parser")
        if opts.url:
            why = self._not_an_article(site, name, opts.url)
            if why:
                usage_exit("extract", f"--url: {why}")
        response: Response
        if opts.warc:
            try:
                response = decoded(find_in_file(Path(page), opts.url, site,
                                                parse_at(opts.at) if opts.at else None), settings_of(self))
            except (OSError, LookupError, ValueError) as exc:
                return self._fail(f"cannot read a capture in {page}: {exc}")
            if not isinstance(response, TextResponse):
                return self._fail(f"the capture of {opts.url} in {page} is not a text page")
        else:
            try:
                body = Path(page).read_bytes()
            except OSError as exc:
                return self._fail(f"cannot read {page}: {exc.strerror}")
            if not body.strip():
                return self._fail(f"{page} is empty")
            if b"\x00" in body[:8192] or b"<" not in body[:8192]:
                return self._fail(f"{page} is not an HTML page (binary or plain text)")
            url = opts.url
            if not url:  # the page says which article it is
                url = self._own_url(site, HtmlResponse(url=Path(page).resolve().as_uri(), body=body))
                why = self._not_an_article(site, name, url) if url else "it has no canonical link or og:url"
                if why:
                    usage_exit("extract", f"cannot tell which article {page} is ({why}): give its URL "
                                          f"with --url")
            response = HtmlResponse(url=url, body=body)
        try:
            parsed = site.parse(response)
        except ParseError as exc:
            return self._fail(f"cannot parse {page}: {exc} [{exc.reason}]")
        if "warc" in response.flags:
            parsed.item.rendered = "playwright" in response.flags
            parsed.item.crawled_at = response.meta[CAPTURE_META]["date"]  # when it was captured
        own = self._own_id(site, response)
        if own and own != parsed.item.id:
            return self._fail(f"{page} is the page of {own} (its canonical URL says so), not of "
                              f"{parsed.item.id} as --url says: give the page's own URL")
        item = normalize_article(parsed.item)
        reason = validate_article(item)
        if reason:
            return self._fail(f"{page} gives no valid article: {reason}")
        if parsed.gallery_url:
            print(f"note: full gallery captions are on {parsed.gallery_url}", file=sys.stderr)
        sys.stdout.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")

    @staticmethod
    def _not_an_article(site: Site, name: str, url: str) -> str | None:
        """Why ``url`` is not an article URL of the spider ``name``'s site, or None."""
        why = http_url(url, site.allowed_domains)
        if why is None and site.article_id(site.canonical_url(url)) is None:
            why = f"{url!r} is not an article URL of {name} (it carries no article id)"
        return why

    @staticmethod
    def _own_url(site: Site, response: TextResponse) -> str | None:
        """The article URL the page gives itself (canonical link or og:url), if any."""
        canonical = response.css('link[rel="canonical"]::attr(href)').get()
        for url in (canonical, meta_content(response, "og:url")):
            if url and url.strip():
                own = response.urljoin(url.strip())
                if site.article_id(site.canonical_url(own)):
                    return own
        return None

    @classmethod
    def _own_id(cls, site: Site, response: TextResponse) -> str | None:
        """The article id the page gives itself, if any."""
        own = cls._own_url(site, response)
        return site.article_id(site.canonical_url(own)) if own else None

    def _fail(self, message: str) -> None:
        print(f"scrapy extract: {message}", file=sys.stderr)
        self.exitcode = 1
