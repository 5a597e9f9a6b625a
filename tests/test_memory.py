"""Memory: pages are freed as soon as the crawl is done with them, the C heap's free pages
go back to the system, and many listings do not flood the scheduler (``make bench``'s
peak-RSS figures)."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import pytest
import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler

from newscrawl.archive import ArchiveExtension
from newscrawl.extensions import GcTuning, HeapTrim
from newscrawl.sites.dw import SITE
from newscrawl.spiders.dw import DwSpider
from tests.conftest import DW_MIRROR, page_url, project_settings
from tests.crawl import crawl, extensions
from tests.mirror.build_dw import bench_topic_urls, build
from tests.mirror.server import MirrorServer


@pytest.fixture
def spider(tmp_path):
    crawler = get_crawler(DwSpider, settings_dict=project_settings(tmp_path))
    crawler.spider = spider = DwSpider.from_crawler(crawler, topics="t-68199001", feed="1")
    extension = crawler.get_extension(ArchiveExtension)
    extension.open("dw")
    yield spider
    extension.close()


def freed_by_refcount(make, parse) -> bool:
    """Whether the response ``make()`` gives is gone once ``parse`` is done with it, without
    Python's cyclic garbage collector (which runs seconds later in a crawl)."""
    gc.collect()
    gc.disable()
    try:
        response = make()
        ref = weakref.ref(response)
        list(parse(response))
        del response
        return ref() is None
    finally:
        gc.enable()


def test_listing_and_feed_pages_are_freed_when_read(spider):
    topic = page_url("pages/t-68199001.html")
    body = (DW_MIRROR / "pages/t-68199001.html").read_bytes()
    listing = lambda: HtmlResponse(topic, body=body, request=scrapy.Request(topic))  # noqa: E731
    # the cycle itself is Scrapy's (the response's cached Selector refers back to it)
    assert not freed_by_refcount(listing, SITE.listing_entries)
    assert freed_by_refcount(listing, lambda r: spider.parse_listing(r, listing=topic))

    feed = (DW_MIRROR / "rss-chi-all.xml").read_bytes()
    rss = lambda: XmlResponse(SITE.feed_url(), body=feed, request=scrapy.Request(SITE.feed_url()))  # noqa: E731
    assert freed_by_refcount(rss, lambda r: spider.parse_feed(r, source=SITE.feed_url()))


def test_article_pages_are_freed_when_parsed(spider):
    file = next(p.name for p in sorted((DW_MIRROR / "pages").glob("a-*.html")))
    url = page_url(f"pages/{file}")
    body = (DW_MIRROR / "pages" / file).read_bytes()
    assert freed_by_refcount(lambda: HtmlResponse(url, body=body, request=scrapy.Request(url, meta={
        "article_id": SITE.article_id(SITE.canonical_url(url))})), spider.parse_article)


def test_heap_trim_runs_on_glibc_and_can_be_turned_off(tmp_path):
    trim = HeapTrim.from_crawler(get_crawler(settings_dict=project_settings(tmp_path)))
    assert trim.interval == 0.25
    assert trim.trim(0) in (0, 1)
    off = project_settings(tmp_path, NEWSCRAWL_HEAP_TRIM_INTERVAL=0)
    with pytest.raises(NotConfigured):
        HeapTrim.from_crawler(get_crawler(settings_dict=off))


