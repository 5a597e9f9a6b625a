"""The spider's policies and components (newscrawl/crawling/), asked directly: the
incremental policy on a real state store in a tmp folder, the source ledger, the table of
fetch failures, gallery completion, the browser policy, the listing throttle and reparse
rounds — without a crawl."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from newscrawl.archive import Archive
from newscrawl.arguments import ArgumentError
from newscrawl.crawling.browser import BrowserPolicy
from newscrawl.crawling.failures import FAILURES, FetchFailure, fetch_failure, worth_a_second_fetch
from newscrawl.crawling.galleries import GalleryCompletion
from newscrawl.crawling.incremental import (
    FAILED_RETRIED,
    FAILED_SKIPPED,
    FEED_CHANGED,
    KNOWN_SKIPPED,
    NOT_MODIFIED,
    RECHECK_DUE,
    RETITLED,
    SAME_BODY,
    IncrementalPolicy,
    Verdict,
    body_hash,
    response_validators,
)
from newscrawl.crawling.reparse import ReparseRounds
from newscrawl.crawling.sources import SourceLedger, emptiness
from newscrawl.crawling.throttle import ListingThrottle
from newscrawl.items import Article
from newscrawl.middlewares import OffsiteRedirect, RedirectLoop, TooManyRedirects
from newscrawl.pipelines.normalize import normalize_article
from newscrawl.replay import NotCaptured
from newscrawl.sites.base import Link
from newscrawl.sites.dw import SITE
from newscrawl.transport import RenderTimeout, RenderUnavailable

URL = safe_url_string("https://www.dw.com/zh/德国总理朔尔茨访问北京/a-67123456")
ID = "a-67123456"
PUBLISHED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def article(title: str = "德国总理朔尔茨访问北京", body: str = "朔尔茨周四抵达北京。") -> Article:
    return normalize_article(Article(
        site="dw", id=ID, url=URL, title=title, body_markdown=body, published="2026-11-02T08:00:00Z",
        source_name="德国之声", lang="zh-Hans"))


@pytest.fixture
def clocked(archive: Archive) -> Archive:
    """The ``dw`` archive (a real state in a tmp folder) with its clock two hours after the
    article's publication."""
    archive.schedule.clock = PUBLISHED + timedelta(hours=2)
    return archive


def policy(archive: Archive, **kwargs) -> IncrementalPolicy:
    return IncrementalPolicy(archive, SITE, **kwargs)


# ---- the incremental policy ---------------------------------------------------------------
def test_an_article_the_state_does_not_know_is_fetched(clocked):
    verdict = policy(clocked).decide(ID, Link(URL, "德国总理朔尔茨访问北京"))
    assert verdict.fetch and verdict.why is None and not verdict.vouched


def test_an_archived_article_is_skipped_until_its_recheck_is_due(clocked):
    clocked.write(article())
    assert policy(clocked).decide(ID, Link(URL, "德国总理朔尔茨访问北京")).why == KNOWN_SKIPPED
    known = clocked.state.known(ID)
    clocked.schedule.clock = datetime.fromisoformat(known.next_check.replace("Z", "+00:00"))
    # due: a link that cannot vouch for it (no date, no full text) leaves it to the due
    # re-checks asked for once the sources are read (another source may vouch first)
    due = policy(clocked)
    assert due.decide(ID, Link(URL, "德国总理朔尔茨访问北京")).why == KNOWN_SKIPPED
    assert [(d.article_id, d.why) for d in due.due()] == [(ID, RECHECK_DUE)]


def test_the_user_and_full_fetch_an_archived_article_anyway(clocked):
    clocked.write(article())
    link = Link(URL, "德国总理朔尔茨访问北京")
    assert policy(clocked).decide(ID, link, explicit=True) == policy(clocked, full=True).decide(ID, link)
    assert policy(clocked, full=True).decide(ID, link).fetch


