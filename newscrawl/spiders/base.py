"""What every newscrawl spider shares: the callbacks, wired to the policies that decide.

A site's spider only says where its sources are (feeds, listing pages, single URLs).
This base turns links into article requests — one per site id per run, canonical URLs —
and asks the small objects of :mod:`newscrawl.crawling` what to do:

* :class:`~newscrawl.crawling.incremental.IncrementalPolicy` — whether an article is worth
  fetching (archived articles when due, retitled or changed in a full-text feed; failed
  pages after ``NEWSCRAWL_RETRY_FAILED_HOURS``), conditionally or not, and which re-checks
  are due (asked once the sources are read, so that a full-text feed or a dated listing
  can vouch for an article instead of its page being fetched);
* :class:`~newscrawl.crawling.sources.SourceLedger` — the run's feeds and listings, the
  optional ones, the failed ones (a failed source is a warning naming it, counted in
  ``newscrawl/sources/failed`` — which fails the run — or ``optional_failed``; a 304 links
  what it linked before: it has not failed);
* :class:`~newscrawl.crawling.galleries.GalleryCompletion` — galleries whose captions live
  on a page of their own (one request per gallery page per run, shared with its own item);
* :func:`~newscrawl.crawling.failures.fetch_failure` — what a failed fetch means;
* :class:`~newscrawl.crawling.throttle.ListingThrottle` — listings read as their articles drain;
* :mod:`~newscrawl.crawling.sitemaps` — robots.txt's sitemaps and their entries, kept to the
  site and the edition (``-a sitemaps=1``; a sitemap is asked for conditionally, like a feed);
* :class:`~newscrawl.crawling.reparse.ReparseRounds` — ``scrapy reparse``;
* :class:`~newscrawl.crawling.browser.BrowserPolicy` — which pages chromium renders.

A listing stops paginating at the first page on which every linked article is known;
``-a full=1`` ignores the state (the pipelines still write no duplicate). A page that gives
no item is a counted drop (:mod:`newscrawl.drops`), remembered in the state.

Arguments are declared (:attr:`NewsSpider.arguments`, :mod:`newscrawl.arguments`) and
checked when the spider is made: a wrong one is an :class:`~newscrawl.arguments.ArgumentError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import AbstractContextManager
from functools import cached_property
from typing import Any, ClassVar

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from newscrawl.archive import Archive, archive_of, archive_opened
from newscrawl.arguments import PASSED_BY_RUNNERS, Argument, ArgumentError, http_url, parse_arguments
from newscrawl.crawling.backfill import BACKFILL_PRIORITY, Backfill, parse_since, positive_count
from newscrawl.crawling.browser import BrowserPolicy
from newscrawl.crawling.failures import failed_request, fetch_failure, worth_a_second_fetch
from newscrawl.crawling.galleries import GalleryCompletion
from newscrawl.crawling.incremental import Due, IncrementalPolicy, response_validators
from newscrawl.crawling.reparse import ReparseRounds
from newscrawl.crawling.sitemaps import (
    INDEX,
    URLSET,
    is_robots,
    newest_first,
    read_sitemap,
    robots_sitemaps,
    sitemap_body,
    sitemap_wanted,
)
from newscrawl.crawling.sources import Source, SourceLedger, emptiness
from newscrawl.crawling.throttle import LISTING_PRIORITY, ListingThrottle
from newscrawl.drops import count_drop
from newscrawl.items import Article
from newscrawl.sites import ParseError, Site
from newscrawl.sites.base import Link, ParseContext, ParsedPage
from newscrawl.warc import CAPTURE_META, warc_dir

#: How many found links :meth:`NewsSpider.resolve` remembers (~0.5 KB each).
RESOLVED_CACHE = 2048
#: What a request for an article page carries to the next request for the same page.
CARRIED_META = ("article_id", "listed_title")


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


def fetch_again(response: Response, headers: dict[str, Any] | None = None, **meta: Any) -> scrapy.Request:
    """The response's request once more (not filtered as a duplicate), carrying the
    article's id and listed title and ``meta``; ``headers={}`` drops its conditional ones."""
    request = response.request
    assert request is not None, "Scrapy gives a callback's response its request"
    carried = {key: response.meta.get(key) for key in CARRIED_META} | meta
    if headers is None:
        return request.replace(dont_filter=True, meta=carried)
    return request.replace(dont_filter=True, headers=headers, meta=carried)


#: Arguments every spider takes (``urls`` and ``feed`` are declared per site: their URLs differ).
FULL = Argument("full", "flag", "1: ignore the state, fetch every article again (still no duplicates)")
RECHECK = Argument(
    "recheck", "choice", "all: audit the whole archive, fetching every archived article again (as politely "
    "as any crawl, a batch at a time); a run stopped part-way is continued by the next recheck=all",
    choices=("all",))