def test_heap_trim_keeps_large_blocks_out_of_the_heap():
    """In a crawl process, after a large block is freed, the next body of 300 KB still gets a
    mapping of its own, given back when freed (glibc's own rule would have raised its
    threshold to the freed block's size and grown the heap for it). In a fresh process: the
    test's own heap has free room that a block would be taken from first."""
    code = (
        "import ctypes\n"
        "from scrapy.utils.test import get_crawler\n"
        "from newscrawl.extensions import HeapTrim\n"
        "from newscrawl import settings\n"
        "class Mallinfo2(ctypes.Structure):\n"
        "    _fields_ = [(n, ctypes.c_size_t) for n in ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd',"
        " 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost')]\n"
        "mallinfo2 = ctypes.CDLL(None).mallinfo2\n"
        "mallinfo2.restype = Mallinfo2\n"
        "HeapTrim.from_crawler(get_crawler(settings_dict={'NEWSCRAWL_HEAP_TRIM_INTERVAL': 0.25}))\n"
        "block = bytes(4 * 2**20)\n"
        "del block\n"
        "before = mallinfo2().hblkhd\n"
        "body = bytes(300_000)\n"
        "held = mallinfo2().hblkhd - before\n"
        "del body\n"
        "print(held >= 300_000, mallinfo2().hblkhd - before < 300_000)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "True"], result.stderr[-2000:]


def test_the_link_cache_is_bounded(spider, monkeypatch):
    import newscrawl.spiders.base as base

    monkeypatch.setattr(base, "RESOLVED_CACHE", 10)
    urls = [f"https://www.dw.com/zh/x/a-{70000000 + i}" for i in range(25)]
    assert [spider.resolve(u)[1] for u in urls] == [f"a-{70000000 + i}" for i in range(25)]
    assert len(spider._resolved) <= 10


@pytest.fixture
def collector():
    """Puts the garbage collector back as it was after a test that tunes it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_gc_tuning_freezes_what_is_alive_at_engine_start_and_collects_young_objects_less_often(collector):
    crawler = get_crawler(settings_dict={"NEWSCRAWL_GC_THRESHOLD": 5000,
                                         "EXTENSIONS": {"newscrawl.extensions.GcTuning": 0}})
    crawler.get_extension(GcTuning)
    _, *older = gc.get_threshold()
    crawler.signals.send_catch_log(signal=scrapy.signals.engine_started)
    assert gc.get_freeze_count() > 10_000  # the modules and classes of the crawl
    assert gc.get_threshold() == (5000, *older)
    # frozen objects are still freed when nothing refers to them any more
    page = HtmlResponse(url="https://www.dw.com/zh/a-1", body=b"<p>x</p>")
    gc.freeze()
    ref = weakref.ref(page)
    del page
    assert ref() is None


def test_gc_tuning_is_off_with_threshold_zero():
    with pytest.raises(NotConfigured):
        GcTuning.from_crawler(get_crawler(settings_dict={"NEWSCRAWL_GC_THRESHOLD": 0}))


@pytest.fixture(scope="module")
def many_topics(tmp_path_factory):
    """A mirror of 300 new articles listed 20 to a topic page, on 15 topic pages."""
    directory = tmp_path_factory.mktemp("many-topics")
    build(directory, extra_articles=300, topic_size=20)
    with MirrorServer([directory]) as server:
        yield server, bench_topic_urls(300, 20)


@pytest.mark.parametrize("backlog", [32, 0])
def test_listings_are_read_as_their_articles_drain(many_topics, tmp_path, backlog):
    """A run of many listings asks for the next one only while few requests wait (and reads
    at most NEWSCRAWL_LISTINGS_AT_ONCE at once): the scheduler never holds more than the
    backlog and four listings' links. Every article is still archived once. With the
    backlog 0 (Scrapy's own order) the topic pages are read all together."""
    server, topics = many_topics
    result = crawl("dw", server.base_url, tmp_path / "out", "-a", "topics=" + ",".join(topics),
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", f"NEWSCRAWL_LISTING_BACKLOG={backlog}",
                   *extensions("tests.crawl.SchedulerWatch"))
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("item_scraped_count") == 300
    assert len({line["id"] for line in result.jsonl()}) == 300
    assert result.stat("newscrawl/incremental/listing_pages") == 15
    bound = 32 + 4 * 20
    if backlog:
        assert result.stat("test/scheduler_max") <= bound
    else:
        assert result.stat("test/scheduler_max") > bound
