"""Downloader middlewares of the project."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response


class OffsiteRedirect(IgnoreRequest):
    """A page redirected off the spider's ``allowed_domains``."""


class OffsiteRedirectMiddleware:
    """Turn a redirect off-site into a failure the request's errback sees.

    Scrapy's own offsite filter drops such redirected requests silently when they are
    scheduled; an archive wants them counted and logged as a drop of the page that
    redirected (``newscrawl/dropped/offsite_redirect``). Runs before ``RedirectMiddleware``.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        location = response.headers.get(b"Location")
        if not (300 <= response.status < 400 and location) or request.meta.get("dont_redirect"):
            return response
        allowed = getattr(self.crawler.spider, "allowed_domains", None) or []
        target = urljoin(request.url, location.decode("latin-1"))
        host = urlsplit(target).hostname or ""
        if not allowed or any(host == d or host.endswith(f".{d}") for d in allowed):
            return response
        raise OffsiteRedirect(f"{request.url} redirects off-site to {target}")