def test_a_new_title_is_a_refetch_but_the_other_script_or_a_kicker_is_not(clocked):
    clocked.write(article())
    decide = policy(clocked).decide
    assert decide(ID, Link(URL, "德國總理朔爾茨訪問北京")).why == KNOWN_SKIPPED  # traditional script
    assert decide(ID, Link(URL, "视频：德国总理朔尔茨访问北京")).why == KNOWN_SKIPPED  # DW's kicker
    new = "朔尔茨访华：与习近平会谈三小时"
    retitled = decide(ID, Link(URL, new))
    assert retitled.fetch and retitled.why == RETITLED
    assert retitled.note == f"Listed under a new title, fetching again: {URL} {new!r}"
    # a title the sources showed it under before is not new
    clocked.state.set_listed_title(ID, new, [SITE.fold_title(new)])
    assert policy(clocked).decide(ID, Link(URL, new)).why == KNOWN_SKIPPED


def test_a_full_text_feed_refetches_a_changed_text_and_vouches_for_an_unchanged_one(clocked):
    clocked.note_fetch(ID, feed_digest="d1")
    clocked.write(article())
    assert clocked.state.known(ID).feed_digest == "d1"
    changed = policy(clocked).decide(ID, Link(URL, digest="d2"))
    assert changed.fetch and changed.why == FEED_CHANGED
    assert policy(clocked).decide(ID, Link(URL, digest="d1")).why == KNOWN_SKIPPED  # not due yet
    clocked.schedule.clock += timedelta(days=30)
    vouched = policy(clocked).decide(ID, Link(URL, digest="d1"))
    assert not vouched.fetch and vouched.vouched and vouched.why == KNOWN_SKIPPED
    # a listing without dates cannot vouch: the due re-check waits for the end of the sources
    assert policy(clocked).decide(ID, Link(URL)) == Verdict(False, KNOWN_SKIPPED)
    assert [d.why for d in policy(clocked).due()] == [RECHECK_DUE]


def test_a_failed_page_waits_then_is_due_again(clocked):
    clocked.state.record_failure(ID, "unrecognised_layout", URL)
    decide = IncrementalPolicy(clocked, SITE, retry_failed_after=timedelta(hours=24), recheck_limit=10).decide
    assert decide(ID, Link(URL)) == decide(ID, Link(URL, "任何标题"))
    assert decide(ID, Link(URL)).why == FAILED_SKIPPED and not decide(ID, Link(URL)).fetch
    inc = IncrementalPolicy(clocked, SITE, retry_failed_after=timedelta(hours=24), recheck_limit=10)
    assert list(inc.due()) == []
    clocked.schedule.clock += timedelta(hours=25)
    assert inc.decide(ID, Link(URL)).fetch
    [due] = inc.due()
    assert (due.article_id, due.url, due.source, due.why) == (ID, URL, "failed", FAILED_RETRIED)
    assert list(IncrementalPolicy(clocked, SITE, full=True, recheck_limit=10).due()) == []


def test_due_rechecks_come_from_the_schedule(clocked):
    clocked.write(article())
    clocked.state.set_listed_title(ID, "德国总理朔尔茨访问北京", [])
    inc = IncrementalPolicy(clocked, SITE, recheck_limit=10)
    assert list(inc.due()) == []
    clocked.schedule.clock += timedelta(days=30)
    [due] = inc.due()
    assert (due.article_id, due.url, due.title, due.source, due.why) == (
        ID, URL, "德国总理朔尔茨访问北京", "schedule", RECHECK_DUE)


def test_the_state_is_read_once_per_article_per_run(clocked):
    inc = policy(clocked)
    assert inc.known(ID) is None and not inc.archived(ID)
    clocked.write(article())
    assert inc.known(ID) is None  # as the run started to look at it
    assert policy(clocked).archived(ID)


def test_requests_are_conditional_on_the_remembered_validators(clocked):
    page = HtmlResponse(URL, body="<html>第一版</html>".encode(), headers={
        "ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 08:00:00 GMT"}, request=scrapy.Request(URL))
    validators = response_validators(page)
    assert validators == {"urls": [URL], "etag": '"v1"', "last_modified": "Mon, 02 Nov 2026 08:00:00 GMT",
                          "body_hash": body_hash(page)}
    inc = policy(clocked)
    assert b"If-None-Match" not in inc.conditional(scrapy.Request(URL)).headers  # nothing remembered
    clocked.state.set_validators(validators)
    request = inc.conditional(scrapy.Request(URL))
    assert request.headers[b"If-None-Match"] == b'"v1"'
    assert request.headers[b"If-Modified-Since"] == b"Mon, 02 Nov 2026 08:00:00 GMT"
    assert request.meta["handle_httpstatus_list"] == [304]
    assert b"If-None-Match" not in policy(clocked, full=True).conditional(scrapy.Request(URL)).headers
    assert inc.unconditional(request).headers.get(b"If-None-Match") is None
    assert "newscrawl_body_hash" not in request.meta

    asked = inc.conditional(scrapy.Request(URL))
    assert inc.unchanged(Response(URL, status=304, request=asked)) == NOT_MODIFIED
    assert inc.unchanged(HtmlResponse(URL, body=page.body, request=asked)) == SAME_BODY
    assert inc.unchanged(HtmlResponse(URL, body="<html>第二版</html>".encode(), request=asked)) is None
    rendered = asked.replace(meta={**asked.meta, "playwright": True})
    assert inc.unchanged(HtmlResponse(URL, body=page.body, request=rendered)) is None


