"""What every newscrawl spider shares.

A site's spider only says where its sources are (feeds, listing pages, single URLs).
This base turns links into article requests — one per site id per run, canonical URLs —
and makes re-crawls incremental through the state:

* an article the state has archived is requested again when its re-check is due (a decaying
  schedule: see :mod:`newscrawl.schedule`; due re-checks are taken from the state at start,
  so an article is re-checked at any age, listed or not), when a listing or feed shows it
  under a new title (compared after folding script and the site's teaser affixes), or when
  a full-text feed's text of it changed; a full-text feed that shows it unchanged stands in
  for a due re-check;
* feeds, listings and re-checks are conditional requests (``If-None-Match`` /
  ``If-Modified-Since`` from the validators the state remembers): a 304, or a body with the
  same hash, costs no parsing and no writing;
* a page that gave no item (404, no layout, invalid) is tried again only after
  ``NEWSCRAWL_RETRY_FAILED_HOURS`` (default 24);
* a listing stops paginating at the first page on which every linked article is known;
* ``-a full=1`` ignores the state for both (the pipelines still write no duplicate).

It also turns parse failures into counted drops (or one more try), and completes
galleries whose captions live on a page of their own (one request per gallery page per run,
shared with the gallery's own item).

Arguments are declared (:attr:`NewsSpider.arguments`, :mod:`newscrawl.arguments`) and
checked when the spider is made: a wrong one is an :class:`~newscrawl.arguments.ArgumentError`.
Every source (feed, listing) is accountable: one that fails, answers empty or links no
article is a warning naming it, listed in :attr:`NewsSpider.failed_sources` and counted in
``newscrawl/sources/failed`` (which fails the run), or ``newscrawl/sources/optional_failed``
for a source given in ``-a optional=…``. A source that answers 304 Not Modified links what
it linked before: it has not failed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any, ClassVar

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import sleep as asyncio_sleep
from twisted.python.failure import Failure

from newscrawl.archive import Archive, archive_of, archive_opened
from newscrawl.arguments import PASSED_BY_RUNNERS, Argument, ArgumentError, http_url, parse_arguments
from newscrawl.items import Article
from newscrawl.middlewares import OffsiteRedirect, RedirectLoop, TooManyRedirects
from newscrawl.pipelines.validate import count_drop
from newscrawl.rendering import render_meta
from newscrawl.replay import REPLAY_PIN, REPLAY_RUN, CaptureReader, NotCaptured, reparse_plan
from newscrawl.sites import ParseError, Site
from newscrawl.sites.base import Link
from newscrawl.state import Known
from newscrawl.text import clean_text, parse_datetime
from newscrawl.transport import RenderTimeout, RenderUnavailable
from newscrawl.warc import CAPTURE_META, warc_dir

#: Parse failures worth a second plain fetch of the page (never a rendering: a browser
#: would close the cut-off markup and hide the damage).
RETRY_PARSE_FAILURES = frozenset({"truncated_page"})
#: How many found links :meth:`NewsSpider.resolve` remembers (~0.5 KB each).
RESOLVED_CACHE = 2048
#: Listings go before the article requests waiting in the scheduler (Scrapy: higher first).
LISTING_PRIORITY = 1
#: How often (seconds) :meth:`NewsSpider.room_for_listing` looks at the scheduler again.
LISTING_POLL = 0.05


def body_hash(response: Response) -> str:
    """The hash of a response's bytes (what "the same page" means without validators)."""
    return hashlib.sha256(response.body).hexdigest()[:32]


def release_selector(response: Response) -> None:
    """Drop the parsed tree and the decoded text of a page once it is read.

    Scrapy 2.19's ``TextResponse`` caches its ``Selector``, which refers back to the response:
    a reference cycle that only Python's cyclic garbage collector frees, seconds later. A burst
    of listing pages (each start request pulls a few) then keeps each page's body, text and
    lxml tree alive at once — some 25 MB for 20 topic pages — instead of one page at a time.
    The text (a Chinese page's is about twice its bytes) goes too: Scrapy keeps an article's
    response until its item has passed every pipeline, and an item waits there for its
    pictures (read again from the bytes if anything asks for it)."""
    if getattr(response, "_cached_selector", None) is not None:
        response._cached_selector = None  # type: ignore[attr-defined]
    if getattr(response, "_cached_ubody", None) is not None:
        response._cached_ubody = None  # type: ignore[attr-defined]


def split_arg(value: str | list[str] | None) -> list[str]:
    """``-a x=a,b`` → ``["a", "b"]`` (a list passes through)."""
    if value is None:
        return []
    values = value if isinstance(value, list) else str(value).split(",")
    return [v.strip() for v in values if v and v.strip()]


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


