"""Every picture an article shows, fetched once and kept with the archive.

:class:`PicturesPipeline` is Scrapy's ``FilesPipeline`` (the bytes are kept as served,
never re-encoded) with newscrawl's rules:

* **which URL** — each image and gallery slide of the item, at the largest size the site
  offers up to ``NEWSCRAWL_IMAGE_MAX_WIDTH`` pixels (:meth:`newscrawl.sites.Site.picture_url`);
* **fetched once** — a picture the archive holds (the state knows the URL and its file is
  there) is not requested again, in this run or any later one; within a run Scrapy's media
  machinery fetches a URL that several articles show once;
* **politely** — picture requests go through Scrapy's downloader like pages: their host's own
  download slot, robots.txt, AutoThrottle, retries, and WARC capture (``warc.py``);
* **checked** — a picture is kept only when its status is 200, its bytes are an image of a
  kept type (:func:`newscrawl.pictures.picture_type`) and it is at most
  ``NEWSCRAWL_IMAGE_MAX_BYTES`` long (larger downloads are cut off by ``download_maxsize``);
* **stored** by the archive, content-addressed (:meth:`newscrawl.archive.Archive.keep_picture`);
* **fail soft** — a picture that fails never costs its article: the image's ``file`` is
  ``null`` and the post keeps the remote URL; the failure is counted
  (``newscrawl/images/<reason>``), logged, remembered, and tried again by a later run that
  parses the article (after ``NEWSCRAWL_RETRY_FAILED_HOURS``, ``NEWSCRAWL_IMAGE_RETRY_TIMES``
  tries in all); until then the article's re-checks fetch its page whole, not conditionally
  (the count of pictures still to try is noted with the article: ``Archive.note_fetch``).

Each image dict of the item gets ``file``: the kept copy (:class:`~newscrawl.pictures.KeptPicture`)
or ``None``. ``NEWSCRAWL_IMAGES=0`` leaves the pipeline out (no ``file`` key, remote URLs).

Stats: ``newscrawl/images/requested`` (downloads asked for), ``newscrawl/images/kept`` (new
files), ``newscrawl/images/same_bytes`` (fetched, the same bytes already stored under another
URL), ``newscrawl/images/held`` (held already, not fetched), ``newscrawl/images/not_retried``
(failed before and not due, or out of tries), and one
``newscrawl/images/<reason>`` per failure: ``http_<status>``, ``too_large``, ``not_image``,
``empty``, ``timeout``, ``robots_txt``, ``not_captured`` (``scrapy reparse``), ``ignored``,
``fetch_failed``, ``write_failed``, ``not_public_host`` (``localhost``, a private or link-local
address: never requested, see :func:`newscrawl.pictures.public_host`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import cached_property
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadTimeoutError,
    DropItem,
    IgnoreRequest,
    NotConfigured,
)
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import MediaPipeline
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from newscrawl.archive import Archive, WriteFailed, archive_of, archive_opened
from newscrawl.items import adapt
from newscrawl.pictures import KeptPicture, item_pictures, picture_type, public_host
from newscrawl.sites import Site
from newscrawl.text import parse_datetime

logger = logging.getLogger(__name__)

#: What a browser asks for when it loads a picture (chromium's, without SVG, which is not kept)
ACCEPT = b"image/avif,image/webp,image/apng,image/*,*/*;q=0.8"


class PicturesPipeline(FilesPipeline):
    MEDIA_NAME = "picture"

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWL_IMAGES"):
            raise NotConfigured("NEWSCRAWL_IMAGES is off: pictures keep their remote URLs")
        # the store Scrapy's FilesPipeline requires; the archive writes the files itself
        super().__init__(settings.get("NEWSCRAWL_OUTPUT_DIR"), crawler=crawler)
        self.stats = crawler.stats
        self.max_width = settings.getint("NEWSCRAWL_IMAGE_MAX_WIDTH")
        self.max_bytes = settings.getint("NEWSCRAWL_IMAGE_MAX_BYTES")
        self.retry_times = settings.getint("NEWSCRAWL_IMAGE_RETRY_TIMES")
        self.retry_after = timedelta(hours=settings.getfloat("NEWSCRAWL_RETRY_FAILED_HOURS"))
        #: pictures being downloaded or stored at once (their bodies in memory), and by whom
        self.permits = asyncio.Semaphore(max(1, settings.getint("NEWSCRAWL_IMAGES_AT_ONCE")))
        self.holding: set[str] = set()
        #: fetched URL → why it was not kept, in this run (Scrapy caches the rest by request)
        self.failed: dict[str, str] = {}
        #: fetched URL → its tries in all, this run's included, until it is kept
        self.tries: dict[str, int] = {}
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PicturesPipeline:
        return cls(crawler)

    @property
    def archive(self) -> Archive:
        return archive_of(self.crawler)

    @cached_property
    def site(self) -> Site:
        """The site of the crawl's spider (one of the project's)."""
        from newscrawl.spiders.base import NewsSpider

        spider = self.crawler.spider
        if not isinstance(spider, NewsSpider):
            raise TypeError("the PicturesPipeline keeps the pictures of the project's spiders")
        return spider.site

    def fetch_url(self, url: str) -> str:
        """The URL the picture at ``url`` (an item's) is kept from (the site decides)."""
        return self.site.picture_url(url, self.max_width)

    # ---- which pictures ----------------------------------------------------------------
    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        """One request per picture of the item (at the size the site offers; the URLs are
        absolute http(s) ones, NormalizePipeline's); whether it is sent is
        :meth:`media_to_download`'s to decide."""
        urls = dict.fromkeys(self.fetch_url(image["url"]) for image in item_pictures(item)
                             if isinstance(image.get("url"), str))
        meta = {"allow_offsite": True, "download_maxsize": self.max_bytes, "download_warnsize": 0}
        return [Request(url, callback=NO_CALLBACK, headers={b"Accept": ACCEPT}, meta=dict(meta))
                for url in urls]

    async def media_to_download(  # type: ignore[override]  # Scrapy awaits whatever it returns
            self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None) -> Any:
        """Whether to download, from one look at the state (Scrapy asks once per URL and
        run, and answers the rest of the run from its cache): a picture the archive holds is
        not fetched again (its file info); one on a machine of the crawler's own network, or
        one that failed and is not due or out of tries, is not asked for (a file info
        without a file); any other waits for one of ``NEWSCRAWL_IMAGES_AT_ONCE`` permits,
        held until its bytes are stored or it failed.

        Scrapy's downloader starts the next download as soon as one arrives, whether or not
        the crawl has processed it: with the CPU busy, finished 400 KB pictures queued up
        (30 bodies at once, 12 MB, in a crawl of 300 articles) before their turn came."""
        url = request.url
        if not public_host(url):
            self._failed(url, "not_public_host")
            return {"url": url, "status": "not_public_host"}
        kept, failure = self.archive.picture(url)
        if kept is not None:
            self.stats.inc_value("newscrawl/images/held")
            return self._result(request, kept, "held")
        tries = failure[1] if failure else 0
        if failure and not (tries < self.retry_times and self._due(failure[2])):
            self.failed[url], self.tries[url] = failure[0], tries
            self.stats.inc_value("newscrawl/images/not_retried")
            return {"url": url, "status": "not_retried"}
        self.stats.inc_value("newscrawl/images/requested")
        self.tries[url] = tries + 1
        await self.permits.acquire()
        self.holding.add(url)
        return None

    def _due(self, last_tried: str) -> bool:
        """A picture that failed is tried again ``NEWSCRAWL_RETRY_FAILED_HOURS`` later."""
        when = parse_datetime(last_tried)
        return when is None or self.archive.schedule.now() - when >= self.retry_after

    def _release(self, url: str) -> None:
        if url in self.holding:
            self.holding.discard(url)
            self.permits.release()

    # ---- outcomes ----------------------------------------------------------------------
    def media_downloaded(self, response: Response, request: Request, info: MediaPipeline.SpiderInfo,
                         *, item: Any = None) -> Any:
        try:
            return self._keep(response, request)
        finally:
            self._release(request.url)

    def _keep(self, response: Response, request: Request) -> Any:
        """Check a downloaded picture and store it: its file info, or ``None`` (not kept)."""
        if response.status != 200:
            return self._failed(request.url, f"http_{response.status}")
        body = response.body
        if not body:
            return self._failed(request.url, "empty")
        if len(body) > self.max_bytes:
            return self._failed(request.url, "too_large")
        media_type = picture_type(body)
        if media_type is None:
            return self._failed(request.url, "not_image")
        try:
            kept, new = self.archive.keep_picture(request.url, body, media_type)
        except OSError as exc:  # disk full, read-only, permissions: the crawl stops
            logger.error("Cannot keep the picture %s: %s", request.url, exc)
            self._stop()
            return self._failed(request.url, "write_failed")
        except WriteFailed:  # its state (logged and counted by the archive): the crawl stops
            self._stop(logged=True)
            return self._failed(request.url, "write_failed")
        self.stats.inc_value("newscrawl/images/kept" if new else "newscrawl/images/same_bytes")
        self.tries.pop(request.url, None)
        return self._result(request, kept, "downloaded")

    def _result(self, request: Request, kept: KeptPicture, status: str) -> dict[str, Any]:
        """Scrapy's file info of a kept picture, with the request's fingerprint: the key of
        Scrapy's cache of this run's results, emptied as each item completes (the state
        knows the picture from then on; the cache would grow by ~1 KB a picture all run)."""
        return {**kept, "checksum": kept["sha256"], "status": status,
                "fingerprint": self._fingerprinter.fingerprint(request)}

    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> None:  # type: ignore[override]
        """A download that failed for good (after retries): recorded, never raised, so that
        Scrapy logs no error for a picture the publisher lost."""
        self._release(request.url)
        exc = failure.value
        if isinstance(exc, DownloadCancelledError):
            reason = "too_large"  # cut off at download_maxsize
        elif isinstance(exc, DownloadTimeoutError | TwistedTimeoutError | TimeoutError):
            reason = "timeout"
        elif type(exc).__name__ == "NotCaptured":
            reason = "not_captured"
        elif isinstance(exc, IgnoreRequest):
            reason = "robots_txt" if "robots.txt" in str(exc) else "ignored"
        else:
            reason = "fetch_failed"
        self._failed(request.url, reason, f"{type(exc).__name__}: {exc}")

    def _failed(self, url: str, reason: str, detail: str = "") -> None:
        """A picture not kept: counted, logged, remembered (to be tried again by a later run)."""
        self.failed[url] = reason
        self.stats.inc_value(f"newscrawl/images/{reason}")
        if reason not in ("write_failed", "not_public_host") and archive_opened(self.crawler):
            try:
                self.archive.state.picture_failed(url, reason)
            except WriteFailed:  # logged and counted by the archive: the crawl stops
                self._stop(logged=True)
        logger.warning("Picture not kept: %s (%s%s); its articles keep the remote URL", url, reason,
                       f": {detail}" if detail else "")

    def _stop(self, logged: bool = False) -> None:
        """A picture or its record could not be written: the crawl stops (``logged``: the
        archive has said so and counted it)."""
        if not self.stopping:
            self.stopping = True
            if not logged:
                self.stats.inc_value("newscrawl/failed/write")
                logger.error("Stopping the crawl: the archive cannot be written")
            if self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="write_failed"))

    def item_completed(self, results: list, item: Any, info: MediaPipeline.SpiderInfo) -> Any:
        """Each image dict of the item gets ``file``: its kept copy, or ``None``. An item one
        of whose pictures could not be written (full disk) is not archived in this run: the
        next run fetches it again (it stays in the frontier) and keeps it whole."""
        kept: dict[str, KeptPicture] = {}
        for ok, value in results:
            if ok and isinstance(value, dict) and value.get("sha256"):
                kept[value["url"]] = KeptPicture(url=value["url"], sha256=value["sha256"], path=value["path"],
                                                 bytes=value["bytes"], media_type=value["media_type"])
                info.downloaded.pop(value["fingerprint"], None)
        pending = 0
        for image in item_pictures(item):
            url = image.get("url")
            fetched = self.fetch_url(url) if isinstance(url, str) else None
            if fetched and self.failed.get(fetched) == "write_failed":
                raise DropItem(f"not archived: its picture {fetched} could not be written", log_level="DEBUG")
            image["file"] = kept.get(fetched) if fetched else None
            if fetched and image["file"] is None and fetched not in self.failed:
                # Scrapy answered from its cache of this run's results an entry another item
                # emptied at the same moment (above: it reads the cache after an await), and the
                # picture's result is a KeyError, not its file info: the state knows it
                image["file"] = self.archive.picture(fetched)[0]
            if fetched and image["file"] is None:  # a later run tries it again, or not
                pending += self.tries.get(fetched, self.retry_times) < self.retry_times
        article_id = adapt(item).get("id")
        if article_id:  # recorded with the version or re-check: its re-checks then fetch it whole
            self.archive.note_fetch(article_id, pictures_missing=pending)
        return item

