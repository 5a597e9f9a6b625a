"""The project's transport for http and https: what actually fetches a request.

* Ordinary requests go through Scrapy's HTTP/1.1 handler.
* Requests with ``meta["playwright"]`` are rendered by Debian's chromium through
  scrapy-playwright. Its handler — and with it the Playwright node driver and the browser —
  is created at the first such request, never before: a crawl with no page to render never
  starts node or chromium (nor imports Playwright). Without a browser at
  ``NEWSCRAWL_CHROMIUM_PATH`` those requests fail with a clear :class:`RenderUnavailable`
  while the rest of the crawl goes on.

The local mirror (``NEWSCRAWL_MIRROR``) is reached as a proxy, by
:class:`newscrawl.middlewares.MirrorProxyMiddleware`: nothing here knows of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

if TYPE_CHECKING:
    from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

logger = logging.getLogger(__name__)


class RenderUnavailable(IgnoreRequest):
    """A page needs the browser, and there is none (or rendering is off)."""


class RenderTimeout(IgnoreRequest):
    """The browser did not finish loading the page in time."""


def _stack_without_source(context: int = 1) -> list[inspect.FrameInfo]:
    """:func:`inspect.stack` without the source lines: the same frames, file names, line
    numbers and function names, ``code_context`` and ``index`` None (as ``inspect.stack``
    gives for a frame whose source it cannot find)."""
    frames: list[inspect.FrameInfo] = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        frames.append(inspect.FrameInfo(frame, frame.f_code.co_filename, frame.f_lineno,
                                        frame.f_code.co_name, None, None))
        frame = frame.f_back
    return frames


@contextlib.contextmanager
def _cheap_inspect_stack() -> Iterator[None]:
    """Scrapy's TLS modules (``scrapy.core.downloader.tls`` and ``.contextfactory``, which
    its HTTP/1.1 handler imports) each call ``create_deprecated_class`` at import, and it
    calls :func:`inspect.stack` only to take the caller's frame. ``inspect.stack`` looks up
    the module and source of *every* frame, and each import-machinery frame
    (``<frozen importlib._bootstrap>``) costs a scan of all of ``sys.modules``
    (CPython gh-92041): with the ~1,000 modules and ~80 frames of a crawl starting, those
    three calls cost 65–116 ms of CPU, a seventh of a re-crawl with nothing new. While the
    handler is imported, ``inspect.stack`` walks the frames without the source; Scrapy
    gets the same caller frame. The original is back when the import is done."""
    original = inspect.stack
    inspect.stack = _stack_without_source
    try:
        yield
    finally:
        inspect.stack = original


def http11_handler_class() -> type[HTTP11DownloadHandler]:
    """Scrapy's HTTP/1.1 download handler, imported under :func:`_cheap_inspect_stack`
    (here, not at module level: spiders import this module for its exceptions, ``scrapy
    list`` too)."""
    with _cheap_inspect_stack():
        from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
    return HTTP11DownloadHandler


class _Shared:
    """What the http and https handlers share: one connection pool, at most one browser."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.http = http11_handler_class().from_crawler(crawler)
        self.browser: ScrapyPlaywrightDownloadHandler | None = None
        self._starting = asyncio.Lock()

    async def renderer(self) -> ScrapyPlaywrightDownloadHandler:
        """scrapy-playwright's handler, started on first use (the node driver starts here)."""
        async with self._starting:
            if self.browser is None:
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                handler = ScrapyPlaywrightDownloadHandler.from_crawler(crawler=self.crawler)
                # It starts its driver on engine_started, which has passed: start it now
                # (scrapy-playwright 0.0.48, pinned; the browser itself starts at its first page).
                await handler._maybe_launch_in_thread()
                self.browser = handler
        return self.browser

    async def close(self) -> None:
        await self.http.close()
        if self.browser is not None:
            await self.browser.close()


#: per crawler, what its http and https handlers share (the first one made makes it)
_SHARED: weakref.WeakKeyDictionary[Crawler, _Shared] = weakref.WeakKeyDictionary()


class DownloadHandler(BaseDownloadHandler):
    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.rendering = settings.getbool("NEWSCRAWL_RENDERING")
        self.chromium = Path(settings.get("NEWSCRAWL_CHROMIUM_PATH") or "/usr/bin/chromium")
        shared = _SHARED.get(crawler)
        self._owner = shared is None
        if shared is None:
            shared = _SHARED[crawler] = _Shared(crawler)
        self.shared: _Shared = shared
        self._missing_browser_logged = False

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await self.shared.http.download_request(request)
        self._check_browser()
        self.crawler.stats.inc_value("newscrawl/rendered/requests")
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        renderer = await self.shared.renderer()
        try:
            return await renderer.download_request(request)
        except PlaywrightTimeout as exc:
            raise RenderTimeout(f"{request.url}: the browser gave up: {exc}") from exc

    def _check_browser(self) -> None:
        if not self.rendering:
            raise RenderUnavailable("rendering is off (NEWSCRAWL_RENDERING=False)")
        if not self.chromium.exists():
            message = (f"no browser at {self.chromium}: install Debian's chromium "
                       "(apt-get install chromium) or set NEWSCRAWL_CHROMIUM_PATH")
            if not self._missing_browser_logged:
                # a machine without a browser is a known setup, not a failure: the crawl goes on
                logger.warning("Pages that need JavaScript will be dropped: %s", message)
                self._missing_browser_logged = True
            raise RenderUnavailable(message)

    async def close(self) -> None:
        if self._owner:
            await self.shared.close()
