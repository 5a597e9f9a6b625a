"""stylesheet_urls (newscrawl/stylesheets.py) reads the ``<link>`` tags of a page by a scan:
only same-site ``rel="stylesheet"`` hrefs, in page order, once each — also when the rel is
spelled with character references, which the scan's quick skip of the other tags must not
miss."""

from __future__ import annotations

from scrapy.http import HtmlResponse

from newscrawl.stylesheets import stylesheet_urls

HEAD = """<!doctype html><html><head>
<link rel="preload" href="/fonts/a.woff2" as="font">
<LINK REL="StyleSheet" HREF="/css/main.css">
<link rel="icon" href="/favicon.ico">
<link rel="&#115;tylesheet" href="/css/entity.css">
<link rel="alternate stylesheet" href='https://static.dw.com/css/alt.css'>
<link rel="stylesheet" href="https://cdn.example.net/css/other.css">
<link rel="preload stylesheet" href="/css/main.css">
<link href="/css/no-rel.css">
<link rel="&quot;stylesheet" href="/css/quoted.css">
</head><body><p>文字</p></body></html>"""


def test_same_site_stylesheets_in_page_order_once_each():
    response = HtmlResponse(url="https://www.dw.com/zh/a/a-1", body=HEAD.encode(), encoding="utf-8")
    assert stylesheet_urls(response, ["dw.com"]) == [
        "https://www.dw.com/css/main.css", "https://www.dw.com/css/entity.css",
        "https://static.dw.com/css/alt.css"]