SINCE = Argument(
    "since", "value", "backfill: archive everything the listings (and with sitemaps=1 the sitemaps) list"
    " back to this date, with no page cap; remembered in the state, so a stopped run is continued by the next"
    " with since", check=parse_since, item="YYYY-MM-DD")
BACKFILL_PAGES = Argument(
    "backfill_pages", "value", "read at most N pages of backfill in this run (the rest waits for the next"
    " run with since), so that a backfill shares the site with the hourly runs", check=positive_count,
    item="N")
OPTIONAL = Argument(
    "optional", "list", "sources that may fail or list nothing without failing the run: as given "
    "in the other arguments (a tag name, a topic id, a URL), 'feed' for the feed(s), "
    "'sitemaps' for the sitemaps, or * for all",
    item="sources")


def sitemaps_argument(where: list[str]) -> Argument:
    return Argument("sitemaps", "flag", f"1: read the sitemaps announced in {', '.join(where)} as well (news"
                    " and article sitemaps of the edition; an archived article whose <lastmod> is later than"
                    " its last check is fetched again); off by default")


def feed_argument(default: str, domains: list[str]) -> Argument:
    return Argument("feed", "feed", f"1: read the feed ({default}) as well, 0: not at all, or feed URLs; "
                    "the default when no other source is given", check=lambda v: http_url(v, domains))


