"""Which article pages chromium renders (:mod:`newscrawl.rendering`, :mod:`newscrawl.transport`):
those whose URL matches ``NEWSCRAWL_RENDER_URLS`` or the spider's ``render_urls``, always;
and — the adaptive fallback, where the site allows it (a spider's ``render_fallback``),
``NEWSCRAWL_RENDER_FALLBACK`` and ``NEWSCRAWL_RENDERING`` are on — a page whose static HTML
gave no article, once more.
"""

from __future__ import annotations

import re
from typing import Any

from scrapy.http import Response
from scrapy.settings import BaseSettings

from newscrawl.crawling.failures import RETRY_PARSE_FAILURES
from newscrawl.rendering import render_meta


class BrowserPolicy:
    """When to render, and what a request carries to be rendered."""

    def __init__(self, patterns: list[str], timeout_ms: int, fallback: bool) -> None:
        self.patterns = [re.compile(p) for p in patterns]
        self.timeout_ms = timeout_ms
        #: whether a page whose static HTML failed is rendered once more
        self.fallback = fallback

    @classmethod
    def from_settings(cls, settings: BaseSettings, render_urls: list[str],
                      render_fallback: bool) -> BrowserPolicy:
        return cls([*settings.getlist("NEWSCRAWL_RENDER_URLS"), *render_urls],
                   settings.getint("NEWSCRAWL_RENDER_TIMEOUT") * 1000,
                   render_fallback and settings.getbool("NEWSCRAWL_RENDER_FALLBACK")
                   and settings.getbool("NEWSCRAWL_RENDERING"))

    def meta(self) -> dict[str, Any]:
        """What a request carries to be rendered."""
        return render_meta(self.timeout_ms)

    def always(self, url: str) -> bool:
        """Whether the page at ``url`` always needs the browser."""
        return any(pattern.search(url) for pattern in self.patterns)

    def again(self, response: Response, reason: str) -> bool:
        """Whether a page whose static HTML failed to parse for ``reason`` is rendered once
        more (never a rendered page, nor one cut short: a browser would hide the damage)."""
        return self.fallback and not response.meta.get("playwright") and reason not in RETRY_PARSE_FAILURES