#: Arguments every spider takes (``urls`` and ``feed`` are declared per site: their URLs differ).
FULL = Argument("full", "flag", "1: ignore the state, fetch every article again (still no duplicates)")
OPTIONAL = Argument(
    "optional", "list", "sources that may fail or list nothing without failing the run: as given "
    "in the other arguments (a tag name, a topic id, a URL), 'feed' for the feed(s), or * for all",
    item="sources")


def feed_argument(default: str, domains: list[str]) -> Argument:
    return Argument("feed", "feed", f"1: read the feed ({default}) as well, 0: not at all, or feed URLs; "
                    "the default when no other source is given", check=lambda v: http_url(v, domains))


@dataclass(frozen=True)
class Source:
    """A feed or listing the user asked for: its kind, as the user spelled it, its URL."""

    kind: str
    given: str
    url: str

    @property
    def label(self) -> str:
        """``topic t-123``, ``tag 王毅``, ``feed https://…``."""
        return f"{self.kind} {self.url if self.given in ('feed', self.url) else self.given}"


class NewsSpider(scrapy.Spider):
    site: ClassVar[Site]
    #: every ``-a`` argument the spider takes (the site's spider declares them)
    arguments: ClassVar[tuple[Argument, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        passed = {k: kwargs.pop(k) for k in list(kwargs) if k in PASSED_BY_RUNNERS}
        values = self.parse_arguments(kwargs)
        super().__init__(*args, **passed)
        self.args = values
        self.urls = values.get("urls") or []
        #: listing pages (topics, tags, categories) and feeds; set by the site's spider
        self.listings: list[str] = []
        self.feeds: list[str] = []
        #: URL → the source the user asked for (feeds and listings)
        self.sources: dict[str, Source] = {}
        self.optional_sources: set[str] = set()
        #: sources that failed in this run: {"source", "kind", "given", "reason", "optional"}
        self.failed_sources: list[dict[str, Any]] = []
        self.full = bool(values.get("full"))
        #: one decision per article id per run: requested, or skipped as known
        self.decided_ids: set[str] = set()
        #: ids actually requested in this run
        self.requested_ids: set[str] = set()
        self._due_issued = False
        #: the titles this run's feeds and listings showed each article under
        self.shown_titles: dict[str, list[str]] = {}
        #: galleries parsed from their own page in this run, and items waiting for one
        self.galleries: dict[str, Any] = {}
        self.gallery_waiters: dict[str, list[Article]] = {}
        self._known: dict[str, Known | None] = {}
        #: found URL → (URL to follow, article id): each link is canonicalised once (a cache of
        #: at most RESOLVED_CACHE links: a run that finds thousands does not keep them all)
        self._resolved: dict[str, tuple[str, str | None]] = {}
        #: listings (first pages) asked for and not yet read (see :meth:`room_for_listing`)
        self.listings_reading: set[str] = set()
        self.choose_sources(values)
        if not (self.listings or self.feeds or self.urls):
            others = [a.name for a in self.arguments if a.kind == "list" and a.name != "optional"]
            raise ArgumentError(f"nothing to crawl: feed=0 and no other source (give {', '.join(others)})")
        self._choose_optional(values.get("optional") or [])

    @classmethod
    def parse_arguments(cls, given: dict[str, Any]) -> dict[str, Any]:
        return parse_arguments(cls.name, cls.arguments, given)

    @classmethod
    def check_arguments(cls, given: dict[str, Any]) -> None:
        """Raise ArgumentError (one line) when ``given`` (``-a`` arguments) are wrong."""
        cls(**given)

    def choose_sources(self, args: dict[str, Any]) -> None:
        """Set :attr:`listings` and :attr:`feeds` from the parsed arguments (with
        :meth:`add_listing` and :meth:`choose_feeds`)."""

    def add_listing(self, kind: str, given: str, url: str) -> None:
        if url not in self.sources:
            self.listings.append(url)
            self.sources[url] = Source(kind, given, url)

    def choose_feeds(self, feed: bool | list[str] | None, default: str) -> list[str]:
        """``-a feed``: 1 for the site's feed, 0 for none, or feed URLs; unset, the site's
        feed is read only when no other source was given."""
        if feed is None:
            feeds = [] if self.listings or self.urls else [default]
        elif feed is True:
            feeds = [default]
        elif feed is False:
            feeds = []
        else:
            feeds = [default if truthy(f) else f for f in split_arg(feed)]
        for url in feeds:
            self.sources.setdefault(url, Source("feed", "feed", url))
        return list(dict.fromkeys(feeds))

    def _choose_optional(self, entries: list[str]) -> None:
        """``-a optional=…``: each entry names sources of this run, or it is an error."""
        for entry in entries:
            if entry == "*":
                self.optional_sources |= set(self.sources)
                continue
            matched = {url for url, source in self.sources.items()
                       if entry in (source.given, source.url)
                       or (entry == "feed" and source.kind == "feed")}
            if not matched:
                matched = {url for url in self.resolve_source(entry) if url in self.sources}
            if not matched:
                given = ", ".join(s.given for s in self.sources.values()) or "none"
                raise ArgumentError(f"optional: {entry!r} is not one of this run's sources ({given})")
            self.optional_sources |= matched

    def resolve_source(self, entry: str) -> list[str]:
        """The URLs ``entry`` would be as each kind of listing (for ``optional``)."""
        return []

    async def start(self) -> AsyncIterator[Any]:
        if self.reparsing:
            for request in self.reparse_requests():
                yield request
            return
        for request in self.frontier_requests():
            yield request
        for url in self.feeds:
            yield self.conditional(scrapy.Request(url, callback=self.parse_feed, errback=self.feed_failed,
                                                  cb_kwargs={"source": url}))
        for url in self.listings:
            await self.room_for_listing()
            resume = self.archive().state.listing_started(url)
            if resume:
                self.stat("newscrawl/incremental/listings_resumed")
                self.logger.info("The last walk of %s did not end: walking it in full", url)
            request = scrapy.Request(url, callback=self.parse_listing, errback=self.listing_failed,
                                     cb_kwargs={"listing": url, "resume": resume},
                                     priority=LISTING_PRIORITY)
            self.listings_reading.add(url)
            yield request if resume else self.conditional(request)
        for request in self.article_requests(self.urls, explicit=True, source="urls"):
            yield request

    async def room_for_listing(self) -> None:
        """Wait while ``NEWSCRAWL_LISTINGS_AT_ONCE`` listings are being read, or while more
        than ``NEWSCRAWL_LISTING_BACKLOG`` requests wait in the scheduler.

        Listings are read as their articles drain, not all at once: Scrapy takes a start
        request only when no other request waits, and then fills every free download slot
        with one, so a crawl of 100 topic pages would parse 16 of them together and queue
        their 800 article requests, again and again. A listing yielded here is fetched next
        (``LISTING_PRIORITY``), so the downloader does not run dry while it is read. Never
        a deadlock: once nothing is queued, downloading or being parsed, the next goes."""
        engine = getattr(getattr(self, "crawler", None), "engine", None)
        backlog = self.settings.getint("NEWSCRAWL_LISTING_BACKLOG") if engine else 0
        if backlog <= 0:
            return
        at_once = max(1, self.settings.getint("NEWSCRAWL_LISTINGS_AT_ONCE"))
        while engine.running and engine.scheduler is not None:
            queued = len(engine.scheduler)
            if queued <= backlog and len(self.listings_reading) < at_once:
                return
            scraping = engine.scraper.slot is not None and not engine.scraper.slot.is_idle()
            if not queued and not engine.downloader.active and not scraping:
                self.listings_reading.clear()  # a listing lost without a callback or errback
                return
            await asyncio_sleep(LISTING_POLL)

    def listing_read(self, request: scrapy.Request) -> None:
        """The first page of a listing is parsed, failed or dropped: room for the next."""
        self.listings_reading.discard(request.cb_kwargs.get("listing"))

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.sources_done, signal=signals.spider_idle)
        crawler.signals.connect(spider.listing_read, signal=signals.request_dropped)
        return spider

    def sources_done(self) -> None:
        """Once every feed and listing is read: the due re-checks (and failed pages) no
        source brought up. After the sources, so that a full-text feed can vouch for an
        article instead of its page being fetched."""
        if self.reparsing:
            self.next_reparse_round()
            return
        if self._due_issued or self.full:
            return
        self._due_issued = True
        self._crawl_while_idle(self.due_requests())

    def _crawl_while_idle(self, requests: Iterable[scrapy.Request]) -> None:
        """``spider_idle``: crawl these requests, and keep the spider open if there are any."""
        scheduled = False
        for request in requests:
            self.crawler.engine.crawl(request)
            scheduled = True
        if scheduled:
            raise DontCloseSpider

    def due_requests(self) -> Iterator[scrapy.Request]:
        """Re-checks the schedule says are due, of articles no source of this run linked to
        (at most ``NEWSCRAWL_RECHECK_LIMIT``, most overdue first); and pages that failed,
        once ``NEWSCRAWL_RETRY_FAILED_HOURS`` have passed, up to
        ``NEWSCRAWL_RETRY_FAILED_TIMES`` tries in all."""
        limit = self.settings.getint("NEWSCRAWL_RECHECK_LIMIT")
        for article_id, url, title in self.archive().state.due(limit):
            if article_id in self.decided_ids:
                continue
            self.decided_ids.add(article_id)
            self.stat("newscrawl/incremental/recheck_due")
            yield self._request(url, article_id, title, {"source": "schedule"})
        failed = self.archive().state.failed_due(self.retry_failed_after,
                                         self.settings.getint("NEWSCRAWL_RETRY_FAILED_TIMES"), limit)
        for article_id, url in failed:
            if article_id in self.decided_ids:
                continue
            self.decided_ids.add(article_id)
            self.stat("newscrawl/incremental/failed_retried")
            yield self._request(url, article_id, None, {"source": "failed"})

    def conditional(self, request: scrapy.Request) -> scrapy.Request:
        """The request with ``If-None-Match`` / ``If-Modified-Since`` from the validators the
        state remembers for its URL; a 304 then reaches the callback. ``-a full=1`` asks
        unconditionally."""
        validators = None if self.full else self.archive().state.validators(request.url)
        if not validators:
            return request
        etag, last_modified, body_hash = validators
        if etag:
            request.headers[b"If-None-Match"] = etag
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified
        request.meta["handle_httpstatus_list"] = [304]
        request.meta["newscrawl_body_hash"] = body_hash
        return request

    def unchanged_response(self, response: Response) -> bool:
        """A 304, or the same bytes as when the validators were remembered."""
        if response.status == 304:
            self.stat("newscrawl/conditional/not_modified")
            return True
        known_hash = response.meta.get("newscrawl_body_hash")
        if known_hash and not response.meta.get("playwright") and body_hash(response) == known_hash:
            self.stat("newscrawl/conditional/same_body")
            return True
        return False

    def response_validators(self, response: Response) -> dict[str, Any]:
        headers = response.headers
        # remembered under the URL first asked for (a link the next run follows again) and the
        # one that answered (the URL a scheduled re-check asks for)
        asked = (response.meta.get("redirect_urls") or [response.request.url])[0]
        return {"urls": sorted({asked, response.url}),
                "etag": (headers.get(b"ETag") or b"").decode("latin-1") or None,
                "last_modified": (headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
                "body_hash": body_hash(response)}

    def frontier_requests(self) -> Iterator[scrapy.Request]:
        """The article pages an earlier run decided to fetch but did not finish (killed,
        stopped): first, so that nothing seen once is lost when its feed has moved on."""
        for article_id, url, title in self.archive().state.frontier():
            request = self.article_request(Link(url, title), source="frontier")
            if request is None:
                self.archive().state.frontier_done(article_id)
            else:
                self.stat("newscrawl/incremental/frontier_resumed")
                yield request

    @cached_property
    def reparsing(self) -> bool:
        """``scrapy reparse``: every response comes from the WARC captures (replay.py)."""
        return self.settings.getbool("NEWSCRAWL_REPARSE")

    def reparse_requests(self) -> Iterator[scrapy.Request]:
        """Reparse mode: the captures of each article's page (``-a urls=`` selects some) in
        the order they were written (:func:`newscrawl.replay.reparse_plan`), replayed in
        rounds: the first capture of every article, then — once the crawl is idle, every
        item of the round archived — the second, and so on, so that an article's versions
        are archived in the order of its captures. The replay answers every request; the
        callbacks and pipelines run as live."""
        if not archive_opened(self.crawler):
            return
        folder = warc_dir(self.settings, self.name)
        try:  # the ReplayMiddleware brought the index up to date as the spider opened
            reader = CaptureReader(folder, rebuild=False)
        except FileNotFoundError as exc:
            self.stat("newscrawl/reparse/no_captures")
            self.logger.error("Nothing to reparse: %s", exc)
            return
        try:
            plan, missing = reparse_plan(reader.index, self.site, self.urls, self.archive().held_capture)
        finally:
            reader.close()
        for url in missing:
            self.stat("newscrawl/reparse/selected_missing")
            self.logger.error("No capture of an article page at %s: not reparsed", url)
        rounds = max(map(len, plan), default=0)
        self._reparse_rounds = [[captures[n] for captures in plan if n < len(captures)]
                                for n in range(rounds)]
        self.logger.info("Reparsing %d articles from %d of their captures in %s (%d rounds)", len(plan),
                         sum(map(len, plan)), folder, rounds)
        yield from self._reparse_round()

    def next_reparse_round(self) -> None:
        """The crawl is idle: every item of the last round is archived. The next round."""
        self._crawl_while_idle(self._reparse_round())

    def _reparse_round(self) -> Iterator[scrapy.Request]:
        rounds = getattr(self, "_reparse_rounds", None)
        if not rounds:
            return
        for capture in rounds.pop(0):
            meta = {"article_id": self.site.article_id(self.site.canonical_url(capture.request_url)),
                    "listed_title": None, REPLAY_PIN: (capture.file, capture.offset), REPLAY_RUN: capture.seq}
            if capture.rendered:
                meta.update(render_meta(self.render_timeout_ms))
            yield scrapy.Request(capture.request_url, callback=self.parse_article,
                                 errback=self.article_failed, meta=meta, dont_filter=True)

    def archive(self) -> Archive:
        """The crawl's archive, open (it opens as the spider opens; a RuntimeError before):
        the owner of the state and outputs, the only way to read or write the state. A method,
        not a property: Scrapy's feed exports read every attribute of the spider before it
        opens."""
        return archive_of(self.crawler)

    @cached_property
    def retry_failed_after(self) -> timedelta:
        return timedelta(hours=self.settings.getfloat("NEWSCRAWL_RETRY_FAILED_HOURS"))

    def stat(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(key, count)

    def link_url(self, url: str) -> str:
        """The URL to follow for a found link (a spider may map it, e.g. to its edition)."""
        return self.site.canonical_url(url)

    def resolve(self, url: str) -> tuple[str, str | None]:
        """``(link_url(url), its article id)``, worked out once per found URL (a listing asks
        before deciding on its requests, and the request asks again)."""
        resolved = self._resolved.get(url)
        if resolved is None:
            if len(self._resolved) >= RESOLVED_CACHE:
                self._resolved.clear()
            follow = self.link_url(url)
            resolved = self._resolved[url] = (follow, self.site.article_id(follow))
        return resolved

    # ---- article requests ----------------------------------------------------------
    def article_request(self, link: Link | str, explicit: bool = False, **meta: Any) -> scrapy.Request | None:
        """A request for an article page, or ``None`` for other pages, ids already decided on
        in this run, and archived articles that need no re-fetch.

        ``explicit`` URLs (given by the user) are always fetched, even when they carry no id
        (e.g. a short permalink that redirects to the article).
        """
        link = Link(link) if isinstance(link, str) else link
        url, article_id = self.resolve(link.url)
        if article_id is None:
            if not explicit:
                return None
            return self._request(url, None, link.title, meta)
        if link.title:  # every title the run's sources show an article under
            self.shown_titles.setdefault(article_id, []).append(link.title)
        if article_id in self.decided_ids:
            self.stat("newscrawl/requests/duplicate_id")
            return None
        self.decided_ids.add(article_id)
        if not (explicit or self.full or self._worth_fetching(article_id, link)):
            return None
        if link.digest:
            meta["feed_digest"] = link.digest
        return self._request(url, article_id, link.title, meta)

    def known(self, article_id: str) -> Known | None:
        """The state's record of an article as the run started to look at it (a listing page
        asks before deciding on its requests: one query per id)."""
        if article_id not in self._known:
            self._known[article_id] = self.archive().state.known(article_id)
        return self._known[article_id]

    def _worth_fetching(self, article_id: str, link: Link) -> bool:
        """What the state says: archived articles only when due, retitled or changed in the
        feed, pages that failed only after a while, everything else yes."""
        known = self.known(article_id)
        if known is not None and known.complete:
            if self._refetch(article_id, known, link):
                return True
            self.stat("newscrawl/incremental/known_skipped")
            return False
        failure = self.archive().state.last_failure(article_id)
        if failure and self.archive().schedule.now() - parse_datetime(failure[2]) < self.retry_failed_after:
            self.stat("newscrawl/incremental/failed_skipped")
            return False
        return True

    def _request(self, url: str, article_id: str | None, title: str | None, meta: dict) -> scrapy.Request:
        self.stat("newscrawl/requests/article")
        if article_id:
            self.requested_ids.add(article_id)
            self.archive().state.frontier_add(article_id, url, title)
        meta = {"article_id": article_id, "listed_title": title, **meta}
        if any(pattern.search(url) for pattern in self.render_patterns):
            meta.update(render_meta(self.render_timeout_ms))
        request = scrapy.Request(url, callback=self.parse_article, errback=self.article_failed, meta=meta)
        known = self.known(article_id) if article_id else None
        if known is not None and known.pictures_missing:
            # fetched whole, not conditionally: its pictures not kept are tried again
            self.stat("newscrawl/incremental/refetched_for_pictures")
            return request
        # validators exist for archived articles, and for pages that failed to parse
        return self.conditional(request)

    # ---- rendering -----------------------------------------------------------------
    #: URL patterns of this spider's pages that always need the browser (added to
    #: NEWSCRAWL_RENDER_URLS); and whether its site allows the adaptive fallback.
    render_urls: ClassVar[list[str]] = []
    render_fallback: ClassVar[bool] = True

    @cached_property
    def render_patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in [*self.settings.getlist("NEWSCRAWL_RENDER_URLS"), *self.render_urls]]

    @cached_property
    def render_timeout_ms(self) -> int:
        return self.settings.getint("NEWSCRAWL_RENDER_TIMEOUT") * 1000

    def _render_again(self, response: Response, reason: str) -> scrapy.Request | None:
        """The same page once more through the browser, if its static HTML failed and the
        site allows it (adaptive rendering)."""
        if (response.meta.get("playwright") or reason in RETRY_PARSE_FAILURES or not self.render_fallback
                or not self.settings.getbool("NEWSCRAWL_RENDER_FALLBACK")
                or not self.settings.getbool("NEWSCRAWL_RENDERING")):
            return None
        self.stat("newscrawl/rendered/fallback")
        self.logger.info("Static HTML of %s gave no article (%s): rendering it", response.url, reason)
        meta = {key: response.meta.get(key) for key in ("article_id", "listed_title")}
        return response.request.replace(dont_filter=True, meta=meta | render_meta(self.render_timeout_ms))

    def _refetch(self, article_id: str, known: Known, link: Link) -> bool:
        """Whether an archived article is worth fetching again: its full text in the feed
        changed, its re-check is due (unless the feed shows its text unchanged), or a
        listing shows it under a new title."""
        if link.digest and known.feed_digest and link.digest != known.feed_digest:
            self.stat("newscrawl/incremental/feed_changed_refetched")
            return True
        schedule = self.archive().schedule
        if schedule.due(parse_datetime(known.next_check), parse_datetime(known.last_checked)):
            if link.digest and link.digest == known.feed_digest:
                self.archive().not_modified(article_id)  # the feed's full text stands in for the page
                self.stat("newscrawl/incremental/feed_vouched")
                return False
            self.stat("newscrawl/incremental/recheck_due")
            return True
        title = clean_text(link.title)
        if title:
            folded = self.site.fold_title(title)
            seen = {self.site.fold_title(t) for t in (known.title, known.listed_title) if t}
            if folded not in seen | set(known.shown_titles):
                self.stat("newscrawl/incremental/retitled_refetched")
                self.logger.info("Listed under a new title, fetching again: %s %r", known.url, title)
                return True
        return False

    def article_requests(self, links: list[Link] | list[str], explicit: bool = False,
                         **meta: Any) -> Iterator[scrapy.Request]:
        for link in links:
            request = self.article_request(link, explicit=explicit, **meta)
            if request is not None:
                yield request

    # ---- feeds and listings --------------------------------------------------------
    def parse_feed(self, response: Response, source: str | None = None) -> Iterator[scrapy.Request]:
        if self.unchanged_response(response):
            return
        entries = self.site.feed_entries(response) if isinstance(response, TextResponse) else []
        release_selector(response)
        self.stat("newscrawl/feed/items", len(entries))
        if not any(self.resolve(link.url)[1] for link in entries):
            self.source_failed(source or response.url, self._emptiness(response, entries, "item"))
        yield from self.article_requests(entries, source="feed")
        self.archive().state.set_validators(self.response_validators(response))

    def feed_failed(self, failure: Failure) -> None:
        self.source_failed(failure.request.cb_kwargs.get("source") or failure.request.url,
                           self._failure_reason(failure))

    # ---- accountable sources ---------------------------------------------------------
    def source_failed(self, url: str, reason: str) -> None:
        """A feed or listing the user asked for failed, answered empty or linked no article:
        a warning naming it, and the run fails unless it is optional."""
        source = self.sources.get(url) or Source("feed" if url in self.feeds else "listing", url, url)
        optional = url in self.optional_sources
        self.failed_sources.append({"source": url, "label": source.label, "given": source.given,
                                    "reason": reason, "optional": optional})
        self.stat("newscrawl/sources/optional_failed" if optional else "newscrawl/sources/failed")
        named = source.label if source.label.endswith(url) else f"{source.label} ({url})"
        self.logger.warning("Source failed: %s %s%s", named, reason,
                            "; it is optional: the run does not fail" if optional else
                            f"; the run fails unless it is optional (-a optional={source.given})")

    @staticmethod
    def _emptiness(response: Response, entries: list, what: str) -> str:
        if not response.body.strip():
            return f"answered an empty page (HTTP {response.status})"
        if not entries:
            return f"has no {what}"
        return "links no article"

    @staticmethod
    def _failure_reason(failure: Failure) -> str:
        if failure.check(HttpError):
            return f"answered HTTP {failure.value.response.status}"
        if failure.check(OffsiteRedirect):
            return "redirected off the site"
        if failure.check(IgnoreRequest):
            return f"was not fetched ({failure.getErrorMessage() or 'forbidden by robots.txt'})"
        return f"could not be fetched ({failure.type.__name__}: {failure.getErrorMessage()})"

    def parse_listing(self, response: Response, page: int = 1, listing: str | None = None,
                      resume: bool = False) -> Iterator[scrapy.Request]:
        """One page of a topic/tag/category listing; the next page only while it brings news
        (or, when the last walk of the listing did not end, to its end: ``resume``)."""
        listing = listing or response.url
        try:
            yield from self._listing_page(response, page, listing, resume)
        finally:  # its requests are queued (or it failed): room for the next listing
            self.listings_reading.discard(listing)

    def _listing_page(self, response: Response, page: int, listing: str,
                      resume: bool) -> Iterator[scrapy.Request]:
        self.stat("newscrawl/incremental/listing_pages")
        if not resume and self.unchanged_response(response):
            self.archive().state.listing_finished(listing)  # nothing new on it, nor after it
            return
        entries = self.site.listing_entries(response) if isinstance(response, TextResponse) else []
        next_url = self.site.next_page(response)
        release_selector(response)
        ids = {link: self.resolve(link.url)[1] for link in entries}
        if page == 1 and not any(ids.values()):
            self.source_failed(listing, self._emptiness(response, [], "article link"))
        ids = {link: article_id for link, article_id in ids.items() if article_id}
        all_known = bool(ids) and all(self._is_archived(article_id) for article_id in ids.values())
        yield from self.article_requests(list(ids), source="listing")
        if page == 1:
            self.archive().state.set_validators(self.response_validators(response))
        if not next_url:
            self.archive().state.listing_finished(listing)
            return
        if all_known and not (self.full or resume):
            self.stat("newscrawl/incremental/stopped_early")
            self.logger.info("Every article on %s is known: not paginating further", response.url)
            self.archive().state.listing_finished(listing)
        elif page >= self.settings.getint("NEWSCRAWL_MAX_LISTING_PAGES"):
            self.logger.warning("Stopping %s at the page limit (%d)", response.url, page)
            self.archive().state.listing_finished(listing)
        else:
            yield scrapy.Request(next_url, callback=self.parse_listing, errback=self.listing_failed,
                                 cb_kwargs={"page": page + 1, "listing": listing, "resume": resume})

    def listing_failed(self, failure: Failure) -> None:
        """A listing page that could not be fetched: the walk stays unfinished (walked in
        full next time). Its first page failing is a failed source."""
        self.stat("newscrawl/incremental/listing_failed")
        self.listing_read(failure.request)
        kwargs = failure.request.cb_kwargs
        if kwargs.get("page", 1) == 1:
            self.source_failed(kwargs.get("listing") or failure.request.url, self._failure_reason(failure))
        else:
            self.logger.warning("Listing page %s failed: %s", failure.request.url, failure.getErrorMessage())

    def _is_archived(self, article_id: str) -> bool:
        known = self.known(article_id)
        return known is not None and known.complete

    # ---- article pages -------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        article_id = response.meta.get("article_id")
        if article_id and response.meta.get("feed_digest"):
            self.archive().note_fetch(article_id, feed_digest=response.meta["feed_digest"])
        if article_id and self.unchanged_response(response):
            if self.gallery_waiters.get(article_id):  # the captions are needed: fetch it whole
                yield response.request.replace(dont_filter=True, headers={}, meta={
                    key: response.meta.get(key) for key in ("article_id", "listed_title")})
                return
            known = self.known(article_id)
            if known is not None and known.complete:
                self.archive().not_modified(article_id)
            else:  # a page that failed to parse, unchanged since: it fails again, unparsed
                failure = self.archive().state.last_failure(article_id)
                yield from self.drop(failure[0] if failure else "unchanged_failed_page", response,
                                     "unchanged since it failed")
            return
        if not isinstance(response, TextResponse):
            yield from self.drop("not_html", response)
            return
        rendered = bool(response.meta.get("playwright"))
        if rendered:
            self.stat("newscrawl/rendered/pages")
        elif article_id:
            self.archive().note_fetch(article_id, validators=self.response_validators(response))
        try:
            parsed = self.site.parse(response)
        except ParseError as exc:
            if exc.reason in RETRY_PARSE_FAILURES and not response.meta.get("newscrawl_retried"):
                # a page cut short may come whole the next time: one more try
                self.stat(f"newscrawl/retried/{exc.reason}")
                yield response.request.replace(dont_filter=True, meta={
                    key: response.meta.get(key) for key in ("article_id", "listed_title")
                } | {"newscrawl_retried": True})
                return
            again = self._render_again(response, exc.reason)
            if again is not None:
                yield again
                return
            if rendered:
                self.stat("newscrawl/rendered/failed")
            yield from self.drop(exc.reason, response, str(exc))
            return
        except Exception as exc:  # a parser bug: counted and logged with its traceback, never lost silently
            self.logger.exception("Parser error on %s", response.url)
            yield from self.drop("parser_error", response, f"{type(exc).__name__}: {exc}")
            return
        finally:
            release_selector(response)
        item = parsed.item
        item.rendered = rendered
        item.parser = parsed.parser
        if capture := response.meta.get(CAPTURE_META):  # the WARC record it was parsed from
            item.capture = {"file": capture["file"], "record": capture["record"]}
            item.crawled_at = capture["date"]
        title = response.meta.get("listed_title")
        if title and item.id:
            shown = {self.site.fold_title(t) for t in self.shown_titles.get(item.id, [title])}
            self.archive().state.set_listed_title(item.id, title, sorted(shown))
        if item.id and item.gallery and not parsed.gallery_url:
            self.galleries[item.id] = item.gallery  # complete: its own page
        if item.id:
            yield from self._release_waiters(item.id)
        if parsed.gallery_url:
            yield from self._await_gallery(item, parsed.gallery_url)
        else:
            yield item

    # ---- galleries whose captions are on their own page: one request per run -------
    def _await_gallery(self, item: Article, gallery_url: str) -> Iterator[Any]:
        """Complete the item's gallery from the gallery's page: at once when this run has
        parsed that page, else when it has (the page is requested once, and its own item is
        archived from the same response)."""
        url, gallery_id = self.resolve(gallery_url)
        if gallery_id is None:
            yield item
            return
        if gallery_id in self.galleries:
            yield self._with_gallery(item, self.galleries[gallery_id], url)
            return
        self.gallery_waiters.setdefault(gallery_id, []).append(item)
        if gallery_id not in self.requested_ids:
            self.decided_ids.add(gallery_id)
            request = self._request(url, gallery_id, None, {"source": "gallery"})
            request.headers.pop(b"If-None-Match", None)  # its captions are needed, not a 304
            request.headers.pop(b"If-Modified-Since", None)
            request.meta.pop("newscrawl_body_hash", None)
            yield request

    def _release_waiters(self, gallery_id: str) -> Iterator[Article]:
        """The items waiting for this gallery page: completed if it gave a gallery, else as
        they are (their partial gallery is kept)."""
        gallery = self.galleries.get(gallery_id)
        for item in self.gallery_waiters.pop(gallery_id, []):
            yield self._with_gallery(item, gallery, gallery_id)

    def _with_gallery(self, item: Article, gallery: Any, where: str) -> Article:
        if gallery and gallery.get("images"):
            item.gallery = gallery
            self.stat("newscrawl/gallery/completed")
        else:
            self.stat("newscrawl/gallery/incomplete")
            self.logger.warning("Gallery page %s gave no captions; keeping the partial gallery of %s",
                                where, item.url)
        return item

    def article_failed(self, failure: Failure) -> Iterator[Article]:
        """A fetch that failed for good (after retries): a counted, logged drop."""
        if failure.check(HttpError):
            reason = f"http_{failure.value.response.status}"
        elif failure.check(OffsiteRedirect):
            reason = "offsite_redirect"
        elif failure.check(RedirectLoop):
            reason = "redirect_loop"
        elif failure.check(TooManyRedirects):
            reason = "too_many_redirects"
        elif failure.check(RenderUnavailable):
            reason = "render_unavailable"
        elif failure.check(RenderTimeout):
            reason = "render_timeout"
        elif failure.check(NotCaptured):
            reason = "not_captured"
        elif failure.check(IgnoreRequest):  # e.g. robots.txt
            reason = "ignored_request"
        else:
            reason = f"fetch_failed_{failure.type.__name__}"
        yield from self.drop(reason, failure.request, failure.getErrorMessage())

    def drop(self, reason: str, where: Response | scrapy.Request, detail: str = "") -> Iterator[Article]:
        """A page that gave no item: counted, logged, and remembered so that re-crawls
        try it again only after ``NEWSCRAWL_RETRY_FAILED_HOURS``. Items waiting for it (it
        was a gallery page) go on with the gallery they have."""
        count_drop(self.crawler.stats, reason, where.url, detail)
        if isinstance(where, Response) and where.status == 200 and not where.meta.get("playwright"):
            # the next try asks whether the page changed: an unchanged failed page costs a 304
            self.archive().state.set_validators(self.response_validators(where))
        article_id = where.meta.get("article_id") or self.site.article_id(where.url)
        if article_id and not self.reparsing:  # a reparse fetched nothing: no retry to delay
            url = (where.meta.get("redirect_urls") or [where.url])[0]  # as asked for, before redirects
            self.archive().state.record_failure(article_id, reason, url)
        if article_id:
            yield from self._release_waiters(article_id)
