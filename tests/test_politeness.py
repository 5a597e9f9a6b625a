"""Politeness and faults, crawled for real against the mirror: ``Retry-After`` on 429 and
503 (seconds and HTTP dates, capped by ``NEWSCRAWL_RETRY_AFTER_MAX``, cut short by Ctrl-C),
redirect loops and over-long redirect chains as counted drops that the state remembers; no
cookies sent unless ``COOKIES_ENABLED`` is turned on."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from w3lib.url import safe_url_string

from newscrawl.state import ArticleStore
from tests.conftest import DW_MIRROR, page_url
from tests.crawl import REPO, crawl
from tests.mirror.demo import scrapy_command
from tests.mirror.server import Mirror, MirrorServer

HTML = "text/html; charset=utf-8"
#: the static HTML only: whether a failing page would render is tests/test_rendering.py's business
STATIC = ("-s", "NEWSCRAWL_RENDER_FALLBACK=0")


def overlay(tmp_path: Path, routes: dict[str, dict]) -> list[Path]:
    """The bundled DW mirror with some routes replaced or added (a test-only mirror)."""
    directory = tmp_path / "overlay"
    directory.mkdir()
    (directory / "manifest.json").write_text(json.dumps(routes, ensure_ascii=False), encoding="utf-8")
    return [DW_MIRROR, directory]


def page(file: str, **route) -> tuple[str, dict]:
    """A mirror page's real URL and a route serving it, with ``route``'s options."""
    return page_url(file), {"file": str(DW_MIRROR / file), "content_type": HTML, **route}


# ---- Retry-After ---------------------------------------------------------------------
SECONDS, _ = page("pages/a-68200101.html")
DATE, _ = page("pages/a-68200102.html")
TOO_LONG, _ = page("pages/a-68200103.html")
EXHAUSTED, _ = page("pages/a-68200104.html")
NO_HEADER, _ = page("pages/a-68200105.html")
WAIT = 2  # seconds the server asks for: short, the test waits for it


@pytest.fixture(scope="module")
def throttled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("retry-after")
    routes = dict([
        page("pages/a-68200101.html", throttle={"status": 429, "times": 1, "retry_after": WAIT}),
        page("pages/a-68200102.html",
             throttle={"status": 503, "times": 1, "retry_after": WAIT, "date": True}),
        page("pages/a-68200103.html", throttle={"status": 429, "times": 1, "retry_after": 3600}),
        page("pages/a-68200104.html", throttle={"status": 503, "times": 9, "retry_after": 1}),
        page("pages/a-68200105.html", throttle={"status": 503, "times": 1}),
    ])
    with MirrorServer(overlay(tmp, routes)) as server:
        urls = (SECONDS, DATE, TOO_LONG, EXHAUSTED, NO_HEADER)
        result = crawl("dw", server.base_url, tmp / "out", "-a", "urls=" + ",".join(urls), *STATIC)
        times = {url: server.times[Mirror.key(url)] for url in urls}
    return result, times


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_retry_after_in_seconds_and_as_a_date_is_waited_for(throttled):
    result, times = throttled
    archived = {line["id"] for line in result.jsonl()}
    assert {"a-68200101", "a-68200102", "a-68200105"} <= archived
    for url in (SECONDS, DATE):
        [gap] = gaps(times[url])  # refused once, then served
        assert WAIT - 0.05 <= gap < WAIT + 5, (url, gap)
    # the same crawl without the header retries at once, as Scrapy does
    [gap] = gaps(times[NO_HEADER])
    assert gap < WAIT - 0.5


def test_retry_after_beyond_the_cap_and_exhausted_retries_are_counted_drops(throttled):
    result, times = throttled
    assert len(times[TOO_LONG]) == 1  # an hour asked: not retried in this run
    assert result.stat("newscrawl/retry_after/over_max") == 1
    assert result.stat("newscrawl/dropped/http_429") == 1
    assert len(times[EXHAUSTED]) == 3  # first try and RETRY_TIMES (2) retries, each after 1 s
    assert all(gap >= 1 - 0.05 for gap in gaps(times[EXHAUSTED]))
    assert result.stat("newscrawl/dropped/http_503") == 1
    assert result.stat("item_scraped_count") == 3
    # two single waits of WAIT s and the exhausted page's two waits of 1 s
    assert result.stat("newscrawl/retry_after/waited") == 4
    assert 2 * WAIT + 2 - 0.1 <= result.stat("newscrawl/retry_after/seconds") < 2 * WAIT + 2 + 2
    assert "more than NEWSCRAWL_RETRY_AFTER_MAX (120 s)" in result.log
    assert "Traceback" not in result.log


def test_the_cap_is_a_setting(tmp_path):
    routes = dict([page("pages/a-68200101.html", throttle={"status": 429, "times": 1, "retry_after": WAIT})])
    with MirrorServer(overlay(tmp_path, routes)) as server:
        result = crawl("dw", server.base_url, tmp_path / "out", "-a", f"urls={SECONDS}", *STATIC,
                       "-s", "NEWSCRAWL_RETRY_AFTER_MAX=1")
        assert server.hits[Mirror.key(SECONDS)] == 1
    assert result.stat("newscrawl/dropped/http_429") == 1
    assert "more than NEWSCRAWL_RETRY_AFTER_MAX (1 s)" in result.log


# ---- redirects -----------------------------------------------------------------------
LOOP_A = "https://www.dw.com/zh/绕圈的文章/a-69100001"
LOOP_B = "https://www.dw.com/zh/又绕回来的文章/a-69100001"
HOPS = [f"https://www.dw.com/zh/第{n}次跳转/a-69100002" for n in range(25)]
FEED = "https://rss.dw.com/xml/rss-redirects"
FINE, _ = page("pages/a-68200101.html")


def feed(*urls: str) -> str:
    items = "".join(f"<item><title>第{n}篇</title><link>{url}</link></item>" for n, url in enumerate(urls))
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>{items}</channel></rss>'


@pytest.fixture(scope="module")
def redirects(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redirects")
    routes = {LOOP_A: {"status": 301, "location": quote(LOOP_B, safe=":/")},
              LOOP_B: {"status": 302, "location": quote(LOOP_A, safe=":/")}}
    for here, there in itertools.pairwise(HOPS):
        routes[here] = {"status": 301, "location": quote(there, safe=":/")}
    routes[HOPS[-1]] = page("pages/a-68200102.html")[1]
    directory = overlay(tmp, routes)
    (directory[1] / "feed.xml").write_text(feed(LOOP_A, HOPS[0], FINE), encoding="utf-8")
    routes[FEED] = {"file": "feed.xml", "content_type": "application/rss+xml; charset=utf-8"}
    (directory[1] / "manifest.json").write_text(json.dumps(routes, ensure_ascii=False), encoding="utf-8")
    with MirrorServer(directory) as server:
        first = crawl("dw", server.base_url, tmp / "out", "-a", f"feed={FEED}", *STATIC)
        hits = dict(server.hits)
        again = crawl("dw", server.base_url, tmp / "out", "-a", f"feed={FEED}", *STATIC)
    return first, hits, again


def test_a_redirect_loop_is_a_counted_drop_logged_with_its_chain(redirects):
    first, hits, _ = redirects
    assert first.stat("newscrawl/dropped/redirect_loop") == 1
    assert hits[Mirror.key(LOOP_A)] == 1 and hits[Mirror.key(LOOP_B)] == 1  # found at once, not refetched
    [line] = [line for line in first.log.splitlines() if "redirect_loop" in line and "Dropped" in line]
    assert line.count("a-69100001") == 4  # the dropped URL, then A -> B -> A
    assert first.stat("dupefilter/filtered") == 0  # nothing vanished silently


def test_too_many_redirects_is_a_counted_drop_logged_with_its_chain(redirects):
    first, hits, _ = redirects
    assert first.stat("newscrawl/dropped/too_many_redirects") == 1
    assert hits.get(Mirror.key(HOPS[21]), 0) == 0  # REDIRECT_MAX_TIMES (20) redirects followed, no more
    [line] = [line for line in first.log.splitlines() if "too_many_redirects" in line and "Dropped" in line]
    assert "more than 20 redirects" in line and line.count("a-69100002") == 23
    [item] = first.jsonl()  # the rest of the crawl goes on
    assert item["id"] == "a-68200101"


def test_redirect_drops_are_remembered_like_other_failures(redirects):
    _, _, again = redirects
    store = ArticleStore(again.out / "state" / "newscrawl.sqlite3")
    reasons = {row[0]: row[1] for row in store.db.execute("SELECT id, reason FROM failures")}
    assert reasons == {"a-69100001": "redirect_loop", "a-69100002": "too_many_redirects"}
    assert again.stat("newscrawl/requests/article") == 0  # not tried again for a day


def test_ctrl_c_ends_a_wait_and_jobdir_keeps_the_retry(tmp_path):
    """A crawl waiting out a long Retry-After stops at one Ctrl-C without waiting it out; its
    retry is kept in JOBDIR and fetched when the job resumes."""
    routes = dict([page("pages/a-68200101.html", throttle={"status": 503, "times": 1, "retry_after": 100})])
    out, jobdir = tmp_path / "out", tmp_path / "job"
    args = ("-a", f"urls={SECONDS}", "-s", f"JOBDIR={jobdir}", *STATIC)
    with MirrorServer(overlay(tmp_path, routes)) as server:
        proc = subprocess.Popen(scrapy_command("crawl", server.base_url, out, "dw", *args), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not server.hits[Mirror.key(SECONDS)]:
            time.sleep(0.1)
        time.sleep(1)  # the crawl is waiting now
        asked = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, log = proc.communicate(timeout=90)
        stopped_after = time.monotonic() - asked
        resumed = crawl("dw", server.base_url, out, *args)
    assert "waiting 100 s as Retry-After asks" in log
    assert "Shutting down: not waiting any longer to retry" in log
    assert stopped_after < 50, log[-3000:]  # not the 100 s asked for
    assert resumed.report["finish_reason"] == "finished"
    assert [line["id"] for line in resumed.jsonl()] == ["a-68200101"]
    assert server.hits[Mirror.key(SECONDS)] == 2


# ---- cookies -------------------------------------------------------------------------
TOPIC_URL = "https://www.dw.com/zh/全球视野/t-68199001"


def crawl_a_topic_that_sets_a_cookie(tmp_path: Path, *settings: str) -> tuple[dict, dict]:
    """A crawl of a topic page that sets a cookie: the ``Cookie`` and the ``Referer`` header
    of every request for the topic and for its articles, by URL."""
    routes = {TOPIC_URL: {"file": str(DW_MIRROR / "pages/t-68199001.html"), "content_type": HTML,
                          "set_cookie": "visitor=v1; Path=/"}}
    with MirrorServer(overlay(tmp_path, routes)) as server:
        result = crawl("dw", server.base_url, tmp_path / "out", "-a", "topics=t-68199001", *STATIC,
                       *settings)
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("item_scraped_count") >= 5
    pages = [url for url in server.cookies if "/a-" in url or "/t-" in url]
    return ({url: server.cookies[url] for url in pages}, {url: server.referers[url] for url in pages})


def test_no_cookie_is_sent_by_default(tmp_path):
    """Every page is fetched as a first-time visitor gets it: the cookie the topic page sets
    is not sent back (and Scrapy's cookie middleware is not loaded, see test_startup.py),
    and no request names the page that linked it (no ``Referer``: REFERER_ENABLED off)."""
    sent, referers = crawl_a_topic_that_sets_a_cookie(tmp_path)
    assert Mirror.key(TOPIC_URL) in sent
    assert len(sent) >= 6
    assert {url: set(cookies) for url, cookies in sent.items()} == {url: {None} for url in sent}
    assert {url: set(refs) for url, refs in referers.items()} == {url: {None} for url in referers}


def test_cookies_enabled_brings_scrapys_cookie_handling_back(tmp_path):
    """... and with REFERER_ENABLED on, Scrapy's Referer header is back too."""
    sent, referers = crawl_a_topic_that_sets_a_cookie(tmp_path, "-s", "COOKIES_ENABLED=1",
                                                      "-s", "REFERER_ENABLED=1")
    articles = {url: set(cookies) for url, cookies in sent.items() if "/a-" in url}
    assert len(articles) >= 5
    assert articles == {url: {"visitor=v1"} for url in articles}
    linked = {url: set(refs) for url, refs in referers.items() if "/a-" in url}
    assert linked == {url: {safe_url_string(TOPIC_URL)} for url in linked}
