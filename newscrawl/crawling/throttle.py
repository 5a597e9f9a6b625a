"""Listing throttling: the next listing of a run is asked for only once the articles of the
ones before it have drained from the scheduler.

Scrapy takes a start request only when no other request waits, and then fills every free
download slot with one, so a crawl of 100 topic pages would parse 16 of them together and
queue their 800 article requests, again and again. Here a listing waits while
``NEWSCRAWL_LISTINGS_AT_ONCE`` listings are being read, or while more than
``NEWSCRAWL_LISTING_BACKLOG`` requests wait in the scheduler; it is then fetched next
(:data:`LISTING_PRIORITY`), so the downloader does not run dry while it is read. Listings
also wait until the run's feeds are read: what a full-text feed says of an article (its text's
digest, which stands in for a due re-check) is then known when a listing links it, whatever
order the answers come in. This is the one place that looks into Scrapy's engine (its
scheduler, scraper and downloader).
"""

from __future__ import annotations

from collections.abc import Sized

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import sleep as asyncio_sleep

#: Listings go before the article requests waiting in the scheduler (Scrapy: higher first).
LISTING_PRIORITY = 1
#: How often (seconds) :meth:`ListingThrottle.room` looks at the scheduler again.
LISTING_POLL = 0.05


class ListingThrottle:
    """The listings (first pages) asked for and not read yet, and room for the next."""

    def __init__(self, crawler: Crawler | None = None, backlog: int = 0, at_once: int = 1) -> None:
        self.crawler = crawler
        self.backlog = backlog
        self.at_once = max(1, at_once)
        #: listings (first pages) asked for and not yet read
        self.reading: set[str] = set()
        #: feeds asked for and not yet read: listings wait for them, so that what a feed says
        #: of an article (a full-text digest) is known when a listing links it
        self.feeds: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ListingThrottle:
        """Reads ``NEWSCRAWL_LISTING_BACKLOG`` (0: no throttling) and
        ``NEWSCRAWL_LISTINGS_AT_ONCE``; a request Scrapy drops is read too."""
        settings = crawler.settings
        throttle = cls(crawler, settings.getint("NEWSCRAWL_LISTING_BACKLOG"),
                       settings.getint("NEWSCRAWL_LISTINGS_AT_ONCE"))
        crawler.signals.connect(throttle.request_dropped, signal=signals.request_dropped)
        return throttle

    def started(self, listing: str) -> None:
        """The first page of ``listing`` is asked for."""
        self.reading.add(listing)

    def read(self, listing: str | None) -> None:
        """The first page of ``listing`` is parsed, failed or dropped: room for the next."""
        if listing is not None:
            self.reading.discard(listing)

    def feed_asked(self, feed: str) -> None:
        self.feeds.add(feed)

    def feed_read(self, feed: str | None) -> None:
        """A feed is parsed, failed or dropped: the listings need not wait for it."""
        self.feeds.discard(feed or "")

    def request_dropped(self, request: Request) -> None:
        """``request_dropped``: a listing's first page (or a feed) dropped by the scheduler is read."""
        self.read(request.cb_kwargs.get("listing"))
        self.feed_read(request.cb_kwargs.get("source"))

    async def room(self) -> None:
        """Wait until there is room for the next listing. Never a deadlock: once nothing is
        queued, downloading or being parsed, the next goes."""
        engine = self.crawler.engine if self.crawler is not None else None
        if engine is None or self.backlog <= 0:
            return
        while engine.running and (scheduler := engine.scheduler) is not None:
            # Scrapy's Scheduler has a length; a scheduler without one says only "some"
            queued = len(scheduler) if isinstance(scheduler, Sized) else int(scheduler.has_pending_requests())
            if queued <= self.backlog and len(self.reading) < self.at_once and not self.feeds:
                return
            slot = engine.scraper.slot
            scraping = slot is not None and not slot.is_idle()
            if not queued and not engine.downloader.active and not scraping:
                self.reading.clear()  # a listing (or feed) lost without a callback or errback
                self.feeds.clear()
                return
            await asyncio_sleep(LISTING_POLL)
