"""Downloader middlewares of the project: off-site redirects, redirect loops and over-long
redirect chains as counted drops; retries that honour ``Retry-After``; the local mirror as
a proxy (``NEWSCRAWL_MIRROR``); Scrapy's cookie middleware left out while cookies are off."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import redirect
from scrapy.downloadermiddlewares.redirect import BaseRedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.settings import BaseSettings, Settings
from scrapy.spidermiddlewares.urllength import UrlLengthMiddleware as ScrapyUrlLengthMiddleware
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred
from w3lib.url import canonicalize_url

from newscrawl.drops import count_drop

logger = logging.getLogger(__name__)


class MirrorProxyMiddleware:
    """``NEWSCRAWL_MIRROR=http://127.0.0.1:8765``: every request goes through the local mirror
    server as through an HTTP proxy (``meta["proxy"]``, before Scrapy's HttpProxyMiddleware).

    The request itself is not touched: its URL stays the real one, the production download
    handler fetches it (a CONNECT tunnel and TLS for https, as with any proxy), so
    AutoThrottle sees the real latency and robots.txt, redirects, retries and stats behave as
    on the real sites. Without the setting the middleware is not loaded.
    """

    def __init__(self, proxy: str):
        self.proxy = proxy.rstrip("/")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MirrorProxyMiddleware:
        from scrapy.exceptions import NotConfigured

        proxy = crawler.settings.get("NEWSCRAWL_MIRROR")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        request.meta.setdefault("proxy", self.proxy)


SCRAPY_COOKIES = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"


class CookiesAddon:
    """With ``COOKIES_ENABLED`` off (the project's default), Scrapy's cookie middleware is
    taken out of ``DOWNLOADER_MIDDLEWARES_BASE`` instead of being loaded to switch itself
    off: importing its module imports tldextract with requests, 40-60 ms of CPU at every
    start. (Naming it ``None`` in ``DOWNLOADER_MIDDLEWARES`` would not do: Scrapy 2.19
    imports every class named there, disabled or not, to normalise the names.) With
    ``COOKIES_ENABLED`` on, nothing changes. An add-on, because it runs once every source of
    settings, ``-s`` included, has been applied."""

    def update_settings(self, settings: Settings) -> None:
        if settings.getbool("COOKIES_ENABLED"):
            return
        base = settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")
        if base.pop(SCRAPY_COOKIES, None) is not None:
            settings.set("DOWNLOADER_MIDDLEWARES_BASE", base,
                         settings.getpriority("DOWNLOADER_MIDDLEWARES_BASE") or "addon")


class _OneLineRobotsError(logging.Filter):
    """Scrapy logs a robots.txt that could not be fetched (a host that refuses connections,
    a DNS failure) with the whole Twisted traceback, naming the request that waited for it
    rather than the robots.txt: one line instead, saying what happens next."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.args, dict) and "f_exception" in record.args:
            request = record.args.get("request")
            host = urlparse_cached(request).netloc if isinstance(request, Request) else "its host"
            record.msg = ("robots.txt of %(host)s could not be fetched (%(f_exception)s);"
                          " its pages are fetched as if it had none")
            record.args = {"host": host, "f_exception": record.args["f_exception"]}
            record.exc_info = record.exc_text = None
        return True


logging.getLogger(ScrapyRobotsTxtMiddleware.__module__).addFilter(_OneLineRobotsError())


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waits for a host's robots.txt
    getting its rules, and each decision asked once per path.

    In Scrapy 2.19 the requests that reach a host while its robots.txt is being fetched all
    await the same Deferred through ``maybe_deferred_to_future``; the first waiter's callback
    consumes its result, and every other waiter gets ``None`` — no robots.txt — and is let
    through, forbidden or not (scrapy/scrapy#6802 replaced a relay that passed the result on).
    A picture host meets this at once: an article's pictures arrive together. Each waiter here
    has a Deferred of its own, relayed from the shared one.
    """

    #: how many decisions are kept; past it the cache starts again (a crawl asks a few per page)
    DECISIONS_KEPT = 4096

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        #: robots.txt's answer by host, user agent and path (with its query: rules may match
        #: it), for a host whose robots.txt is known; see :meth:`process_request`
        self._decisions: dict[tuple[str, str, str, str, Any], bool] = {}

    # Scrapy's is a coroutine; a plain method here answers at once from the host's parser or
    # the cache, and hands back a coroutine only while a host's robots.txt is not known yet.
    def process_request(self, request: Request, spider: Spider | None = None) -> Any:  # type: ignore[override]
        """Obey the host's robots.txt: the decision for a path already asked is taken from
        a cache (a picture shown twice, a retry, a redirect back); a host whose robots.txt
        is being fetched is waited for (Scrapy's path)."""
        if request.meta.get("dont_obey_robotstxt") or request.url.startswith(("data:", "file:")):
            return None
        url = urlparse_cached(request)
        if url.netloc not in self._parsers or isinstance(parser := self._parsers[url.netloc], Deferred):
            return self._wait_and_decide(request)  # unknown yet, or being fetched
        if parser is None:  # no robots.txt (it could not be fetched)
            return None
        useragent = self._robotstxt_useragent or request.headers.get(b"User-Agent", self._default_useragent)
        assert useragent is not None
        key = (url.netloc, url.path, url.params, url.query, useragent)
        allowed = self._decisions.get(key)
        if allowed is None:
            allowed = parser.allowed(request.url, useragent)
            if len(self._decisions) >= self.DECISIONS_KEPT:
                self._decisions.clear()
            self._decisions[key] = allowed
        if not allowed:
            self.process_request_2(parser, request)  # Scrapy's refusal: logged, counted, raised
        return None

    async def _wait_and_decide(self, request: Request) -> None:
        self.process_request_2(await self.robot_parser(request), request)

    async def robot_parser(self, request: Request) -> Any:
        parser = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(parser, Deferred):
            waiter: Deferred = Deferred()

            def relay(result: Any) -> Any:
                waiter.callback(result)
                return result  # for the next waiter

            parser.addCallback(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)


class RobotsTxtForEveryHostMiddleware:
    """Let Scrapy's robots.txt requests leave the spider's ``allowed_domains``.

    A picture may live on a host outside the site's domains (a CDN), and its request may go
    there (``allow_offsite``). Scrapy's robots.txt middleware asks for that host's robots.txt
    with a request of its own, which the offsite filter would drop: the picture would then be
    fetched as if the host had no robots.txt. A robots.txt request exists only for a host
    some request was allowed to reach, so letting every one through is safe. Runs before
    ``OffsiteMiddleware`` (50).
    """

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("dont_obey_robotstxt") and urlsplit(request.url).path == "/robots.txt":
            request.meta["allow_offsite"] = True


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
        if (not (300 <= response.status < 400 and location) or request.meta.get("dont_redirect")
                or request.meta.get("allow_offsite")):  # a picture may live on any host
            return response
        allowed = getattr(self.crawler.spider, "allowed_domains", None) or []
        target = urljoin(request.url, location.decode("latin-1"))
        host = urlsplit(target).hostname or ""
        if not allowed or any(host == d or host.endswith(f".{d}") for d in allowed):
            return response
        raise OffsiteRedirect(f"{request.url} redirects off-site to {target}")


# ---- Retry-After ---------------------------------------------------------------------
#: Statuses whose ``Retry-After`` is honoured (RFC 9110 §10.2.3, RFC 6585 §4).
RETRY_AFTER_STATUSES = frozenset({429, 503})
#: How often a wait looks whether the crawl is shutting down (then it stops waiting).
_WAIT_STEP = 0.5


def retry_after_seconds(response: Response, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (never negative), or ``None``
    when there is no such header or it is neither delta-seconds nor an HTTP date.

    An HTTP date is measured against the response's own ``Date`` header when it has one
    (both are the server's clock, so a skewed local clock does not matter), else against
    ``now``.
    """
    raw = response.headers.get(b"Retry-After")
    if not raw:
        return None
    value = raw.decode("latin-1").strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    reference = _http_date((response.headers.get(b"Date") or b"").decode("latin-1"))
    reference = reference or now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware that honours ``Retry-After`` on 429 and 503.

    The retry of such a response waits as long as the server asked (delta-seconds or an
    HTTP date) before it goes back to the scheduler; the wait is a non-blocking sleep of
    this request only (the rest of the crawl goes on), counted in
    ``newscrawl/retry_after/waited`` and ``.../seconds``. A wait longer than
    ``NEWSCRAWL_RETRY_AFTER_MAX`` is not retried at all (``.../over_max``): the page is a
    counted drop (``http_429``/``http_503``) and tried again by a later run, like a page
    whose retries ran out. Without the header (or with an unreadable one) it retries as
    Scrapy does. A crawl that is shutting down stops waiting: the retry goes to the
    scheduler at once (kept in ``JOBDIR`` when there is one).
    """

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("NEWSCRAWL_RETRY_AFTER_MAX")

    # Scrapy's manager runs a coroutine process_response (2.13+), though RetryMiddleware's own
    # signature is the synchronous one: the override is narrower only on paper.
    async def process_response(  # type: ignore[override]
            self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        reason = response_status_message(response.status)
        wait = retry_after_seconds(response) if response.status in RETRY_AFTER_STATUSES else None
        if wait is None:
            return self._retry(request, reason) or response
        stats = self.crawler.stats
        if wait > self.max_wait:
            stats.inc_value("newscrawl/retry_after/over_max")
            logger.warning("%s: %d asks to retry in %.0f s, more than NEWSCRAWL_RETRY_AFTER_MAX (%.0f s): "
                           "not retried in this run", request.url, response.status, wait, self.max_wait)
            return response
        retry = self._retry(request, reason)
        if retry is None:
            return response
        if wait > 0:
            logger.info("%s: %d, waiting %g s as Retry-After asks before retrying", request.url,
                        response.status, wait)
            waited = await self._wait(wait)
            stats.inc_value("newscrawl/retry_after/waited")
            seconds = stats.get_value("newscrawl/retry_after/seconds", 0)
            stats.set_value("newscrawl/retry_after/seconds", round(seconds + waited, 3))
        return retry

    async def _wait(self, seconds: float) -> float:
        """Sleep ``seconds`` without blocking the reactor, or less if the crawl is stopping."""
        start = time.monotonic()
        while (left := seconds - (time.monotonic() - start)) > 0:
            engine = self.crawler.engine
            if not self.crawler.crawling or (engine is not None and not engine.running):
                logger.info("Shutting down: not waiting any longer to retry")
                break
            await sleep(min(left, _WAIT_STEP))
        return time.monotonic() - start


# ---- redirects ------------------------------------------------------------------------
class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already in the request's redirect chain."""


class TooManyRedirects(IgnoreRequest):
    """A redirect chain longer than ``REDIRECT_MAX_TIMES``."""


def _chain(urls: list[str]) -> str:
    return " -> ".join(urls)


class _RedirectChecks(BaseRedirectMiddleware):
    """Turn a redirect loop and an over-long chain into failures the request's errback sees,
    with the whole chain in the message (Scrapy would drop the looping request silently in
    its dupefilter, and the over-long chain as a bare ``IgnoreRequest``).

    The project sends no ``Referer`` (``REFERER_ENABLED`` off: an archiver fetches each page as
    a first visit would), so a redirected request carries none either. Scrapy's redirect
    middlewares look for its RefererMiddleware when the engine starts and log a warning at
    every crawl's start when there is none: these are built without that look-up."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    def handle_referer(self, request: Request, response: Response) -> None:
        request.headers.pop("Referer", None)

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        target = canonicalize_url(redirected.url)
        if any(canonicalize_url(url) == target for url in chain):
            raise RedirectLoop(f"redirect loop: {_chain([*chain, redirected.url])}")
        ttl = request.meta.get("redirect_ttl", self.max_redirect_times)
        if not ttl or request.meta.get("redirect_times", 0) + 1 > self.max_redirect_times:
            raise TooManyRedirects(f"more than {self.max_redirect_times} redirects (REDIRECT_MAX_TIMES): "
                                   f"{_chain([*chain, redirected.url])}")
        return super()._redirect(redirected, request, reason)


class RedirectMiddleware(_RedirectChecks, redirect.RedirectMiddleware):
    """Scrapy's RedirectMiddleware; loops and too many redirects are counted drops."""


class MetaRefreshMiddleware(_RedirectChecks, redirect.MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware; loops and too many refreshes are counted drops.

    Scrapy looks for the refresh in the first 4,096 characters of the page, where w3lib
    scans every ``<meta>`` for one whose attributes hold "refresh" (0.15 ms on a news page's
    head, 1.4 % of a crawl). A page whose first 4,096 characters do not hold "refresh" in
    any case has none, so it is passed on without that scan.
    """

    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        if isinstance(response, HtmlResponse) and "refresh" not in response.text[:4096].lower():
            return response
        return super().process_response(request, response)


class UrlLengthMiddleware(ScrapyUrlLengthMiddleware):
    """Scrapy's ``UrlLengthMiddleware`` (``URLLENGTH_LIMIT``, 2083), with a link it leaves out
    a counted, logged drop (``newscrawl/dropped/url_too_long``) instead of an INFO line: a feed
    or listing whose article URL is cut out of the crawl says so in the run's summary."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if len(request.url) <= self.maxlength:
            return request
        self.crawler.stats.inc_value("urllength/request_ignored_count")
        count_drop(self.crawler.stats, "url_too_long", f"{request.url[:120]}…",
                   f"{len(request.url)} characters, more than URLLENGTH_LIMIT {self.maxlength}")
        return None
