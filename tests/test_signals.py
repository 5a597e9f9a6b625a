"""Cheap signals before a whole page: DW's listing dates, and the ten-day simulation.

DW's topic pages carry each teaser's date in the page state (``contentDate``: the article's
last publication). An archived article a topic page lists with a date not later than its
last check needs no due re-check (the listing vouches for it); a later date says it changed
(fetched at once, due or not). A link that can do neither (DW's feed) leaves a due re-check
to the end of the sources, so that the order in which sources answer wastes no vouch. The
simulation (``benchmarks/simulation.py``, ``make bench-sim``) runs both sites for ten days
against an ideal crawler.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from newscrawl.crawling.incremental import (
    FEED_CHANGED,
    FEED_VOUCHED,
    KNOWN_SKIPPED,
    LISTED_DATE,
    LISTING_VOUCHED,
    IncrementalPolicy,
    Verdict,
)
from newscrawl.schedule import iso
from newscrawl.sites.base import Link
from newscrawl.sites.dw import SITE as DW
from newscrawl.sites.dw import teaser_dates
from newscrawl.text import parse_datetime
from tests.crawl import crawl
from tests.mirror.server import MIRROR_ROOT, MirrorServer

TOPIC_FILE = MIRROR_ROOT / "dw" / "pages" / "t-68199001.html"
TOPIC_URL = "https://www.dw.com/zh/全球视野/t-68199001"
#: (the mirror's broken links, which fail, are tried again two days later, not on day 2)
SOURCES = ("-a", "feed=1", "-a", "topics=t-68199001", "-s", "NEWSCRAWL_RENDER_FALLBACK=0",
           "-s", "NEWSCRAWL_IMAGES=0", "-s", "NEWSCRAWL_RETRY_FAILED_HOURS=48")
#: a commentary the feed and the topic page both list (published 2024-01-09)
LISTED = "a-68200104"
LISTED_DATE_NOW = "2024-01-09T11:20:45.908Z"


def topic_response(body: bytes) -> HtmlResponse:
    return HtmlResponse(url=TOPIC_URL, body=body, encoding="utf-8")


def test_a_dw_topic_page_dates_its_teasers_from_the_page_state():
    links = DW.listing_entries(topic_response(TOPIC_FILE.read_bytes()))
    dated = {DW.article_id(DW.canonical_url(link.url)): link.modified for link in links}
    assert dated[LISTED] == LISTED_DATE_NOW
    assert dated["a-68200113"] == "2024-01-30T09:40:16.778Z" and dated["g-68200556"]
    # teasers the page state does not date (placeholders of broken links, old-template
    # articles) carry none: they vouch for nothing and say nothing changed
    assert {i for i, when in dated.items() if when is None} == {"a-68200133", "a-68200131", "a-47110001",
                                                                 "a-45220002"}


def test_teaser_dates_take_the_latest_date_and_leave_out_what_is_no_date():
    state = {
        "Article:1": {"namedUrl": "/zh/x/a-1", "contentDate": "2024-01-01T00:00:00.000Z",
                      "lastModifiedDate": "2024-01-03T00:00:00.000Z"},
        "Article:2": {"namedUrl": "/zh/x/a-2", "contentDate": "not a date"},
        "Article:3": {"namedUrl": ["/zh/x/a-3"], "contentDate": "2024-01-01T00:00:00.000Z"},
        "Article:4": "not an entry",
        "Person:5": {"namedUrl": "/zh/x/person-5", "contentDate": "2024-01-01T00:00:00.000Z"},
        "ImageGallery:6": {"namedUrl": "/zh/x/g-6", "contentDate": {"$date": 1}},
    }
    assert teaser_dates(state) == {"/zh/x/a-1": "2024-01-03T00:00:00.000Z"}


def test_a_listed_date_vouches_for_a_due_re_check_or_says_the_article_changed(archive):
    from newscrawl.items import Article
    from newscrawl.pipelines import normalize_article

    url = "https://www.dw.com/zh/x/a-9"
    published = iso(archive.schedule.now() - timedelta(hours=2))
    archive.note_fetch("a-9", feed_digest="d1")  # fetched from a full-text feed
    archive.write(normalize_article(Article(
        site="dw", id="a-9", url=url, title="标题", published=published, body_markdown="第一段，内容。",
        source_name="德国之声", lang="zh-Hans")))
    known = archive.state.known("a-9")
    checked = parse_datetime(known.last_checked)
    assert known.next_check  # young: a re-check is scheduled
    policy = IncrementalPolicy(archive, DW)
    before, after = iso(checked - timedelta(minutes=30)), iso(checked + timedelta(minutes=5))
    # not due: an earlier date says nothing; a later one is a signal, fetched at once
    assert policy.decide("a-9", Link(url, "标题", modified=before)) == Verdict(False, KNOWN_SKIPPED)
    changed = policy.decide("a-9", Link(url, "标题", modified=after))
    assert changed.fetch and changed.why == LISTED_DATE and "says a listing" in changed.note
    # due (a day later): the earlier date vouches for it; a date before its publication is
    # no date of this article and vouches for nothing; a link without a date leaves it to
    # the end of the sources (not fetched now; the due re-checks then ask for it)
    archive.schedule.clock = checked + timedelta(days=1)
    vouched = policy.decide("a-9", Link(url, "标题", modified=before))
    assert (vouched.fetch, vouched.vouched, vouched.why) == (False, LISTING_VOUCHED, KNOWN_SKIPPED)
    bogus = iso(checked - timedelta(days=400))  # long before its publication
    assert policy.decide("a-9", Link(url, "标题", modified=bogus)) == Verdict(False, KNOWN_SKIPPED)
    assert policy.decide("a-9", Link(url, "标题")) == Verdict(False, KNOWN_SKIPPED)
    assert [d.article_id for d in policy.due()] == ["a-9"]
    assert policy.reconsider("a-9", Link(url, "标题", modified=before))  # a later listing may vouch
    assert not policy.reconsider("a-9", Link(url, "标题")) and not policy.reconsider(
        "a-9", Link(url, "标题", modified=bogus))
    changed = policy.decide("a-9", Link(url, "标题", modified=iso(checked + timedelta(hours=3))))
    assert changed.fetch and changed.why == LISTED_DATE
    # a full-text feed read after a listing skipped the article: its changed text is decided
    # again (fetched), its unchanged text vouches for the due re-check
    assert policy.reconsider("a-9", Link(url, "标题", digest="d2"))
    assert policy.decide("a-9", Link(url, "标题", digest="d2")).why == FEED_CHANGED
    assert policy.reconsider("a-9", Link(url, "标题", digest="d1"))
    assert policy.decide("a-9", Link(url, "标题", digest="d1")).vouched == FEED_VOUCHED
    # the last re-check before the article settles (at 30 days of age) is a whole page: a
    # listing's date vouches for it no more (a correction the date does not show is found)
    archive.schedule.clock = parse_datetime(published) + timedelta(days=30)
    assert policy.vouches(known, Link(url, modified=before)) is None
    assert policy.vouches(known, Link(url, digest="d1")) == FEED_VOUCHED  # the text itself
    archive.schedule.clock = parse_datetime(published) + timedelta(days=7)
    assert policy.vouches(known, Link(url, modified=before)) == LISTING_VOUCHED


def topic_overlay(tmp: Path, name: str, old: str, new: str) -> Path:
    """A mirror overlay serving the topic page with ``old`` replaced (once) by ``new``."""
    directory = tmp / name
    (directory / "pages").mkdir(parents=True)
    text = TOPIC_FILE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    (directory / "pages/t.html").write_text(text.replace(old, new), encoding="utf-8")
    route = {"file": "pages/t.html", "content_type": "text/html; charset=utf-8"}
    (directory / "manifest.json").write_text(json.dumps({TOPIC_URL: route}, ensure_ascii=False),
                                             encoding="utf-8")
    return directory


def test_a_topic_page_vouches_for_due_re_checks_and_its_later_date_fetches_an_edit(tmp_path):
    """DW's mirror crawled from its feed and topic page; a day later the young articles are
    due, and the topic page vouches for those it lists (the feed, read first or not, cannot);
    a week later the topic page shows a later date for a commentary (republished): it is
    fetched, though the feed lists it too and its re-check is not due."""
    out = tmp_path / "out"
    dw = MIRROR_ROOT / "dw"
    with MirrorServer([dw]) as server:
        server.day = 1
        first = crawl("dw", server.base_url, out, *SOURCES, "-s", "NEWSCRAWL_CLOCK=2024-01-31T06:00:00Z")
        assert first.returncode == 0, first.log[-3000:]
        # the topic page changed since (say, a teaser's picture): read again, not a 304 —
        # whose dates, not kept, could vouch for nothing
        server.load([dw, topic_overlay(tmp_path, "day2", "</body>", "<!-- 2 --></body>")])
        server.day = 2
        server.hits.clear()
        day2 = crawl("dw", server.base_url, out, *SOURCES, "-s", "NEWSCRAWL_CLOCK=2024-02-01T06:00:00Z")
        assert day2.returncode == 0, day2.log[-3000:]
        pages2 = {url for url in server.hits if "/a-" in url or "/g-" in url}
        server.load([dw, topic_overlay(tmp_path, "day3", f'"contentDate":"{LISTED_DATE_NOW}"',
                                       '"contentDate":"2024-02-05T08:00:00.000Z"')])
        server.day = 3
        day3 = crawl("dw", server.base_url, out, *SOURCES, "-s", "NEWSCRAWL_CLOCK=2024-02-06T06:00:00Z")
        assert day3.returncode == 0, day3.log[-3000:]
    # day 2: a-68200113 (published 01-30) is due at one day of age; listed on the topic page
    # with its publication date, vouched for: no article page fetched at all
    assert day2.stat("newscrawl/incremental/listing_vouched") == 1
    assert day2.stat("newscrawl/requests/article") == 0 and not pages2
    # day 3: the commentary's later date is a signal: fetched (its page is the same article)
    assert day3.stat(f"newscrawl/incremental/{LISTED_DATE}") == 1
    assert day3.report["rechecks"].get("listed_date") == 1
    assert "says a listing (2024-02-05T08:00:00.000Z)" in day3.log


@pytest.mark.slow
def test_ten_days_of_both_sites_cost_at_most_one_and_a_half_times_an_ideal_crawler(tmp_path):
    """The goal of issue 20: ten daily runs of both sites (new articles daily, edits of
    listed and unlisted articles, sidebars that change daily): 0 duplicates, 0 missed,
    0 stale, every edit caught within one step of the schedule, at most 1.5× the requests
    of a crawler that fetches only what is new or changed (robots.txt, the feed and the
    listing's first page aside), with the default schedule."""
    from benchmarks.simulation import simulate

    result = simulate(tmp_path / "out", tmp_path / "mirror")
    assert (result["duplicates"], result["missed"], result["stale"]) == (0, 0, 0)
    assert all(e["within_one_step"] for e in result["edits"]), result["edits"]
    assert len(result["edits"]) == 8
    assert result["ratio"] <= 1.5, result["ratio"]
    # the topic page's dates did the work on DW: its due re-checks of listed articles vouched for
    dw_runs = [r for r in result["runs"] if r["site"] == "dw" and r["day"] >= 2]
    assert all(r["vouched"] > 0 for r in dw_runs)



def test_the_listings_wait_for_the_feeds_whatever_order_they_answer_in(tmp_path):
    """A slow feed: the listings' first pages are asked for only once it is read, so that
    what a full-text feed says of an article (the digest that vouches for a due re-check) is
    known when a listing links it."""
    from tests.mirror.server import DEFAULT_SITES, default_dirs

    base = default_dirs(("epochtimes",))[0]
    manifest = json.loads((base / "manifest.json").read_text(encoding="utf-8"))
    feed = "https://www.epochtimes.com/gb/nsc413.xml"
    overlay = tmp_path / "slow-feed"
    overlay.mkdir()
    route = {**manifest[feed], "file": str(base / manifest[feed]["file"]), "delay": 1.0}
    (overlay / "manifest.json").write_text(json.dumps({feed: route}), encoding="utf-8")
    with MirrorServer([*default_dirs(DEFAULT_SITES), overlay]) as server:
        result = crawl("epochtimes", server.base_url, tmp_path / "out", "-a", "feed=1",
                       "-a", "tags=中美关系", "-s", "NEWSCRAWL_IMAGES=0")
    assert result.returncode == 0, result.log[-3000:]
    # the WARC files hold the responses in the order they came
    from warcio.archiveiterator import ArchiveIterator

    answered = []
    for warc in sorted((tmp_path / "out" / "epochtimes" / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as fh:
            answered += [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)
                         if r.rec_type == "response"]
    first_listing = next(i for i, url in enumerate(answered) if "/gb/tag/" in url)
    assert answered.index(feed) < first_listing, answered[:5]