class NewsSpider(scrapy.Spider):
    """The callbacks of a news site's crawl (start, feeds, listings, article pages, failures),
    asking the policies and components of :mod:`newscrawl.crawling`. A site's spider sets
    ``name``, ``site``, ``arguments`` and fills :meth:`choose_sources`."""

    site: ClassVar[Site]
    #: every ``-a`` argument the spider takes (the site's spider declares them)
    arguments: ClassVar[tuple[Argument, ...]] = ()
    #: URL patterns of this spider's pages that always need the browser (added to
    #: NEWSCRAWL_RENDER_URLS); and whether its site allows the adaptive fallback.
    render_urls: ClassVar[list[str]] = []
    render_fallback: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any):
        passed = {k: kwargs.pop(k) for k in list(kwargs) if k in PASSED_BY_RUNNERS}
        values = self.parse_arguments(kwargs)
        super().__init__(*args, **passed)
        self.args = values
        self.urls: list[str] = values.get("urls") or []
        self.full = bool(values.get("full"))
        self.ledger = SourceLedger()
        #: one decision per article id per run: requested, or skipped as known
        self.decided_ids: set[str] = set()
        #: ids actually requested in this run
        self.requested_ids: set[str] = set()
        #: ids whose due re-check a source of this run stood in for
        self.vouched_ids: set[str] = set()
        self._due_issued = False
        #: the titles this run's feeds and listings showed each article under
        self.shown_titles: dict[str, list[str]] = {}
        #: what this run's parses learn and later ones use (names seen in bylines)
        self.parse_context = ParseContext()
        self._incremental: IncrementalPolicy | None = None
        self._backfill: Backfill | None = None
        #: found URL → (URL to follow, article id): each link is canonicalised once (a cache of
        #: at most RESOLVED_CACHE links: a run that finds thousands does not keep them all)
        self._resolved: dict[str, tuple[str, str | None]] = {}
        self.throttle = ListingThrottle()  # made from the crawler in from_crawler
        #: where this run reads sitemaps (robots.txt or a sitemap; ``-a sitemaps=1``)
        self.sitemaps: list[str] = []
        #: sitemaps (not robots.txt) asked for in this run (at most NEWSCRAWL_MAX_SITEMAPS)
        self.sitemaps_asked = 0
        self.choose_sources(values)
        if not (self.listings or self.feeds or self.urls or self.sitemaps):
            others = [a.name for a in self.arguments if a.kind == "list" and a.name != "optional"]
            raise ArgumentError(f"nothing to crawl: feed=0 and no other source (give {', '.join(others)})")
        if values.get("backfill_pages") and not values.get("since"):
            raise ArgumentError("backfill_pages limits a backfill: give since=YYYY-MM-DD as well")
        if values.get("since") and not (self.listings or self.sitemaps):
            backfilled = [a.name for a in self.arguments
                          if a.kind == "list" and a.name not in ("optional", "urls")]
            raise ArgumentError("since backfills listings and sitemaps: give "
                                + " or ".join([*backfilled, *(["sitemaps=1"] if self.site.sitemaps else [])]))
        self.ledger.choose_optional(values.get("optional") or [], self.resolve_source)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.throttle = ListingThrottle.from_crawler(crawler)
        crawler.signals.connect(spider.sources_done, signal=signals.spider_idle)
        if spider.args.get("since"):  # only a backfill counts archived articles
            crawler.signals.connect(spider.item_archived, signal=signals.item_scraped)
        return spider

    # ---- arguments and sources (the hooks a site's spider fills) ---------------------
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
        self.ledger.add_listing(kind, given, url)

    def choose_feeds(self, feed: bool | list[str] | None, default: str) -> list[str]:
        """``-a feed``: 1 for the site's feed, 0 for none, or feed URLs; unset, the site's
        feed is read only when no other source was given."""
        others = bool(self.listings or self.urls or self.sitemaps)
        return self.ledger.choose_feeds(feed, default, others=others)

    def resolve_source(self, entry: str) -> list[str]:
        """The URLs ``entry`` would be as each kind of listing (for ``optional``)."""
        return []

    def choose_sitemaps(self, wanted: bool | None, urls: list[str]) -> None:
        """``-a sitemaps=1``: read the sitemaps at ``urls`` (the site's robots.txt) as well."""
        if wanted:
            self.sitemaps = self.ledger.add_sitemaps(urls)

    @property
    def edition(self) -> str:
        """The edition the run reads (a site's spider may let it be chosen)."""
        return self.site.default_edition

    def link_url(self, url: str) -> str:
        """The URL to follow for a found link (a spider may map it, e.g. to its edition)."""
        return self.site.canonical_url(url)

    @property
    def listings(self) -> list[str]:
        """Listing pages (topics, tags, categories) to walk."""
        return self.ledger.listings

    @property
    def feeds(self) -> list[str]:
        return self.ledger.feeds

    @feeds.setter
    def feeds(self, feeds: list[str]) -> None:
        self.ledger.feeds = feeds

    @property
    def sources(self) -> dict[str, Source]:
        return self.ledger.sources

    @property
    def optional_sources(self) -> set[str]:
        return self.ledger.optional

    @property
    def failed_sources(self) -> list[dict[str, Any]]:
        """The sources that failed in this run (the run report's ``failed_sources``)."""
        return self.ledger.failed

    # ---- the policies and components it asks ---------------------------------------
    def archive(self) -> Archive:
        """The crawl's archive, open (it opens as the spider opens; a RuntimeError before):
        the owner of the state and outputs, the only way to read or write the state. A method,
        not a property: Scrapy's feed exports read every attribute of the spider before it
        opens."""
        return archive_of(self.crawler)

    def incremental(self) -> IncrementalPolicy:
        """What this run fetches (made once, when first asked; a method for the same reason
        as :meth:`archive`)."""
        if self._incremental is None:
            self._incremental = IncrementalPolicy.from_settings(
                self.archive(), self.site, self.settings, full=self.full,
                audit_all=self.args.get("recheck") == "all")
        return self._incremental

    def backfill(self) -> Backfill | None:
        """The run's backfills (``-a since``), or ``None`` (made once, when first asked)."""
        if self._backfill is None and self.args.get("since") and not self.reparsing:
            budget = self.args.get("backfill_pages")
            self._backfill = Backfill(self.archive(), self.site, self.args["since"],
                                      int(budget) if budget else None, self.logger)
        return self._backfill

    @cached_property
    def galleries(self) -> GalleryCompletion:
        return GalleryCompletion(self.crawler.stats, self.logger)

    @cached_property
    def browser(self) -> BrowserPolicy:
        return BrowserPolicy.from_settings(self.settings, self.render_urls, self.render_fallback)

    @cached_property
    def reparse(self) -> ReparseRounds:
        return ReparseRounds(self.site, callback=self.parse_article, errback=self.article_failed,
                             render=self.browser.meta(), stats=self.crawler.stats, logger=self.logger)

    @cached_property
    def reparsing(self) -> bool:
        """``scrapy reparse``: every response comes from the WARC captures (replay.py)."""
        return self.settings.getbool("NEWSCRAWL_REPARSE")

    def stat(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(key, count)

    # ---- starting and idling -------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        if self.reparsing:
            if archive_opened(self.crawler):
                self.reparse.plan(warc_dir(self.settings, self.name), self.urls, self.archive().held_capture)
                for request in self.reparse.next_round():
                    yield request
            return
        for request in self.frontier_requests():
            yield request
        for url in self.feeds:  # read before the listings, which wait for them (throttle.room)
            self.throttle.feed_asked(url)
            yield self.incremental().conditional(scrapy.Request(
                url, callback=self.parse_feed, errback=self.feed_failed, cb_kwargs={"source": url}))
        for url in self.sitemaps:
            if sitemap := self.sitemap_request(url, url):
                yield sitemap
        backfill = self.backfill()
        for url in self.listings:
            await self.throttle.room()
            where = backfill.begin(url, url) if backfill else None
            if where and where[1] == 1:  # a backfill begins: its walk is the listing's walk too
                self.throttle.started(url)
                yield self.backfill_request(where[0], url, 1, priority=LISTING_PRIORITY)
                continue
            resume = self.archive().state.listing_started(url)
            if resume:
                self.stat("newscrawl/incremental/listings_resumed")
                self.logger.info("The last walk of %s did not end: walking it in full", url)
            request = scrapy.Request(url, callback=self.parse_listing, errback=self.listing_failed,
                                     cb_kwargs={"listing": url, "resume": resume},
                                     priority=LISTING_PRIORITY)
            self.throttle.started(url)
            yield request if resume else self.incremental().conditional(request)
            if where:  # and the backfill goes on where it got to, once the rest is done
                yield self.backfill_request(where[0], url, where[1])
        requests = []
        if self.urls:
            with self.archive().state.together("the given urls, in the frontier"):
                requests = list(self.article_requests(self.urls, explicit=True, source="urls"))
        for request in requests:
            self.stat("newscrawl/urls/requested")  # (a run whose every one fails fails: outcome.py)
            yield request

    def frontier_requests(self) -> Iterator[scrapy.Request]:
        """The article pages an earlier run decided to fetch but did not finish (killed,
        stopped): first, so that nothing seen once is lost when its feed has moved on."""
        state = self.archive().state
        requests = []
        if not (frontier := state.frontier()):
            return
        with state.together("the frontier left by an earlier run"):
            for article_id, url, title in frontier:
                request = self.article_request(Link(url, title), source="frontier")
                if request is None:
                    state.frontier_done(article_id)
                else:
                    self.stat("newscrawl/incremental/frontier_resumed")
                    requests.append(request)
        yield from requests

    def sources_done(self) -> None:
        """``spider_idle``: once every feed and listing is read, the due re-checks (and
        failed pages) no source brought up; in a reparse, the next round of captures."""
        if self.reparsing:
            self._crawl_while_idle(self.reparse.next_round())
            return
        requests = [] if self._due_issued else self.due_requests(self.incremental().due())
        self._due_issued = True
        self._crawl_while_idle(requests or self.audit_requests())

    def due_requests(self, due: Iterable[Due]) -> list[scrapy.Request]:
        """Requests for the re-checks, audits and retries of failed pages the incremental
        policy says are due (each id once a run: not those requested already; one a source
        linked and the policy did not fetch then — settled, say — is fetched now); put in
        the frontier in one transaction."""
        due = [one for one in due if one.article_id not in self.requested_ids]
        if not due:
            return []
        with self.archive().state.together("the due re-checks, in the frontier"):
            requests = []
            for one in due:
                if one.article_id in self.requested_ids:  # listed twice
                    continue
                self.decided_ids.add(one.article_id)
                self.stat(f"newscrawl/incremental/{one.why}")
                requests.append(self._request(one.url, one.article_id, one.title, {"source": one.source}))
        return requests

    def audit_requests(self) -> list[scrapy.Request]:
        """The next batch of an audit of the whole archive (``-a recheck=all``), as the
        spider idles: one batch at a time, so that an audit of any size waits in the state,
        not in the scheduler."""
        while (batch := self.incremental().audit_batch()) is not None:
            requests = self.due_requests(batch)
            if requests:
                self.logger.info("Audit of the whole archive: %d articles asked for, %d left to check",
                                 len(requests), self.incremental().audit_left())
                return requests
        if self.args.get("recheck") == "all" and not self.full:
            self.logger.info("Audit of the whole archive: every article asked for")
        return []

    def _crawl_while_idle(self, requests: Iterable[scrapy.Request]) -> None:
        """``spider_idle``: crawl these requests, and keep the spider open if there are any."""
        engine = self.crawler.engine
        assert engine is not None, "spider_idle comes from the running engine"
        scheduled = False
        for request in requests:
            engine.crawl(request)
            scheduled = True
        if scheduled:
            raise DontCloseSpider

    # ---- article requests ----------------------------------------------------------
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

    def article_requests(self, links: Iterable[Link | str], explicit: bool = False,
                         **meta: Any) -> Iterator[scrapy.Request]:
        for link in links:
            request = self.article_request(link, explicit=explicit, **meta)
            if request is not None:
                yield request

    def article_request(self, link: Link | str, explicit: bool = False, **meta: Any) -> scrapy.Request | None:
        """A request for an article page, or ``None`` for other pages, ids already decided on
        in this run, and articles the incremental policy does not fetch.

        ``explicit`` URLs (given by the user) are always fetched, even when they carry no id
        (e.g. a short permalink that redirects to the article).
        """
        link = Link(link) if isinstance(link, str) else link
        url, article_id = self.resolve(link.url)
        if article_id is None:
            return self._request(url, None, link.title, meta) if explicit else None
        if link.title:  # every title the run's sources show an article under
            self.shown_titles.setdefault(article_id, []).append(link.title)
        if article_id in self.decided_ids and not self.decide_again(article_id, link):
            self.stat("newscrawl/requests/duplicate_id")
            return None
        self.decided_ids.add(article_id)
        verdict = self.incremental().decide(article_id, link, explicit)
        if verdict.vouched:  # the feed's full text or the listing's date stands in for the page
            self.vouched_ids.add(article_id)
            self.archive().not_modified(article_id, self.incremental().known(article_id))
            self.stat(f"newscrawl/incremental/{verdict.vouched}")
        if verdict.why:
            self.stat(f"newscrawl/incremental/{verdict.why}")
        if verdict.note:
            self.logger.info("%s", verdict.note)
        if not verdict.fetch:
            return None
        if link.digest:
            meta["feed_digest"] = link.digest
        return self._request(url, article_id, link.title, meta)

    def decide_again(self, article_id: str, link: Link) -> bool:
        """A sitemap or a listing says an article changed that an earlier link of this run
        skipped (a feed read first), or vouches for its due re-check that an earlier link
        left for later: it is decided again, so the order sources answer in loses no edit
        and costs no re-check (:meth:`IncrementalPolicy.reconsider`)."""
        if article_id in self.requested_ids or article_id in self.vouched_ids:
            return False
        return self.incremental().reconsider(article_id, link)

    def _request(self, url: str, article_id: str | None, title: str | None, meta: dict) -> scrapy.Request:
        self.stat("newscrawl/requests/article")
        if article_id:
            self.requested_ids.add(article_id)
            self.archive().state.frontier_add(article_id, url, title)
        meta = {"article_id": article_id, "listed_title": title, **meta}
        if self.browser.always(url):
            meta.update(self.browser.meta())
        request = scrapy.Request(url, callback=self.parse_article, errback=self.article_failed, meta=meta)
        if self.incremental().fetch_whole(article_id):
            # fetched whole, not conditionally: its pictures not kept are tried again
            self.stat("newscrawl/incremental/refetched_for_pictures")
            return request
        # validators exist for archived articles, and for pages that failed to parse
        return self.incremental().conditional(request)

    def unchanged(self, response: Response) -> bool:
        """A 304, or the same bytes as when the validators were remembered (counted)."""
        why = self.incremental().unchanged(response)
        if why:
            self.stat(f"newscrawl/conditional/{why}")
        return why is not None

    # ---- feeds and listings --------------------------------------------------------
    def parse_feed(self, response: Response, source: str | None = None) -> Iterator[scrapy.Request]:
        """A feed: its articles decided on (a full-text feed's digests known before any
        listing of the run links them: the listings wait for the feeds)."""
        try:
            yield from self._feed(response, source)
        finally:
            self.throttle.feed_read(source or response.url)

    def _feed(self, response: Response, source: str | None) -> Iterator[scrapy.Request]:
        if self.unchanged(response):
            return
        entries = self.site.feed_entries(response) if isinstance(response, TextResponse) else []
        release_selector(response)
        self.stat("newscrawl/feed/items", len(entries))
        if not any(self.resolve(link.url)[1] for link in entries):
            self.source_failed(source or response.url, emptiness(response, entries, "item"))
        yield from self.page_requests(response, entries, source="feed")

    def feed_failed(self, failure: Failure) -> None:
        request = failed_request(failure)
        self.throttle.feed_read(request.cb_kwargs.get("source") or request.url)
        self.source_failed(request.cb_kwargs.get("source") or request.url, fetch_failure(failure).text)

    def source_failed(self, url: str, reason: str) -> None:
        """A feed or listing the user asked for failed, answered empty or linked no article:
        a warning naming it, and the run fails unless it is optional."""
        failed = self.ledger.fail(url, reason)
        self.stat(failed.stat)
        self.logger.warning("Source failed: %s", failed.warning)

    # ---- sitemaps ------------------------------------------------------------------
    def sitemap_request(self, url: str, source: str, depth: int = 0) -> scrapy.Request | None:
        """A request for robots.txt (whole: its ``Sitemap:`` lines are needed) or a sitemap
        (conditional, like a feed); ``None`` past ``NEWSCRAWL_MAX_SITEMAPS`` sitemaps a run."""
        cb_kwargs = {"source": source, "depth": depth}
        if is_robots(url):
            return scrapy.Request(url, callback=self.parse_robots, errback=self.sitemap_failed,
                                  cb_kwargs=cb_kwargs, dont_filter=True)
        limit = self.settings.getint("NEWSCRAWL_MAX_SITEMAPS")
        if self.sitemaps_asked >= limit and self.backfill() is None:  # a backfill has no cap
            self.stat("newscrawl/sitemaps/over_limit")
            if self.sitemaps_asked == limit:
                self.logger.warning("Read %d sitemaps (NEWSCRAWL_MAX_SITEMAPS): not %s nor later ones",
                                    limit, url)
                self.sitemaps_asked += 1
            return None
        self.sitemaps_asked += 1
        return self.incremental().conditional(scrapy.Request(
            url, callback=self.parse_sitemap, errback=self.sitemap_failed, cb_kwargs=cb_kwargs))

    def parse_robots(self, response: Response, source: str, depth: int = 0) -> Iterator[scrapy.Request]:
        """robots.txt: the sitemaps its ``Sitemap:`` lines announce for this run's edition."""
        announced = robots_sitemaps(response)
        wanted = [url for url in announced if sitemap_wanted(self.site, url, self.edition)]
        self.stat("newscrawl/sitemaps/left_out", len(announced) - len(wanted))
        if not wanted:
            self.source_failed(source, f"announces no sitemap of the {self.edition} edition"
                                       f" ({len(announced)} of others or elsewhere)")
        for url in wanted:
            request = self.sitemap_request(url, source, depth)
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response, source: str, depth: int = 0) -> Iterator[scrapy.Request]:
        """A sitemap index (its sitemaps of this edition, those changed last first; one level
        deep) or a sitemap (its article pages of this edition, each with its ``<lastmod>``)."""
        self.stat("newscrawl/sitemaps/read")
        if self.unchanged(response):
            return
        body = sitemap_body(response, response.meta.get("download_maxsize",
                                                        self.settings.getint("DOWNLOAD_MAXSIZE")))
        if body is None:
            self.source_failed(source, f"lists {response.url}, which unpacks beyond DOWNLOAD_MAXSIZE")
            return
        read = read_sitemap(body, self.site, self.edition)
        self.stat("newscrawl/sitemaps/left_out", read.left_out)
        if read.cut:
            self.stat("newscrawl/sitemaps/cut")
            self.logger.warning("Sitemap %s lists more than it may: the rest is not read", response.url)
        links = read.links
        if (backfill := self.backfill()) is not None:  # only what is not older than since
            verdict = backfill.judge(links)
            links = verdict.links
            self.stat("newscrawl/backfill/older_left_out", verdict.older)
        if read.kind == INDEX and depth == 0:
            for link in newest_first(links):
                request = self.sitemap_request(link.url, source, depth + 1)
                if request is not None:
                    yield request
        elif read.kind == INDEX:
            self.stat("newscrawl/sitemaps/nested_index")
            self.logger.warning("Sitemap index %s is listed in another index: not followed", response.url)
        elif read.kind == URLSET:
            self.stat("newscrawl/sitemaps/entries", len(read.links))
            yield from self.page_requests(response, links, source="sitemap")
        else:
            self.source_failed(source, f"lists {response.url}, which is no sitemap")

    def sitemap_failed(self, failure: Failure) -> None:
        request = failed_request(failure)
        source = request.cb_kwargs.get("source") or request.url
        where = "" if request.url == source else f"lists {request.url}, which "
        self.source_failed(source, where + fetch_failure(failure).text)

    def page_writes(self, response: Response) -> AbstractContextManager[None]:
        """The state's writes for a feed, sitemap or listing page, in one transaction."""
        return self.archive().state.together(f"the articles {response.url} links to, in the frontier")

    def page_requests(self, response: Response, links: Iterable[Link], *, source: str,
                      validators: bool = True, finished: str | None = None,
                      **kwargs: Any) -> list[scrapy.Request]:
        """The requests for the articles a feed, sitemap or listing page links, put in the
        frontier with the page's validators (``validators``) and the end of the walk of the
        listing ``finished`` in one transaction (:meth:`page_writes`, or the caller's)."""
        state = self.archive().state
        with self.page_writes(response):
            requests = list(self.article_requests(links, source=source, **kwargs))
            if validators:
                state.set_validators(response_validators(response))
            if finished:
                state.listing_finished(finished)
        return requests

    def parse_listing(self, response: Response, page: int = 1, listing: str | None = None,
                      resume: bool = False, backfill: bool = False) -> Iterator[scrapy.Request]:
        """One page of a topic/tag/category listing; the next page only while it brings news
        (or, when the last walk of the listing did not end, to its end: ``resume``; or, in a
        backfill, back to its date: ``backfill``)."""
        listing = listing or response.url
        try:
            if backfill:
                yield from self._backfill_page(response, page, listing)
            else:
                yield from self._listing_page(response, page, listing, resume)
        finally:  # its requests are queued (or it failed): room for the next listing
            self.throttle.read(listing)

    def backfill_request(self, url: str, listing: str, page: int,
                         priority: int = BACKFILL_PRIORITY) -> scrapy.Request:
        """A request for a page of a listing's backfill (whole, not conditional)."""
        return scrapy.Request(url, callback=self.parse_listing, errback=self.listing_failed,
                              priority=priority,
                              cb_kwargs={"page": page, "listing": listing, "backfill": True})

    def _backfill_page(self, response: Response, page: int, listing: str) -> Iterator[scrapy.Request]:
        """A page of a listing's backfill: its articles not older than ``since`` asked for,
        then the walk remembered (and logged), then the next page unless the walk ends here."""
        backfill = self.backfill()
        assert backfill is not None, "backfill pages are asked for only with since"
        if not backfill.may_read():  # another listing's backfill took the run's pages
            self.logger.info("Backfill of %s: page %d waits for the next run (backfill_pages)", listing, page)
            return
        self.stat("newscrawl/incremental/listing_pages")
        self.stat("newscrawl/backfill/pages")
        entries = self.site.listing_entries(response) if isinstance(response, TextResponse) else []
        next_url = self.site.next_page(response)
        release_selector(response)
        articles = [link for link in entries if self.resolve(link.url)[1]]
        if page == 1 and not articles:
            self.source_failed(listing, emptiness(response, [], "article link"))
        verdict = backfill.judge(articles)
        self.stat("newscrawl/backfill/older_left_out", verdict.older)
        with self.page_writes(response):
            requests = self.page_requests(response, verdict.links, source="listing", backfill=listing,
                                          validators=page == 1, finished=listing if page == 1 else None)
            go_on = backfill.walked(listing, response.url, page, verdict, len(requests), next_url)
        self.stat("newscrawl/backfill/requested", len(requests))
        yield from requests
        if go_on and next_url:
            yield self.backfill_request(next_url, listing, page + 1)

    def item_archived(self, item: Any, response: Response | None = None, **kwargs: Any) -> None:
        """``item_scraped``: an article a backfill asked for counts as archived by it."""
        source = response.meta.get("backfill") if response is not None else None
        backfill = self.backfill()
        if source and backfill is not None:
            backfill.archived(source)

    def _listing_page(self, response: Response, page: int, listing: str,
                      resume: bool) -> Iterator[scrapy.Request]:
        self.stat("newscrawl/incremental/listing_pages")
        if not resume and self.unchanged(response):
            self.archive().state.listing_finished(listing)  # nothing new on it, nor after it
            return
        entries = self.site.listing_entries(response) if isinstance(response, TextResponse) else []
        next_url = self.site.next_page(response)
        release_selector(response)
        ids = {link: self.resolve(link.url)[1] for link in entries}
        if page == 1 and not any(ids.values()):
            self.source_failed(listing, emptiness(response, [], "article link"))
        articles = {link: article_id for link, article_id in ids.items() if article_id}
        stop = self.incremental().stop_walking(articles.values(), resume, self.site.listings_newest_first)
        last_page = page >= self.settings.getint("NEWSCRAWL_MAX_LISTING_PAGES")
        if next_url and stop:
            self.stat("newscrawl/incremental/stopped_early")
            self.logger.info("The articles on %s are known: not paginating further", response.url)
        elif next_url and last_page:
            self.logger.warning("Stopping %s at the page limit (%d)", response.url, page)
        go_on = next_url if not (stop or last_page) else None
        yield from self.page_requests(response, articles, source="listing", validators=page == 1,
                                      finished=None if go_on else listing)
        if go_on:
            yield scrapy.Request(go_on, callback=self.parse_listing, errback=self.listing_failed,
                                 cb_kwargs={"page": page + 1, "listing": listing, "resume": resume})

    def listing_failed(self, failure: Failure) -> None:
        """A listing page that could not be fetched: the walk stays unfinished (walked in
        full next time). Its first page failing is a failed source."""
        self.stat("newscrawl/incremental/listing_failed")
        request = failed_request(failure)
        self.throttle.read(request.cb_kwargs.get("listing"))
        if request.cb_kwargs.get("backfill"):
            self.stat("newscrawl/backfill/page_failed")
        if request.cb_kwargs.get("page", 1) == 1:
            self.source_failed(request.cb_kwargs.get("listing") or request.url, fetch_failure(failure).text)
        else:
            self.logger.warning("Listing page %s failed: %s", request.url, failure.getErrorMessage())

    # ---- article pages -------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article page: unchanged since it was last fetched, not HTML, a page no parser
        reads, or an item (completed from its gallery's own page when that is elsewhere)."""
        article_id = response.meta.get("article_id")
        if article_id and response.meta.get("feed_digest"):
            self.archive().note_fetch(article_id, feed_digest=response.meta["feed_digest"])
        if article_id and self.unchanged(response):
            yield from self._unchanged_article(response, article_id)
        elif not isinstance(response, TextResponse):
            yield from self.drop("not_html", response)
        else:
            yield from self._parse_page(response, article_id)

    def _unchanged_article(self, response: Response, article_id: str) -> Iterator[Any]:
        if self.galleries.awaited(article_id):  # the captions are needed: fetch it whole
            yield fetch_again(response, headers={})
        elif self.incremental().archived(article_id):  # read as it was asked for: no read now
            self.archive().not_modified(article_id, self.incremental().known(article_id))
        else:  # a page that failed to parse, unchanged since: it fails again, unparsed
            failure = self.archive().state.last_failure(article_id)
            yield from self.drop(failure[0] if failure else "unchanged_failed_page", response,
                                 "unchanged since it failed")

    def _parse_page(self, response: TextResponse, article_id: str | None) -> Iterator[Any]:
        if response.meta.get("playwright"):
            self.stat("newscrawl/rendered/pages")
        elif article_id:
            self.archive().note_fetch(article_id, validators=response_validators(response))
        try:
            parsed = self.site.parse(response, self.parse_context)
        except ParseError as exc:
            yield from self._parse_failed(response, exc)
            return
        except Exception as exc:  # a parser bug: counted and logged with its traceback, never lost silently
            self.logger.exception("Parser error on %s", response.url)
            yield from self.drop("parser_error", response, f"{type(exc).__name__}: {exc}")
            return
        finally:
            release_selector(response)
        item = self._stamped(parsed, response)
        if item.id:
            yield from self.galleries.page_parsed(item.id, None if parsed.gallery_url else item.gallery)
        if parsed.gallery_url:
            yield from self._await_gallery(item, parsed.gallery_url)
        else:
            yield item

    def _parse_failed(self, response: Response, exc: ParseError) -> Iterator[Any]:
        """A page no parser reads: one more plain fetch (it may come whole), or through the
        browser (the adaptive fallback), or a drop."""
        if worth_a_second_fetch(exc.reason, response.meta):
            self.stat(f"newscrawl/retried/{exc.reason}")
            yield fetch_again(response, newscrawl_retried=True)
        elif self.browser.again(response, exc.reason):
            self.stat("newscrawl/rendered/fallback")
            self.logger.info("Static HTML of %s gave no article (%s): rendering it", response.url, exc.reason)
            yield fetch_again(response, **self.browser.meta())
        else:
            if response.meta.get("playwright"):
                self.stat("newscrawl/rendered/failed")
            yield from self.drop(exc.reason, response, str(exc))

    def _stamped(self, parsed: ParsedPage, response: Response) -> Article:
        """The parsed item with how it was fetched (rendered, the parser, the WARC record it
        was parsed from); the title the run's sources listed it under goes to the state with
        the version or re-check it leads to (one transaction)."""
        item = parsed.item
        item.rendered = bool(response.meta.get("playwright"))
        item.parser = parsed.parser
        if capture := response.meta.get(CAPTURE_META):  # the WARC record it was parsed from
            item.capture = {"file": capture["file"], "record": capture["record"]}
            item.crawled_at = capture["date"]
        title = response.meta.get("listed_title")
        if title and item.id:  # recorded with the version or re-check (Archive.note_fetch)
            shown = {self.site.fold_title(t) for t in self.shown_titles.get(item.id, [title])}
            self.archive().note_fetch(item.id, listed_title=title, shown=sorted(shown))
        return item

    def _await_gallery(self, item: Article, gallery_url: str) -> Iterator[Any]:
        """Complete the item's gallery from the gallery's page: at once when this run has
        parsed that page, else when it has (the page is requested once, and its own item is
        archived from the same response)."""
        url, gallery_id = self.resolve(gallery_url)
        if gallery_id is None:
            yield item
            return
        done = self.galleries.wait(item, gallery_id, url)
        if done is not None:
            yield done
        elif gallery_id not in self.requested_ids:
            self.decided_ids.add(gallery_id)
            # its captions are needed, not a 304
            request = self._request(url, gallery_id, None, {"source": "gallery"})
            yield self.incremental().unconditional(request)

    def article_failed(self, failure: Failure) -> Iterator[Article]:
        """A fetch that failed for good (after retries): a counted, logged drop."""
        reason = fetch_failure(failure).reason
        yield from self.drop(reason, failed_request(failure), failure.getErrorMessage())

    def drop(self, reason: str, where: Response | scrapy.Request, detail: str = "") -> Iterator[Article]:
        """A page that gave no item: counted, logged, and remembered so that re-crawls
        try it again only after ``NEWSCRAWL_RETRY_FAILED_HOURS``. Items waiting for it (it
        was a gallery page) go on with the gallery they have."""
        count_drop(self.crawler.stats, reason, where.url, detail)
        if where.meta.get("source") == "urls":
            self.stat("newscrawl/urls/failed")
        if isinstance(where, Response) and where.status == 200 and not where.meta.get("playwright"):
            # the next try asks whether the page changed: an unchanged failed page costs a 304
            self.archive().state.set_validators(response_validators(where))
        article_id = where.meta.get("article_id") or self.site.article_id(where.url)
        if article_id and not self.reparsing:  # a reparse fetched nothing: no retry to delay
            url = (where.meta.get("redirect_urls") or [where.url])[0]  # as asked for, before redirects
            self.archive().state.record_failure(article_id, reason, url)
        if article_id:
            yield from self.galleries.release(article_id)
