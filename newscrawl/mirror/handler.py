"""Download handler that sends requests to a local mirror server when one is configured.

With ``NEWSCRAWL_MIRROR=http://127.0.0.1:8765`` every http(s) request for
``https://www.dw.com/zh/...`` is fetched from ``http://127.0.0.1:8765/https/www.dw.com/zh/...``
and its response carries the real URL again. Everything above the transport (spiders,
middlewares, robots.txt, redirects, retries, pipelines) runs unchanged and sees real URLs.
Without the setting it is Scrapy's ordinary HTTP/1.1 handler.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response


def mirror_url(mirror: str, url: str) -> str:
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{mirror.rstrip('/')}/{parts.scheme}/{parts.netloc}{parts.path or '/'}{query}"


class MirrorDownloadHandler(BaseDownloadHandler):
    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.mirror = crawler.settings.get("NEWSCRAWL_MIRROR") or None
        self.inner = HTTP11DownloadHandler.from_crawler(crawler)

    async def download_request(self, request: Request) -> Response:
        if not self.mirror:
            return await self.inner.download_request(request)
        local = request.replace(url=mirror_url(self.mirror, request.url))
        response = await self.inner.download_request(local)
        return response.replace(url=request.url)

    async def close(self) -> None:
        await self.inner.close()
