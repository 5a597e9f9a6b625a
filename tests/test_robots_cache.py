"""robots.txt decisions asked once per path (newscrawl.middlewares.RobotsTxtMiddleware): a
request for a path already decided is answered from the cache, yet a forbidden path stays
forbidden every time (logged and counted as Scrapy does), a query or another host or user
agent is a decision of its own, and the cache stays bounded."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler

from newscrawl.middlewares import RobotsTxtMiddleware

ROBOTS = b"User-agent: *\nDisallow: /zh/private/\nDisallow: /*?print=\n"


class CountingParser(ProtegoRobotParser):
    """Protego, counting what it is asked."""

    def __init__(self, body: bytes):
        super().__init__(body, None)
        self.asked: list[str] = []

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        self.asked.append(str(url))
        return super().allowed(url, user_agent)


def middleware(hosts: tuple[str, ...] = ("www.dw.com",)) -> tuple[RobotsTxtMiddleware, CountingParser]:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    crawler.stats.open_spider()
    mw = RobotsTxtMiddleware.from_crawler(crawler)
    parser = CountingParser(ROBOTS)
    for host in hosts:
        mw._parsers[host] = parser  # the host's robots.txt known, as after its fetch
    return mw, parser


def test_a_path_is_asked_once():
    mw, parser = middleware()
    for _ in range(3):
        assert mw.process_request(Request("https://www.dw.com/zh/a/a-1")) is None
    assert parser.asked == ["https://www.dw.com/zh/a/a-1"]


def test_a_forbidden_path_is_refused_every_time_and_counted():
    mw, _ = middleware()
    for _ in range(2):
        with pytest.raises(IgnoreRequest):
            mw.process_request(Request("https://www.dw.com/zh/private/a-2"))
    assert mw.crawler.stats.get_value("robotstxt/forbidden") == 2


def test_the_query_a_host_and_the_user_agent_are_decisions_of_their_own():
    mw, parser = middleware(("www.dw.com", "static.dw.com"))
    assert mw.process_request(Request("https://www.dw.com/zh/a/a-1")) is None
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("https://www.dw.com/zh/a/a-1?print=1"))
    assert mw.process_request(Request("https://static.dw.com/zh/a/a-1")) is None
    assert mw.process_request(Request("https://www.dw.com/zh/a/a-1", headers={"User-Agent": "other"})) is None
    # each asked (the refused one once more by Scrapy's refusal, which logs it)
    assert parser.asked == ["https://www.dw.com/zh/a/a-1", *["https://www.dw.com/zh/a/a-1?print=1"] * 2,
                            "https://static.dw.com/zh/a/a-1", "https://www.dw.com/zh/a/a-1"]


def test_a_fragment_is_the_same_path():
    mw, parser = middleware()
    mw.process_request(Request("https://www.dw.com/zh/a/a-1#top"))
    mw.process_request(Request("https://www.dw.com/zh/a/a-1"))
    assert len(parser.asked) == 1


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(RobotsTxtMiddleware, "DECISIONS_KEPT", 10)
    mw, parser = middleware()
    for i in range(25):
        mw.process_request(Request(f"https://www.dw.com/zh/a/a-{i}"))
    assert len(mw._decisions) <= 10
    assert len(parser.asked) == 25


def test_a_host_whose_robots_txt_is_unknown_waits_for_it():
    mw, parser = middleware()
    waiting = mw.process_request(Request("https://unknown.example/zh/a/a-1"))
    assert hasattr(waiting, "__await__")  # a coroutine: Scrapy's own path, fetching robots.txt
    waiting.close()
    assert parser.asked == []