def test_a_listing_stops_at_a_page_of_archived_articles_unless_its_last_walk_did_not_end(clocked):
    clocked.write(article())
    inc = policy(clocked)
    assert inc.stop_walking([ID]) and not inc.stop_walking([ID], resume=True)
    assert not inc.stop_walking([ID, "a-67123457"])  # one article is new
    assert not inc.stop_walking([])  # a page that links no article says nothing
    assert not policy(clocked, full=True).stop_walking([ID])
    # newest first: a page that ends on an archived article ends the walk, new ones above it
    assert inc.stop_walking(["a-67123457", ID], newest_first=True)
    assert not inc.stop_walking([ID, "a-67123457"], newest_first=True)
    assert not inc.stop_walking(["a-67123457", ID], resume=True, newest_first=True)


def test_an_article_with_pictures_missing_is_fetched_whole(clocked):
    assert not policy(clocked).fetch_whole(ID) and not policy(clocked).fetch_whole(None)
    clocked.note_fetch(ID, pictures_missing=2)
    clocked.write(article())
    assert policy(clocked).fetch_whole(ID)


def test_validators_are_remembered_under_the_url_asked_for_and_the_one_that_answered():
    short = "https://p.dw.com/p/4XyZ1"
    asked = scrapy.Request(URL, meta={"redirect_urls": [short]})
    response = HtmlResponse(URL, body=b"<html></html>", request=asked)
    assert response_validators(response)["urls"] == sorted([short, URL])


# ---- sources ------------------------------------------------------------------------------
def test_the_ledger_reads_the_feed_only_when_no_other_source_is_given():
    ledger = SourceLedger()
    feed = SITE.feed_url
    assert ledger.choose_feeds(None, feed, others=False) == [feed]
    assert ledger.choose_feeds(None, feed, others=True) == []
    assert ledger.choose_feeds(False, feed, others=False) == []
    assert ledger.choose_feeds(["1", "https://rss.dw.com/xml/rss-chi-ger", "yes"], feed, others=True) == [
        feed, "https://rss.dw.com/xml/rss-chi-ger"]
    assert ledger.sources[feed].label == f"feed {feed}"


def test_optional_sources_are_named_as_given_and_an_unknown_one_is_an_error():
    ledger = SourceLedger()
    ledger.add_listing("topic", "t-68199001", "https://www.dw.com/zh/t-68199001")
    ledger.add_listing("topic", "68199001", "https://www.dw.com/zh/t-68199001")  # the same listing
    ledger.add_listing("topic", "s-9058", "https://www.dw.com/zh/s-9058")
    ledger.feeds = ledger.choose_feeds(True, SITE.feed_url, others=True)
    assert ledger.listings == ["https://www.dw.com/zh/t-68199001", "https://www.dw.com/zh/s-9058"]
    ledger.choose_optional(["t-68199001", "feed"], resolve=lambda entry: [])
    assert ledger.optional == {"https://www.dw.com/zh/t-68199001", SITE.feed_url}
    ledger.choose_optional(["9058"], resolve=lambda entry: [f"https://www.dw.com/zh/s-{entry}"])
    assert "https://www.dw.com/zh/s-9058" in ledger.optional
    with pytest.raises(ArgumentError, match=r"optional: 't-1' is not one of this run's sources \(t-6819"):
        ledger.choose_optional(["t-1"], resolve=lambda entry: [])
    everything = SourceLedger()
    everything.add_listing("tag", "王毅", "https://www.epochtimes.com/gb/tag/王毅.html")
    everything.choose_optional(["*"], resolve=lambda entry: [])
    assert everything.optional == {"https://www.epochtimes.com/gb/tag/王毅.html"}


