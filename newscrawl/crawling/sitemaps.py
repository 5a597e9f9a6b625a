"""Sitemaps as a source: robots.txt's ``Sitemap:`` lines, sitemap indexes and sitemaps, read
with Scrapy's own parser (:mod:`scrapy.utils.sitemap`, as :class:`scrapy.spiders.SitemapSpider`
reads them) and kept to the site and the run's edition.

A site declares where it announces its sitemaps (:class:`~newscrawl.sites.base.Sitemap`,
usually its robots.txt); ``-a sitemaps=1`` reads them. This module only reads and filters:
the spider makes the requests (a sitemap conditionally, like a feed) and the incremental
policy decides on each entry (a :class:`~newscrawl.sites.base.Link` carrying its
``<lastmod>``).

Every byte is hostile. What protects the crawl:

* the parser (lxml's ``iterparse`` as Scrapy sets it up) resolves no entity (no XXE, no
  "billion laughs"), keeps no DTD, recovers from broken markup and frees each entry once read;
* a gzipped sitemap is unpacked only up to ``DOWNLOAD_MAXSIZE`` (Scrapy's ``gunzip``; a
  bomb is refused whole, as SitemapSpider refuses it);
* at most :data:`MAX_ENTRIES` entries of one sitemap are read (the protocol's own limit);
  an index is followed one level (an index listing indexes is not followed further), and at
  most ``NEWSCRAWL_MAX_SITEMAPS`` sitemaps of a run are read, those an index says changed
  last first;
* a location is used only when it is an http(s) URL on one of the site's hosts, in the run's
  edition (:func:`sitemap_wanted`, :func:`entry_wanted`): other sites, other editions,
  ``file:``/``javascript:`` locations are left out and counted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree
from scrapy.http import Response
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap as SitemapParser
from scrapy.utils.sitemap import sitemap_urls_from_robots

from newscrawl.sites.base import Link, Site
from newscrawl.text import parse_datetime

#: The most entries one sitemap may hold (sitemaps.org: 50,000 URLs): the rest is not read.
MAX_ENTRIES = 50_000
#: The most ``Sitemap:`` lines of a robots.txt, and sitemaps of an index, looked at.
MAX_LOCATIONS = 10_000
URLSET = "urlset"
INDEX = "sitemapindex"


def is_robots(url: str) -> bool:
    """Whether ``url`` is a robots.txt (whose ``Sitemap:`` lines name the sitemaps)."""
    try:
        return urlsplit(url).path == "/robots.txt"
    except ValueError:
        return False


def _http_on_site(site: Site, url: str) -> bool:
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return False
    return scheme in ("http", "https") and site.is_own(url)


def sitemap_wanted(site: Site, url: str, edition: str) -> bool:
    """Whether a sitemap (or index) is worth reading for a run in ``edition``: an http(s) URL on
    the site, in that edition or in none (``/sitemap_index.xml``), not in another one
    (``/en/news-sitemap.xml``)."""
    return _http_on_site(site, url) and site.edition_of(url) in (None, edition)


def entry_wanted(site: Site, url: str, edition: str) -> bool:
    """Whether a sitemap entry is an article page of the site in ``edition``."""
    return (_http_on_site(site, url) and site.edition_of(url) == edition
            and site.article_id(site.canonical_url(url)) is not None)


def robots_sitemaps(response: Response) -> list[str]:
    """The sitemaps robots.txt announces (``Sitemap:`` lines, relative ones made absolute),
    in its order, each once; at most :data:`MAX_LOCATIONS`."""
    urls = sitemap_urls_from_robots(response.body, base_url=response.url)
    return list(dict.fromkeys(itertools.islice(urls, MAX_LOCATIONS)))


def sitemap_body(response: Response, max_size: int) -> bytes | None:
    """The XML of a sitemap response: unpacked when it is gzipped (``.xml.gz``; a body that
    unpacks beyond ``max_size`` bytes is refused: ``None``), else its bytes (Scrapy has already
    undone a ``Content-Encoding: gzip``)."""
    if not gzip_magic_number(response):
        return response.body
    try:
        return gunzip(response.body, max_size=max_size)
    except (_DecompressionMaxSizeExceeded, OSError, EOFError):
        return None


@dataclass
class ReadSitemap:
    """What one sitemap gave: its kind (``urlset``, ``sitemapindex`` or what the root
    element was), its entries as links (``<loc>``, ``<lastmod>``), and how many entries were
    left out (not wanted) or not read (beyond :data:`MAX_ENTRIES`)."""

    kind: str
    links: list[Link] = field(default_factory=list)
    left_out: int = 0
    cut: bool = False


def read_sitemap(body: bytes, site: Site, edition: str) -> ReadSitemap:
    """The wanted entries of a sitemap or sitemap index (``body``: its XML).

    Entries of an index are sitemaps (:func:`sitemap_wanted`), those of a sitemap article pages
    (:func:`entry_wanted`); a ``<lastmod>`` that is no date is dropped. An unreadable body is
    of kind ``""`` with no entries."""
    try:
        parser = SitemapParser(body)
    except (etree.XMLSyntaxError, StopIteration, ValueError):
        return ReadSitemap("")
    read = ReadSitemap(parser.type)
    if read.kind not in (URLSET, INDEX):
        return read
    wanted = entry_wanted if read.kind == URLSET else sitemap_wanted
    limit = MAX_ENTRIES if read.kind == URLSET else MAX_LOCATIONS
    entries = _entries(parser)
    for entry in itertools.islice(entries, limit):
        loc = entry.get("loc") or ""
        if not wanted(site, loc, edition):
            read.left_out += 1
            continue
        lastmod = entry.get("lastmod")
        read.links.append(Link(loc, lastmod=lastmod if parse_datetime(lastmod) else None))
    read.cut = next(entries, None) is not None
    return read


def _entries(parser: SitemapParser) -> Iterator[dict[str, str]]:
    """The parser's entries; markup broken beyond what it recovers ends them."""
    try:
        yield from parser
    except etree.XMLSyntaxError:
        return


def newest_first(links: list[Link]) -> list[Link]:
    """An index's sitemaps, those that changed last first (no ``<lastmod>``: last, in order)."""
    def changed(link: Link) -> float:
        when = parse_datetime(link.lastmod)
        return when.timestamp() if when else 0.0

    dated = sorted((link for link in links if link.lastmod), key=changed, reverse=True)
    return dated + [link for link in links if not link.lastmod]
