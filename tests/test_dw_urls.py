"""DW URL rules and discovery: canonical URLs, ids, the feed, listing pages, spider arguments."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from scrapy.http import TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from newscrawl.archive import ArchiveExtension
from newscrawl.sites.base import Link
from newscrawl.sites.dw import SITE
from newscrawl.spiders.dw import DwSpider
from tests.conftest import DW_MIRROR, project_settings, response_for


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.dw.com/zh/中美外长通话/a-63608577?maca=chi-rss-chi-all-1127-rdf",
         "https://www.dw.com/zh/%E4%B8%AD%E7%BE%8E%E5%A4%96%E9%95%BF%E9%80%9A%E8%AF%9D/a-63608577"),
        ("https://www.dw.com/zh/%E4%B8%AD%E7%BE%8E/a-1?utm_source=x&utm_medium=y#comments",
         "https://www.dw.com/zh/%E4%B8%AD%E7%BE%8E/a-1"),
        ("http://m.dw.com/zh/x/a-1", "https://www.dw.com/zh/x/a-1"),
        ("https://amp.dw.com/zh-hant/x/a-1", "https://www.dw.com/zh-hant/x/a-1"),
        ("https://dw.com/zh/x/g-2", "https://www.dw.com/zh/x/g-2"),
        ("https://api.dw.com/api/detail/article/63581643", "https://www.dw.com/zh/a-63581643"),
        ("https://www.dw.com/zh/topic/t-1?page=2&utm_campaign=z", "https://www.dw.com/zh/topic/t-1?page=2"),
    ],
)
def test_canonical_url(url, canonical):
    assert SITE.canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("url", "article_id"),
    [
        ("https://www.dw.com/zh/中美外长通话/a-63608577", "a-63608577"),
        ("https://www.dw.com/zh/a-63608577", "a-63608577"),
        ("https://www.dw.com/zh-hant/圖集/g-59831348", "g-59831348"),
        ("https://www.dw.com/de/russland/a-68117411", "a-68117411"),
        ("https://www.dw.com/zh/全球视野/t-68199001", None),
        ("https://www.dw.com/zh/x/s-9058", None),
        ("https://www.dw.com/zh/x/av-63607000", None),
        ("https://www.dw.com/zh/x/video-63607000", None),
        ("https://www.dw.com/zh/x/person-1", None),
        ("https://p.dw.com/p/4boRv", None),
        ("https://example.org/zh/x/a-1", None),
    ],
)
def test_article_id(url, article_id):
    assert SITE.article_id(url) == article_id


def test_url_rules_are_remembered_per_url_and_answer_as_computed_afresh():
    """The URL rules remember their answers (a page asks about its URL many times): a bounded
    cache whose answers are those of the rule itself, for every URL, however often asked."""
    from newscrawl.sites.base import URL_CACHE_SIZE, Site

    urls = ["https://www.dw.com/zh/中美外长通话/a-63608577?maca=chi-rss-chi-all-1127-rdf",
            "https://api.dw.com/api/detail/article/63581643", "http://www.dw-world.de/dw/article/0,,4321,00.html",
            "https://www.dw.com/zh-hant/圖集/g-59831348", "https://www.dw.com/zh/x/t-1?page=2&utm_source=x",
            "https://example.org/zh/x/a-1", "https://p.dw.com/p/4boRv", "http://[x",
            " https://m.dw.com/de/a-7 "]
    for rule in (Site.canonical_url, Site.article_id, Site.edition_of):  # derived by the base
        assert rule.cache_info().maxsize == URL_CACHE_SIZE
        for url in urls * 2:
            assert rule(SITE, url) == rule.__wrapped__(SITE, url)
        before = rule.cache_info().hits
        rule(SITE, urls[0])
        assert rule.cache_info().hits == before + 1
    assert SITE.canonical_url(urls[2]) == "https://www.dw.com/a-4321"
    assert SITE.edition_of(SITE.canonical_url(urls[0])) == "zh"


def test_feed_links_rss_and_rdf():
    body = (DW_MIRROR / "rss-chi-all.xml").read_bytes()
    links = SITE.feed_entries(XmlResponse("https://rss.dw.com/xml/rss-chi-all", body=body))
    assert len(links) >= 18 and all("maca=" in link.url and link.title for link in links)
    rdf = (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           b'xmlns="http://purl.org/rss/1.0/"><item><title>t</title>'
           b'<link>https://www.dw.com/zh/x/a-1?maca=chi-rss</link></item></rdf:RDF>')
    assert SITE.feed_entries(XmlResponse("https://rss.dw.com/rdf/rss-chi-all", body=rdf)) == [
        Link("https://www.dw.com/zh/x/a-1?maca=chi-rss", "t")]  # no full text: no digest, no date


def test_listing_links_keep_only_content_after_the_spider_filters(dw_expected):
    response = response_for("pages/t-68199001.html")
    ids = {SITE.article_id(SITE.canonical_url(link.url)) for link in SITE.listing_entries(response)} - {None}
    want = {SITE.article_id(u) for u in dw_expected["topic"]}
    assert ids == want


def test_a_page_that_is_no_article_is_refused():
    from newscrawl.sites import ParseError

    response = TextResponse("https://www.dw.com/zh/x/a-1", body=b"<html><body><p>hi</p></body></html>",
                            encoding="utf-8")
    with pytest.raises(ParseError) as exc:
        SITE.parse(response)
    assert exc.value.reason == "unrecognised_layout"


def spider(opened: bool = False, **kwargs) -> DwSpider:
    """The spider (``opened``: with its archive open, as a crawl has it when it asks for pages)."""
    tmp = Path(tempfile.mkdtemp())
    crawler = get_crawler(DwSpider, settings_dict=project_settings(tmp))
    if opened:
        crawler.get_extension(ArchiveExtension).open("dw")
    return DwSpider.from_crawler(crawler, **kwargs)


def test_spider_sources():
    assert spider().feeds == ["https://rss.dw.com/xml/rss-chi-all"]
    s = spider(topics="t-1,68199001, https://www.dw.com/zh/x/s-9058?maca=x", lang="zh-hant")
    assert s.feeds == []
    assert s.listings == ["https://www.dw.com/zh-hant/t-1", "https://www.dw.com/zh-hant/t-68199001",
                        "https://www.dw.com/zh/x/s-9058"]
    assert spider(topics="t-1", feed="1").feeds == ["https://rss.dw.com/xml/rss-chi-all"]
    assert spider(topics="t-1", feed="0").feeds == []
    assert spider(feed="https://rss.dw.com/rdf/rss-chi-all").feeds == ["https://rss.dw.com/rdf/rss-chi-all"]
    assert spider(urls="https://www.dw.com/zh/x/a-1").feeds == []


def test_spider_requests_each_id_once():
    s = spider(opened=True)
    urls = ["https://www.dw.com/zh/old/a-1?maca=x", "https://amp.dw.com/zh/new/a-1",
            "https://www.dw.com/zh/x/t-5", "https://www.dw.com/zh/y/g-2"]
    requests = list(s.article_requests(urls))
    assert [r.url for r in requests] == ["https://www.dw.com/zh/old/a-1", "https://www.dw.com/zh/y/g-2"]
    assert s.crawler.stats.get_value("newscrawl/requests/duplicate_id") == 1
    assert requests[0].meta["article_id"] == "a-1"
    permalink = list(s.article_requests(["https://p.dw.com/p/4boRv"], explicit=True))
    assert [r.url for r in permalink] == ["https://p.dw.com/p/4boRv"]
