"""A page's same-site stylesheets, captured once per URL, so that a replayed article is readable.

The WARC files hold every response the crawl receives (``warc.py``), but the crawl asks only
for what it parses: feeds, listings, articles, pictures. Replayed without its stylesheet, a DW
article is unreadable (its inline SVG icons fill the screen; the headline sits thousands of
pixels down). :class:`StylesheetMiddleware`, a spider middleware, looks at each article page
the spider gets (callback ``parse_article``, status 200) and asks for the ``<link
rel="stylesheet">`` hrefs on the site's own hosts (the spider's ``allowed_domains``; http and
https only; at most :data:`PER_PAGE` a page) through Scrapy's downloader: robots.txt, the
host's download slot and delays, retries and WARC capture apply as to any page. Nothing
parses the answer: the capture is the point. A stylesheet is asked for once per URL: not
again in the same run, nor in a later one once the capture index holds a 2xx capture of it
(its versioned URL, ``index-ef709cb8.css``, changes when its content does).

Off with ``NEWSCRAWL_STYLESHEETS=0``; off as well without WARC capture (``NEWSCRAWL_WARC=0``:
nothing would keep them) and in ``scrapy reparse`` (nothing is fetched). Stats:
``newscrawl/stylesheets/requested``, ``…/captured`` (a 2xx), ``…/failed`` (any other answer,
or none: robots.txt, a network error), ``…/known`` (skipped: captured by an earlier run).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.url import url_is_from_any_domain

from newscrawl.warc import CaptureMiddleware

logger = logging.getLogger(__name__)

#: the most stylesheets asked for from one page (DW links one, The Epoch Times two)
PER_PAGE = 4
#: the callback of article pages (spiders/base.py)
ARTICLE_CALLBACK = "parse_article"
ACCEPT = b"text/css,*/*;q=0.1"


_LINK = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


def stylesheet_urls(response: TextResponse, domains: list[str]) -> list[str]:
    """The absolute URLs of a page's ``<link rel="stylesheet">`` hrefs on the site's own
    hosts (``domains`` and their subdomains), http(s) only, in page order, each once.

    The ``<link>`` tags are found by a scan of the text, not a parse: the page is parsed
    once, by its site's parser, and a second tree of an 88 KB page cost 1.4 ms (a tenth of
    what the crawl spends on an article). Nothing found here is parsed or trusted: it is a
    URL on the site's own hosts, asked for through the downloader."""
    urls: list[str] = []
    for tag in _LINK.finditer(response.text):
        text = tag.group()
        if "&" not in text and "stylesheet" not in text.lower():
            continue  # no rel can say stylesheet (only a character reference could spell it)
        attributes = {m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
                      for m in _ATTRIBUTE.finditer(text)}
        rel = attributes.get("rel", "").lower().split()
        href = attributes.get("href", "").strip()
        if "stylesheet" not in rel or not href:
            continue
        url = response.urljoin(href)
        if urlsplit(url).scheme in ("http", "https") and url_is_from_any_domain(url, domains) \
                and url not in urls:
            urls.append(url)
    return urls


class StylesheetMiddleware:
    """Asks for the same-site stylesheets of each article page (see the module docstring)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.seen: set[str] = set()  # asked for (or found captured) in this run
        self.pending: set = set()  # the downloads under way (their Deferreds held until done)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StylesheetMiddleware:
        s = crawler.settings
        if not s.getbool("NEWSCRAWL_STYLESHEETS") or not s.getbool("NEWSCRAWL_WARC") \
                or s.getbool("NEWSCRAWL_REPARSE"):
            raise NotConfigured
        return cls(crawler)

    def process_spider_input(self, response: Response, spider: Spider | None = None) -> None:
        request = response.request
        callback = getattr(request.callback, "__name__", None) if request is not None else None
        if callback != ARTICLE_CALLBACK or response.status != 200 or not isinstance(response, TextResponse):
            return
        capture = self.crawler.get_downloader_middleware(CaptureMiddleware)
        index = capture.recorder.index if capture is not None and capture.recorder is not None else None
        if index is None:  # the WARC could not be opened: nothing would keep them
            return
        domains = getattr(self.crawler.spider, "allowed_domains", None) or []
        for url in stylesheet_urls(response, domains)[:PER_PAGE]:
            request = Request(url, callback=NO_CALLBACK, headers={b"Accept": ACCEPT})
            if request.url in self.seen:
                continue
            self.seen.add(request.url)
            held = index.latest(request.url)
            if held is not None and 200 <= (held.payload_status or 0) < 300:
                self._count("known")
                continue
            self._count("requested")
            pending = deferred_from_coro(self._fetch(request))
            self.pending.add(pending)
            pending.addBoth(self._done, pending)

    def _done(self, result: Any, pending: Any) -> None:
        self.pending.discard(pending)

    async def _fetch(self, request: Request) -> None:
        """Download one stylesheet (the capture middleware keeps it); never raises."""
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # robots.txt forbids it, the network failed after retries, …
            self._count("failed")
            logger.info("Stylesheet %s not captured: %s", request.url, exc)
            return
        self._count("captured" if 200 <= response.status < 300 else "failed")

    def _count(self, what: str) -> None:
        self.crawler.stats.inc_value(f"newscrawl/stylesheets/{what}")