def test_a_failed_source_is_reported_and_worded_by_whether_it_is_optional():
    ledger = SourceLedger()
    ledger.add_listing("topic", "t-68199001", "https://www.dw.com/zh/t-68199001")
    ledger.add_listing("tag", "王毅", "https://www.epochtimes.com/gb/tag/王毅.html")
    ledger.optional = {"https://www.epochtimes.com/gb/tag/王毅.html"}
    failed = ledger.fail("https://www.dw.com/zh/t-68199001", "answered HTTP 404")
    assert failed.stat == "newscrawl/sources/failed"
    assert failed.warning == ("topic t-68199001 (https://www.dw.com/zh/t-68199001) answered HTTP 404; "
                              "the run fails unless it is optional (-a optional=t-68199001)")
    optional = ledger.fail("https://www.epochtimes.com/gb/tag/王毅.html", "has no article link")
    assert optional.stat == "newscrawl/sources/optional_failed"
    assert optional.warning.endswith("has no article link; it is optional: the run does not fail")
    unknown = ledger.fail("https://rss.dw.com/xml/rss-chi-all", "links no article")
    assert unknown.warning.startswith("listing https://rss.dw.com/xml/rss-chi-all links no article;")
    assert [f["label"] for f in ledger.failed] == [
        "topic t-68199001", "tag 王毅", "listing https://rss.dw.com/xml/rss-chi-all"]
    assert ledger.failed[1] == {"source": "https://www.epochtimes.com/gb/tag/王毅.html", "label": "tag 王毅",
                                "given": "王毅", "reason": "has no article link", "optional": True}


def test_why_a_source_linked_no_article():
    empty = HtmlResponse("https://www.dw.com/zh/t-1", body=b"  \n", status=200)
    page = HtmlResponse("https://www.dw.com/zh/t-1", body=b"<html><body><a href='/zh/x'>x</a></body></html>")
    assert emptiness(empty, [], "item") == "answered an empty page (HTTP 200)"
    assert emptiness(page, [], "article link") == "has no article link"
    assert emptiness(page, [Link("https://www.dw.com/zh/x")], "item") == "links no article"


# ---- fetch failures -----------------------------------------------------------------------
def failure_of(exc: BaseException) -> Failure:
    try:
        raise exc
    except BaseException:
        return Failure()


def test_one_table_names_every_failure_for_a_page_and_for_a_source():
    not_found = Response(URL, status=404)
    cases = [
        (HttpError(not_found, "Ignoring non-200 response"), "http_404", "answered HTTP 404"),
        (OffsiteRedirect("to https://evil.example/"), "offsite_redirect", "redirected off the site"),
        (RedirectLoop("a loop"), "redirect_loop", "was not fetched (a loop)"),
        (TooManyRedirects("21 redirects"), "too_many_redirects", "was not fetched (21 redirects)"),
        (RenderUnavailable("no chromium"), "render_unavailable", "was not fetched (no chromium)"),
        (RenderTimeout("30 s"), "render_timeout", "was not fetched (30 s)"),
        (NotCaptured("no capture of x"), "not_captured", "was not fetched (no capture of x)"),
        (IgnoreRequest(), "ignored_request", "was not fetched (forbidden by robots.txt)"),
        (DNSLookupError("www.dw.com"), "fetch_failed_DNSLookupError",
         "could not be fetched (DNSLookupError: DNS lookup failed: www.dw.com.)"),
    ]
    for exc, reason, text in cases:
        assert fetch_failure(failure_of(exc)) == FetchFailure(reason, text), exc
    # the table is in this order: a subclass before its base (IgnoreRequest), no row hidden
    assert [row[0] for row in FAILURES] == [type(exc) for exc, _, _ in cases][:-1]


def test_only_a_truncated_page_is_fetched_a_second_time_and_only_once():
    assert worth_a_second_fetch("truncated_page", {})
    assert not worth_a_second_fetch("truncated_page", {"newscrawl_retried": True})
    assert not worth_a_second_fetch("unrecognised_layout", {})


