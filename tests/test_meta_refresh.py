"""A page that refreshes to another URL is followed as a redirect, as Scrapy would; a page
without a refresh passes through untouched (newscrawl.middlewares.MetaRefreshMiddleware
rules one out without w3lib's scan of every ``<meta>``)."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares import redirect
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from newscrawl.middlewares import MetaRefreshMiddleware, RedirectLoop

HEAD = "<head><meta charset='utf-8'>" + "<meta name='x' content='y'>" * 20 + "{}</head>"
URL = "https://www.dw.com/zh/old/a-1"


def middleware() -> MetaRefreshMiddleware:
    return MetaRefreshMiddleware.from_crawler(get_crawler())


def page(head_extra: str, body: str = "<p>文字</p>", url: str = URL) -> HtmlResponse:
    html = f"<!doctype html><html>{HEAD.format(head_extra)}<body>{body}</body></html>"
    return HtmlResponse(url=url, body=html.encode("utf-8"), encoding="utf-8")


@pytest.mark.parametrize("meta", [
    '<meta http-equiv="refresh" content="0; url=https://www.dw.com/zh/new/a-1">',
    "<META HTTP-EQUIV=REFRESH CONTENT='0;URL=/zh/new/a-1'>",
    '<meta content="0; url=https://www.dw.com/zh/new/a-1" http-equiv="Refresh">',
])
def test_a_refresh_is_followed(meta):
    request = Request(URL)
    result = middleware().process_response(request, page(meta))
    assert isinstance(result, Request)
    assert result.url == "https://www.dw.com/zh/new/a-1"
    assert result.meta["redirect_urls"] == [URL]


def test_a_page_without_refresh_is_the_response_itself():
    response = page("", body="<p>refresh rate of a screen</p>" * 3)
    assert middleware().process_response(Request(URL), response) is response


def test_a_page_without_refresh_skips_the_scan_of_every_meta(monkeypatch):
    def scan(*args, **kwargs):
        raise AssertionError("scanned a page that cannot hold a refresh")

    monkeypatch.setattr(redirect, "get_meta_refresh", scan)
    response = page("")
    assert middleware().process_response(Request(URL), response) is response
    with pytest.raises(AssertionError):
        middleware().process_response(Request(URL), page("<meta name='refresh-rate' content='1'>"))


def test_refresh_mentioned_but_not_declared_is_no_redirect():
    response = page("<meta name='description' content='refresh'>")
    assert middleware().process_response(Request(URL), response) is response


def test_a_refresh_beyond_the_first_4096_characters_is_not_followed_as_in_scrapy():
    late = page("", body="文" * 5000 + '<meta http-equiv="refresh" content="0; url=https://www.dw.com/b">')
    assert middleware().process_response(Request(URL), late) is late


def test_a_refresh_to_itself_is_a_counted_loop():
    itself = page(f'<meta http-equiv="refresh" content="0; url={URL}">')
    with pytest.raises(RedirectLoop):
        middleware().process_response(Request(URL), itself)
