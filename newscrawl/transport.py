"""The project's transport for http and https: what actually fetches a request.

* Ordinary requests go through Scrapy's HTTP/1.1 handler.
* Requests with ``meta["playwright"]`` are rendered by Debian's chromium through
  scrapy-playwright (the browser starts at the first such request, never before). Without
  a browser at ``NEWSCRAWL_CHROMIUM_PATH`` those requests fail with a clear
  :class:`RenderUnavailable` while the rest of the crawl goes on.
* With ``NEWSCRAWL_MIRROR=http://127.0.0.1:8765`` every request for
  ``https://www.dw.com/zh/...`` is fetched from ``http://127.0.0.1:8765/https/www.dw.com/zh/...``
  and its response carries the real URL again, so everything above the transport (spiders,
  middlewares, robots.txt, redirects, retries, pipelines) runs unchanged on real URLs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import TimeoutError as PlaywrightTimeout
from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

logger = logging.getLogger(__name__)


class RenderUnavailable(IgnoreRequest):
    """A page needs the browser, and there is none (or rendering is off)."""


class RenderTimeout(IgnoreRequest):
    """The browser did not finish loading the page in time."""


def mirror_url(mirror: str, url: str) -> str:
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{mirror.rstrip('/')}/{parts.scheme}/{parts.netloc}{parts.path or '/'}{query}"


def real_url(mirror: str, url: str) -> str:
    """The real URL behind a mirror URL (absolute, or root-relative as in a redirect)."""
    parts = urlsplit(url)
    if parts.netloc and f"{parts.scheme}://{parts.netloc}" != mirror.rstrip("/"):
        return url  # not a mirror URL
    scheme, _, rest = parts.path.lstrip("/").partition("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{rest}{query}" if scheme in ("http", "https") else url


class DownloadHandler(BaseDownloadHandler):
    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.mirror = settings.get("NEWSCRAWL_MIRROR") or None
        self.rendering = settings.getbool("NEWSCRAWL_RENDERING")
        self.chromium = Path(settings.get("NEWSCRAWL_CHROMIUM_PATH") or "/usr/bin/chromium")
        # One inner handler for both schemes: one connection pool, one Playwright driver.
        shared = getattr(crawler, "_newscrawl_transport", None)
        if shared is None:
            if self.rendering:
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                shared = ScrapyPlaywrightDownloadHandler.from_crawler(crawler)
            else:
                shared = HTTP11DownloadHandler.from_crawler(crawler)
            crawler._newscrawl_transport = shared
            self._owner = True
        else:
            self._owner = False
        self.inner = shared
        self._missing_browser_logged = False

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright"):
            self._check_browser()
            self.crawler.stats.inc_value("newscrawl/rendered/requests")
        target = request.replace(url=mirror_url(self.mirror, request.url)) if self.mirror else request
        try:
            response = await self.inner.download_request(target)
        except PlaywrightTimeout as exc:
            raise RenderTimeout(f"{request.url}: the browser gave up: {exc}") from exc
        if not self.mirror:
            return response
        # The mirror answers with mirror URLs (so that a browser stays inside it): back to real ones.
        headers = response.headers.copy()
        if location := headers.get(b"Location"):
            headers[b"Location"] = real_url(self.mirror, location.decode("latin-1"))
        return response.replace(url=real_url(self.mirror, response.url), headers=headers)

    def _check_browser(self) -> None:
        if not self.rendering:
            raise RenderUnavailable("rendering is off (NEWSCRAWL_RENDERING=False)")
        if not self.chromium.exists():
            message = (f"no browser at {self.chromium}: install Debian's chromium "
                       "(apt-get install chromium) or set NEWSCRAWL_CHROMIUM_PATH")
            if not self._missing_browser_logged:
                logger.error("Pages that need JavaScript will be dropped: %s", message)
                self._missing_browser_logged = True
            raise RenderUnavailable(message)

    async def close(self) -> None:
        if self._owner:
            await self.inner.close()