# ---- galleries ----------------------------------------------------------------------------
GALLERY = {"title": "图集", "images": [{"src": "https://static.dw.com/image/1_7.jpg", "caption": "北京"}]}


def test_items_wait_for_their_gallery_page_and_are_completed_from_it(caplog):
    stats = MemoryStatsCollector(get_crawler())
    galleries = GalleryCompletion(stats, logging.getLogger("dw"))
    first, second = article(), article(title="另一篇")
    assert galleries.wait(first, "g-1", "https://www.dw.com/zh/x/g-1") is None
    assert galleries.awaited("g-1") and not galleries.awaited("g-2")
    assert list(galleries.page_parsed("g-1", GALLERY)) == [first]
    assert first.gallery == GALLERY and not galleries.awaited("g-1")
    assert galleries.wait(second, "g-1", "https://www.dw.com/zh/x/g-1") is second  # at once now
    assert stats.get_value("newscrawl/gallery/completed") == 2

    partial = article(title="第三篇")
    partial.gallery = {"title": "部分", "images": []}
    galleries.wait(partial, "g-2", "https://www.dw.com/zh/x/g-2")
    with caplog.at_level("WARNING"):
        assert list(galleries.release("g-2")) == [partial]  # the page failed: as it is
    assert partial.gallery == {"title": "部分", "images": []}
    assert stats.get_value("newscrawl/gallery/incomplete") == 1
    assert "Gallery page g-2 gave no captions; keeping the partial gallery of" in caplog.text


# ---- the browser --------------------------------------------------------------------------
def test_the_browser_renders_matching_pages_always_and_failed_ones_once_where_allowed():
    settings = Settings({"NEWSCRAWL_RENDER_URLS": [r"/zh/live-"], "NEWSCRAWL_RENDER_TIMEOUT": 30,
                         "NEWSCRAWL_RENDER_FALLBACK": True, "NEWSCRAWL_RENDERING": True})
    browser = BrowserPolicy.from_settings(settings, [r"/av-\d+"], render_fallback=True)
    assert browser.always("https://www.dw.com/zh/live-12") and browser.always("https://www.dw.com/zh/x/av-1")
    assert not browser.always(URL)
    assert browser.meta()["playwright"] and browser.meta()["playwright_page_goto_kwargs"]["timeout"] == 30000
    static = HtmlResponse(URL, body=b"<html></html>", request=scrapy.Request(URL))
    assert browser.again(static, "unrecognised_layout")
    assert not browser.again(static, "truncated_page")
    rendered = HtmlResponse(URL, body=b"", request=scrapy.Request(URL, meta={"playwright": True}))
    assert not browser.again(rendered, "unrecognised_layout")
    site_says_no = BrowserPolicy.from_settings(settings, [], render_fallback=False)
    assert not site_says_no.again(static, "unrecognised_layout")
    off = Settings({"NEWSCRAWL_RENDER_FALLBACK": True, "NEWSCRAWL_RENDERING": False,
                    "NEWSCRAWL_RENDER_TIMEOUT": 30})
    assert not BrowserPolicy.from_settings(off, [], render_fallback=True).again(static, "unrecognised_layout")


# ---- listing throttling and reparse rounds ------------------------------------------------
def test_a_listing_is_read_when_parsed_failed_or_dropped():
    throttle = ListingThrottle()
    throttle.started("https://www.dw.com/zh/t-1")
    throttle.started("https://www.dw.com/zh/t-2")
    throttle.request_dropped(scrapy.Request("https://www.dw.com/zh/t-1", cb_kwargs={"listing": "https://www.dw.com/zh/t-1"}))
    throttle.read(None)
    assert throttle.reading == {"https://www.dw.com/zh/t-2"}


def test_a_reparse_without_captures_says_so_and_asks_for_nothing(tmp_path, caplog):
    stats = MemoryStatsCollector(get_crawler())
    rounds = ReparseRounds(SITE, callback=print, errback=print, render={}, stats=stats,
                           logger=logging.getLogger("dw"))
    with caplog.at_level("ERROR"):
        rounds.plan(tmp_path / "warc", [], lambda article_id: None)
    assert "Nothing to reparse: " in caplog.text
    assert stats.get_value("newscrawl/reparse/no_captures") == 1
    assert list(rounds.next_round()) == []
