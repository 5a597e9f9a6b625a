"""What every site module provides, and the helpers their parsers share."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from scrapy.http import Response

from newscrawl.items import Article
from newscrawl.text import clean_text

_SPACES = re.compile(r"\s+")


@functools.cache
def _converter() -> Any:
    import opencc  # the maintained OpenCC binding; loaded when a title is first compared

    return opencc.OpenCC("t2s")


def _to_simplified(text: str) -> str:
    return _converter().convert(text)


TRACKING_PARAMS = re.compile(r"^(utm_.*|maca|fbclid|gclid|mc_cid|mc_eid|at_medium|at_campaign)$", re.I)


_CONTENT_LINKS = ("//a[@href][not(ancestor::header or ancestor::nav or ancestor::footer"
                  " or ancestor::aside or ancestor::*[@id='sidebar'])]")


class Link(NamedTuple):
    """A link found on a feed or listing page, with the title shown there (if any) and, in a
    full-text feed, a digest of the article's text there (it changes when the text does)."""

    url: str
    title: str | None = None
    digest: str | None = None


class ParseError(Exception):
    """A page that fits none of the site's layouts. ``reason`` becomes the stats key."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class ParsedPage:
    """A parser's answer: the item, and a page to fetch to complete it (if any)."""

    item: Article
    #: The gallery page holding captions the article page lacks.
    gallery_url: str | None = None


class Site:
    """A news site: its URL rules and its article parser. Subclasses are stateless."""

    name: ClassVar[str]
    source_name: ClassVar[str]
    allowed_domains: ClassVar[list[str]]

    def canonical_url(self, url: str) -> str:
        raise NotImplementedError

    def article_id(self, url: str) -> str | None:
        """The stable site id an article URL carries, or ``None`` for other pages."""
        raise NotImplementedError

    def parse(self, response: Response) -> ParsedPage:
        """Turn a fetched (or saved) page into an item; raise :class:`ParseError` if impossible."""
        raise NotImplementedError

    def feed_entries(self, response: Response) -> list[Link]:
        """Article links of a feed (RSS 2.0 or RDF), in feed order, with their titles and, when
        the feed carries the full text (``content:encoded``), a digest of it."""
        entries = []
        for item in response.xpath("//*[local-name()='item']"):
            url = (item.xpath("./*[local-name()='link']/text()").get() or "").strip()
            if url:
                title = clean_text(item.xpath("./*[local-name()='title']/text()").get())
                text = item.xpath("./*[local-name()='encoded']/text()").get()
                digest = hashlib.sha256(_SPACES.sub("", text).encode()).hexdigest()[:32] if text else None
                entries.append(Link(url, title, digest))
        return entries

    #: Words a site's listings add to a title (e.g. a teaser's "图集：" kicker): left out
    #: when a listed title is compared with the archived one.
    teaser_affixes: ClassVar[re.Pattern[str] | None] = None

    def fold_title(self, title: str) -> str:
        """A title as compared for retitles: simplified script (OpenCC), NFKC, no spaces, no
        teaser affixes — so a traditional-script link or a kicker is not a new title."""
        folded = _to_simplified(unicodedata.normalize("NFKC", title))
        if self.teaser_affixes is not None:
            folded = self.teaser_affixes.sub("", folded)
        return _SPACES.sub("", folded)

    def listing_entries(self, response: Response) -> list[Link]:
        """Article links of a listing (topic, tag, category) page, in page order.

        Site chrome (header, nav, footer, sidebars) is left out; an article linked several
        times (picture and headline) is one entry, titled with its longest link text.
        """
        entries: dict[str, Link] = {}
        for a in response.xpath(_CONTENT_LINKS):
            url = response.urljoin(a.attrib["href"])
            article_id = self.article_id(self.canonical_url(url))
            if article_id is None:
                continue
            title = clean_text(a.xpath("string()").get())
            seen = entries.get(article_id)
            if seen is None:
                entries[article_id] = Link(url, title)
            elif title and len(title) > len(seen.title or ""):
                entries[article_id] = Link(seen.url, title)
        return list(entries.values())

    def next_page(self, response: Response) -> str | None:
        """The listing's next page, or ``None`` on the last (or only) page."""
        return None


def normalise_url(url: str, host_map: dict[str, str] | None = None, https: bool = True) -> str:
    """Absolute URL with tracking parameters and fragment dropped, path percent-encoded once."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host_map:
        host = host_map.get(host, host)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not TRACKING_PARAMS.match(k)])
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~")
    scheme = "https" if https and parts.scheme in ("http", "https") else parts.scheme
    return urlunsplit((scheme, netloc, path or "/", query, ""))


_JSON_LD = re.compile(
    r"""<script\b[^>]*\btype\s*=\s*["']?application/ld\+json["']?[^>]*>(.*?)</script\s*>""", re.I | re.S)


def json_ld_objects(response: Response) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page (``@graph`` and lists flattened); bad blocks skipped.

    Found in the text, without building the DOM.
    """
    found: list[dict[str, Any]] = []
    for raw in _JSON_LD.findall(response.text):
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            obj = stack.pop(0)
            if isinstance(obj, dict):
                if isinstance(obj.get("@graph"), list):
                    stack.extend(obj["@graph"])
                found.append(obj)
            elif isinstance(obj, list):
                stack.extend(obj)
    return found


def json_ld_of_type(response: Response, *types: str) -> dict[str, Any] | None:
    for obj in json_ld_objects(response):
        kind = obj.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(k in types for k in kinds):
            return obj
    return None


def meta_content(response: Response, name: str) -> str | None:
    """``<meta property=… content>`` or ``<meta name=… content>``."""
    return response.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content').get()


def ld_names(value: Any) -> list[str]:
    """Names from a JSON-LD ``author``-like value (str, object or list of either)."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and (name := clean_text(name)):
            names.append(name)
    return names


def first(*values: Any) -> Any:
    """The first value that is not ``None`` or empty; a callable is called only when reached.

    Fallbacks that cost a DOM query are passed as ``lambda: ...`` so that a page whose
    embedded data has the field never builds its DOM.
    """
    for value in values:
        if callable(value):
            value = value()
        if value not in (None, "", [], {}):
            return value
    return None
