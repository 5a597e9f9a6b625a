"""The page-object base every site builds on, and the helpers their parsers share.

A site is a :class:`Site` — data: its hosts, article URL forms (:class:`ArticleUrl`),
editions, feeds (:class:`Feed`), listings (:class:`Listing`) and sitemaps (:class:`Sitemap`),
from which the base derives canonical URLs, article ids, listing, feed and sitemap URLs and
the spiders' argument checks — with one :class:`ArticlePage` subclass per template
generation of its article pages. A page
object knows nothing of crawling: it is built from one response (fetched, saved or
rendered) and the run's :class:`ParseContext`, and has one method per item field (values
computed from the page, shared ones cached, never side effects of each other);
:meth:`ArticlePage.to_item` calls them and builds the :class:`~newscrawl.items.Article`.
A layout change is a subclass that overrides the methods that changed and says since when
it is the site's layout (``valid_from``; the class it replaced gets ``valid_until``), so old
saved pages keep parsing with the class of their time.
:meth:`Site.layout_for` is the one switch that picks the class by looking at the page.

Whatever a page holds, parsing it either gives an item or raises :class:`ParseError` with a
short reason (the stats key of the drop): never another exception.

This module names no site: everything site-specific is an attribute or a method override.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, ClassVar, NamedTuple, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from scrapy.http import Response, TextResponse

from newscrawl.arguments import http_url
from newscrawl.charset import Undecodable, decoded
from newscrawl.html import clean_common, drop, drop_empty_blocks, fragment, make_figure, replace, selector
from newscrawl.items import Article, Gallery, GalleryImage, Image
from newscrawl.markdown import to_markdown
from newscrawl.text import (
    clean_text,
    parse_datetime,
    to_published,
    to_simplified,
    to_utc_iso,
    unique,
    xml_safe,
)

#: Query parameters that only track where a reader came from (every site; a site adds its own).
TRACKING_PARAMS = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid|at_medium|at_campaign)$", re.I)
_CONTENT_LINKS = ("//a[@href][not(ancestor::header or ancestor::nav or ancestor::footer"
                  " or ancestor::aside or ancestor::*[@id='sidebar'])]")
#: A page nested deeper than this is mangled: HTML parsers give up (libxml2 at 256 or 2048).
MAX_DEPTH = 250
_SPACES = re.compile(r"\s+")


class Link(NamedTuple):
    """A link found on a feed, listing or sitemap, with the title shown there (if any); in a
    full-text feed, a digest of the article's text there (it changes when the text does); in
    a sitemap, the entry's ``<lastmod>`` (when the site says the page last changed); on a
    listing that dates its entries to the second (DW's page state), ``modified``: the
    article's last publication or modification there (ISO 8601)."""

    url: str
    title: str | None = None
    digest: str | None = None
    lastmod: str | None = None
    modified: str | None = None


class ParseError(Exception):
    """A page the site's parser cannot turn into an item; ``reason`` becomes the stats key.

    Reasons: ``unrecognised_layout`` (no layout fits), ``truncated_page`` (cut off in
    transfer), ``mangled_page`` (markup that loses the text), ``undecodable_page`` (bytes no
    charset reads cleanly), ``missing_<field>`` (a layout fits but a required field is absent).
    """

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


@dataclass
class ParsedPage:
    """A parser's answer: the item, and a page to fetch to complete it (if any)."""

    item: Article
    #: The gallery page holding captions the article page lacks.
    gallery_url: str | None = None
    #: The layout class that parsed the page (``Site.layouts``), for logs and tests.
    layout: str | None = None

    @property
    def parser(self) -> str:
        """The parser that made the item, as its JSON line names it:
        ``<site>/<layout> (newscrawl <version>)``."""
        return f"{self.item.site}/{self.layout} (newscrawl {_release()})"


@functools.cache
def _release() -> str:
    try:
        return importlib.metadata.version("newscrawl")
    except importlib.metadata.PackageNotFoundError:  # a checkout that is not installed
        return "unknown"


@dataclass(frozen=True)
class Published:
    """A publication time as precise as the page gives it.

    ``value`` is anything :func:`newscrawl.text.to_published` reads (ISO 8601 string,
    datetime, ``YYYY-MM-DD`` for a day); ``precision`` is ``second``, ``minute`` or ``day``.
    """

    value: Any
    precision: str = "second"


#: Fields without which there is no item: a page lacking one raises ``missing_<field>``, and
#: the validation pipeline drops an item lacking one (the one list of them).
REQUIRED: tuple[str, ...] = ("id", "url", "title", "published", "body_markdown")


@dataclass(frozen=True)
class Body:
    """An article body as read: Markdown, the images in it (lead first), the credit lines
    taken out (by role), the text of its paragraphs (credit and boilerplate lines gone) and
    the galleries taken out of it."""

    markdown: str | None
    images: list[Image]
    credits: dict[str, list[str]]
    paragraphs: tuple[str, ...] = ()
    galleries: tuple[Gallery, ...] = ()


# ---- small helpers ------------------------------------------------------------------------

def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else ``{}`` (embedded JSON has the wrong type)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else ``[]``."""
    return value if isinstance(value, list) else []


def first(*values: Any) -> Any:
    """The first value that is not ``None`` or empty; a callable is called only when reached.

    Fallbacks that cost a DOM query are passed as ``lambda: ...`` so that a page whose
    embedded data has the field never builds its DOM.
    """
    for value in values:
        if callable(value):
            value = value()
        if value is not None and value != "" and value != [] and value != {}:
            return value
    return None


def normalise_url(url: str, host_map: dict[str, str] | None = None, https: bool = True,
                  tracking: re.Pattern[str] | None = None) -> str:
    """Absolute URL with tracking parameters and fragment dropped, path percent-encoded once."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # "http://[x" or a port out of range
        return url.strip()
    host = (parts.hostname or "").lower()
    if host_map:
        host = host_map.get(host, host)
    netloc = host if port is None else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not TRACKING_PARAMS.match(k) and not (tracking and tracking.match(k))])
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~")
    scheme = "https" if https and parts.scheme in ("http", "https") else parts.scheme
    return urlunsplit((scheme, netloc, path or "/", query, ""))


#: How many URLs a site's URL rules (:func:`url_rule`) remember each: enough for a page's
#: own URL and the links of the listings being read (a long Chinese URL with its answers is
#: ~0.6 KB: at 4096 the caches held ~10 MB by the end of a 5,000-article crawl).
URL_CACHE_SIZE = 1024
_T = TypeVar("_T")
_S = TypeVar("_S")


def url_rule(rule: Callable[[_S, str], _T]) -> Callable[[_S, str], _T]:
    """A site's URL rule (canonical form, article id, edition) remembered for the last
    :data:`URL_CACHE_SIZE` URLs: a page asks about its own URL many times, and a listing
    about the same links every visit. Only for a pure function of the site's declarations
    and the URL, so a remembered answer is never stale (sites live as long as the process)."""
    return functools.lru_cache(maxsize=URL_CACHE_SIZE)(rule)


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


_JSON_LD = re.compile(
    r"""<script\b[^>]*\btype\s*=\s*["']?application/ld\+json["']?[^>]*>(.*?)</script\s*>""", re.I | re.S)


def json_ld_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page (``@graph`` and lists flattened); bad blocks skipped.

    Found in the text, without building the DOM.
    """
    found: list[dict[str, Any]] = []
    for raw in _JSON_LD.findall(text):
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack and len(found) < 100:
            obj = stack.pop(0)
            if isinstance(obj, dict):
                if isinstance(obj.get("@graph"), list):
                    stack.extend(obj["@graph"])
                found.append(obj)
            elif isinstance(obj, list):
                stack.extend(obj)
    return found


def ld_names(value: Any) -> list[str]:
    """Person names from a JSON-LD ``author``-like value (str, object or list of either);
    organisations are no authors."""
    names = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and item.get("@type") not in (None, "Person"):
            continue
        name = item.get("name") if isinstance(item, dict) else item
        if name := clean_text(name):
            names.append(name)
    return names


def ld_date(value: Any) -> Any:
    """A JSON-LD date: a string, or the first string of a list (some pages give a list)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


# ---- images and credits: one reader and one splitter for every site ------------------------

@dataclass(frozen=True)
class CreditRules:
    """How a site writes image credits.

    ``label``: a credit with its label, anywhere at the end of a caption or on its own
    (``图像来源: X``, ``Foto: X``, ``© X``); group ``credit`` is the credit.
    ``tail``: a credit in brackets closing a caption (``说明。（林一/大纪元）``); group ``credit``.
    """

    label: re.Pattern[str] | None = None
    tail: re.Pattern[str] | None = None

    def split(self, text: Any) -> tuple[str | None, str | None]:
        """``Caption (图像来源: X)`` / ``Caption 图像来源: X`` / ``说明（X/大纪元）`` → caption, credit."""
        text = clean_text(text)
        if not text:
            return None, None
        for pattern in (self.label, self.tail):
            if pattern is None:
                continue
            match = pattern.search(text)
            if match and match.group("credit") and clean_text(match.group("credit")):
                caption = clean_text(text[: match.start()])
                if caption or pattern is self.label:
                    return caption if caption else None, clean_text(match.group("credit"))
        return text, None

    def credit(self, text: Any) -> str | None:
        """A text that is only a credit (``图像来源: X`` → ``X``), or ``None``."""
        caption, credit = self.split(text)
        return credit if credit and not caption else None


#: What an XML tree cannot hold (lxml refuses to set it).
#: Never part of a URL: control characters, spaces, lone surrogates.
URL_JUNK = re.compile(r"[\x00-\x20\x7f-\x9f\ud800-\udfff]")
_IMG_URL_ATTRS = ("data-url", "data-src", "data-original", "data-lazy-src", "srcset", "data-srcset", "src")


def image_source(img: HtmlElement) -> str | None:
    """The URL an ``img`` (or ``source``) shows: lazy-loading attributes first, the first
    candidate of a ``srcset``, never a ``data:`` placeholder."""
    for name in _IMG_URL_ATTRS:
        value = (img.get(name) or "").strip()
        if "srcset" in name:
            value = value.split(",")[0].strip().split(" ")[0]
        value = URL_JUNK.sub("", value)
        if value and not value.lower().startswith(("data:", "javascript:", "about:")):
            return value
    return None


@dataclass
class ImageBox:
    """What one image box of a page holds."""

    url: str
    caption: str | None
    credit: str | None
    title: str | None = None

    def image(self) -> Image:
        return Image(url=self.url, caption=self.caption, credit=self.credit)

    def gallery_image(self) -> GalleryImage:
        return GalleryImage(url=self.url, title=self.title, caption=self.caption, credit=self.credit)


_CREDIT_ELEMENTS = etree.XPath(".//small | .//*[contains(concat(' ', normalize-space(@class), ' '),"
                               " ' copyright ') or contains(@class, 'credit')]")
_CAPTION_ELEMENTS = etree.XPath(".//figcaption | .//p | .//*[contains(@class, 'caption')]")


def read_image_box(box: HtmlElement, credits: CreditRules, image_url: Callable[[str], str | None],
                   title_css: str = "h3, h4, strong, .title") -> ImageBox | None:
    """The one image-box reader: ``figure``/``div``/``li`` with an ``img``, a caption
    (``figcaption``, else the box's ``p``, else the image's ``alt``), a credit (``small``,
    ``.copyright``, ``.credit``, a credit at the end of the caption, else the image's
    ``title`` attribute when it reads as a credit) and an optional slide title."""
    imgs = [el for el in box.iter("img", "source")]
    src = next((s for s in map(image_source, imgs) if s), None)
    url = URL_JUNK.sub("", image_url(src) or "") if src else None
    if not url:
        return None
    img = imgs[0]
    credit_el = next(iter(_CREDIT_ELEMENTS(box)), None)
    credit = clean_text(credit_el.text_content()) if credit_el is not None else None
    credit = credits.credit(credit) or credit
    title_el = next(iter(selector(title_css, "html")(box)), None) if title_css else None
    title = clean_text(title_el.text_content()) if title_el is not None else None
    cap_el = next(iter(_CAPTION_ELEMENTS(box)), None)
    raw_caption = None
    if cap_el is not None:
        skip = {el for el in (credit_el, title_el) if el is not None}
        raw_caption = "".join(_text_without(cap_el, skip))
    caption, split_credit = credits.split(raw_caption)
    if caption is None and split_credit is None:
        caption, split_credit = credits.split(img.get("alt"))
    credit = credit or split_credit
    if not credit:
        img_title = clean_text(img.get("title"))
        if img_title and img_title != caption:
            credit = credits.credit(img_title) or (img_title if img_title.startswith("©") else None)
    if credit and credit.startswith("©"):
        credit = clean_text(credit[1:])
    return ImageBox(url=url, caption=caption, credit=credit, title=title if title != caption else None)


def _text_without(el: HtmlElement, skip: set[HtmlElement]) -> Iterable[str]:
    """The text of ``el`` in document order, but for the subtrees in ``skip``. Walked with a
    list, not recursion; markup nested more than :data:`MAX_DEPTH` deep below ``el`` (where
    the HTML parser starts dropping content: 3,000 ``<span>``s lose the caption) is
    ``mangled_page``, not a ``RecursionError`` or a caption silently lost."""
    todo: list[tuple[HtmlElement | str, int]] = [(el, 0)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, str):
            yield node
            continue
        if depth > MAX_DEPTH:
            raise ParseError("mangled_page", f"a caption is nested more than {MAX_DEPTH} elements deep")
        if node in skip:
            continue
        if node.text and isinstance(node.tag, str):
            yield node.text
        for child in reversed(node):
            if child.tail:
                todo.append((child.tail, depth))
            todo.append((child, depth + 1))


# ---- what a site declares ----------------------------------------------------------------------

@dataclass(frozen=True)
class ArticleUrl:
    """One way the site writes an article's URL.

    ``path`` is matched against the URL's (unquoted) path; its named groups fill ``id`` (the
    article id, e.g. ``"{kind}-{num}"``) and ``moved_to``. ``moved_to`` is set for the
    site's old or API forms of an article URL: the page the archive keeps instead (a template
    of ``base`` and the groups); without it, the URL itself is the article page, kept without
    its query. ``host``: the form is only on that host (else on any host of the site).
    ``id=None``: a form that is only rewritten, never read as an article id by itself.
    """

    path: re.Pattern[str]
    id: str | None = "{id}"
    moved_to: str | None = None
    host: str | None = None


@dataclass(frozen=True)
class Feed:
    """A feed of the site; ``url`` may name ``{base}`` and ``{edition}``."""

    url: str


@dataclass(frozen=True)
class Sitemap:
    """Where the site announces its sitemaps: ``url`` is its robots.txt (the sitemaps are its
    ``Sitemap:`` lines, read at run time) or a sitemap or sitemap index itself; it may name
    ``{base}`` and ``{edition}``. Read with ``-a sitemaps=1`` (:mod:`newscrawl.crawling.sitemaps`):
    sitemaps and entries of other editions and hosts are left out."""

    url: str


def _as_given(value: str) -> str:
    return value


@dataclass(frozen=True)
class Listing:
    """A kind of listing page (topic, tag, category) a spider can be pointed at, by a bare
    value (``t-123``, ``王毅``, ``nsc413``) or by URL; its ``-a`` argument is derived from it.

    ``path`` is searched in the unquoted path of a listing URL; ``value`` must match a bare
    value whole; ``url`` makes the page of a bare value (``{base}``, ``{edition}``,
    ``{value}`` as :attr:`written` writes it). ``page_what`` and ``value_what`` end the
    one-line error for a URL or value that is not one (``'x' is not <what>``).
    """

    kind: str
    argument: str
    help: str
    item: str
    path: re.Pattern[str]
    value: re.Pattern[str]
    url: str
    page_what: str
    value_what: str
    #: how a bare value is written in :attr:`url` (percent-encoded, given a prefix…)
    written: Callable[[str], str] = _as_given


#: How a listing or article is given as a URL rather than a bare value.
URL_PREFIXES = ("http://", "https://", "/")


@dataclass
class ParseContext:
    """What the parses of one run know beyond the page in hand: names seen standing alone in
    bylines (a parser settles close name/place cuts with them and adds those it sees alone).

    Made by the caller — the spider, once per crawl — and handed to :meth:`Site.parse`; a
    parse given none starts from nothing (as ``scrapy extract`` and the fixtures do), so no
    page's parse depends on what one process happened to parse before it.
    """

    known_names: set[str] = field(default_factory=set)


def _host_and_path(url: str) -> tuple[str, str] | None:
    """A URL's host (lower case) and unquoted path, or ``None`` when it cannot be split."""
    try:
        parts = urlsplit(url)
        return (parts.hostname or "").lower(), unquote(parts.path)
    except ValueError:
        return None


# ---- the site -------------------------------------------------------------------------------

class Site:
    """A news site: what it declares (hosts, article URL forms, editions, feeds, listings,
    layouts) and what the base derives from that (canonical URL, article id, edition,
    listing and feed URLs, the spiders' argument checks), with the page classes of its
    layouts. A site overrides a method only for a rule its declarations cannot say."""

    name: ClassVar[str]
    #: The site's source name per ``lang`` value (``None``: any other edition).
    source_names: ClassVar[dict[str | None, str]]
    #: Where the crawler may go (Scrapy's offsite filter); the site's hosts end so.
    allowed_domains: ClassVar[list[str]]
    #: The site's root, for relative URLs and URL templates (``https://www.dw.com``).
    base: ClassVar[str]
    #: Every other host an article is linked under, to the one the archive keeps.
    host_map: ClassVar[dict[str, str]] = {}
    #: Query parameters of the site's own that only track (beside :data:`TRACKING_PARAMS`).
    tracking: ClassVar[re.Pattern[str] | None] = None
    #: The forms of its article URLs, the current one first (:class:`ArticleUrl`).
    article_urls: ClassVar[tuple[ArticleUrl, ...]] = ()
    #: What an article URL looks like, for the error on one that is not (``'x' is not …``).
    article_what: ClassVar[str] = "an article URL of the site"
    #: The ``urls`` argument's meaning.
    article_help: ClassVar[str] = "single article URLs"
    #: Hosts of short links that redirect to an article (taken as article URLs as given).
    short_hosts: ClassVar[frozenset[str]] = frozenset()
    #: The editions (first path segment) and the language of each.
    editions: ClassVar[dict[str, str]] = {}
    #: The edition feeds and bare listing values are read in when none is chosen.
    default_edition: ClassVar[str] = ""
    #: Whether a page exists in every edition under the same path (``/gb/`` ↔ ``/b5/``): a
    #: spider then follows links in the edition it was asked for, so each page is fetched once.
    edition_twins: ClassVar[bool] = False
    #: The site's feeds, its main one first.
    feeds: ClassVar[tuple[Feed, ...]] = ()
    #: The kinds of listing page a spider can be pointed at.
    listings: ClassVar[tuple[Listing, ...]] = ()
    #: Whether the listings list the newest articles first, so that a page ending on an
    #: archived article is followed only by older, archived ones: a walk stops there.
    listings_newest_first: ClassVar[bool] = False
    #: Where the site announces its sitemaps (none: no ``sitemaps`` argument).
    sitemaps: ClassVar[tuple[Sitemap, ...]] = ()
    #: Hosts whose iframes in a body are kept as links (video players of the site and others).
    embed_hosts: ClassVar[frozenset[str]] = frozenset()
    #: The page classes, newest first; :meth:`layout_for` picks one.
    layouts: ClassVar[tuple[type[ArticlePage], ...]] = ()
    #: Substrings of raw HTML that say "an article body is in here" (see :meth:`check_page`).
    body_markers: ClassVar[tuple[str, ...]] = ()

    @property
    def source_name(self) -> str:
        return self.source_names[None]

    def source_name_for(self, lang: str | None) -> str:
        return self.source_names.get(lang, self.source_names[None])

    # ---- URL rules, derived from the declarations ------------------------------------
    def is_own(self, url: str) -> bool:
        """Whether ``url`` is on one of the site's hosts."""
        host = host_of(url)
        return host in self.host_map or any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    @url_rule
    def canonical_url(self, url: str) -> str:
        """The URL the archive keeps for a link: the site's one host, https, no tracking
        parameters or fragment; an article page without query, an old or API form of an
        article URL as the page it moved to (:attr:`article_urls`)."""
        url = url.strip()
        if url.startswith("/") and not url.startswith("//"):
            url = self.base + url
        split = _host_and_path(url)
        if split is None:
            return url
        host, path = split
        for form in self.article_urls:
            if not form.moved_to or not (host == form.host if form.host else self.is_own(url)):
                continue
            if match := form.path.match(path):
                return form.moved_to.format(base=self.base, **match.groupdict())
        canonical = normalise_url(url, self.host_map, tracking=self.tracking)
        path = unquote(urlsplit(canonical).path)
        if any(form.path.match(path) for form in self.article_urls if not form.moved_to):
            canonical = canonical.split("?", 1)[0]  # article pages take no query
        return canonical

    @url_rule
    def article_id(self, url: str) -> str | None:
        """The stable site id an article URL carries, or ``None`` for other pages."""
        if not self.is_own(url):
            return None
        split = _host_and_path(url)
        if split is None:
            return None
        host, path = split
        for form in self.article_urls:
            if form.id is None or (form.host is not None and host != form.host):
                continue
            if match := form.path.match(path):
                return form.id.format(**match.groupdict())
        return None

    @url_rule
    def edition_of(self, url: str) -> str | None:
        """The URL's edition (its first path segment, when that is one of :attr:`editions`)."""
        try:
            segment = unquote(urlsplit(url).path).split("/")[1]
        except (ValueError, IndexError):
            return None
        return segment if segment in self.editions else None

    def lang_of(self, url: str) -> str | None:
        """The language of the edition a URL belongs to."""
        return self.editions.get(self.edition_of(url) or "")

    def to_edition(self, url: str, edition: str) -> str:
        """The same page in another edition (``/gb/`` ↔ ``/b5/``); a URL of no edition as it is."""
        current = self.edition_of(url)
        if current in (None, edition):
            return url
        netloc = urlsplit(url).netloc
        return url.replace(f"{netloc}/{current}/", f"{netloc}/{edition}/", 1)

    def feed_url(self, edition: str | None = None) -> str:
        """The site's main feed (in ``edition``, where feeds are per edition)."""
        return self.feeds[0].url.format(base=self.base, edition=edition or self.default_edition)

    def sitemap_urls(self, edition: str | None = None) -> list[str]:
        """Where the site's sitemaps for ``edition`` are announced (robots.txt) or found."""
        edition = edition or self.default_edition
        return [sitemap.url.format(base=self.base, edition=edition) for sitemap in self.sitemaps]

    def listing_url(self, listing: Listing, value: str, edition: str | None = None) -> str:
        """The listing page a bare value or a URL names (in ``edition`` when pages are
        :attr:`edition_twins`; a bare value in ``edition`` always)."""
        value = value.strip()
        edition = edition or self.default_edition
        if value.startswith(URL_PREFIXES):
            url = self.canonical_url(urljoin(self.base, value))
            return self.to_edition(url, edition) if self.edition_twins else url
        return listing.url.format(base=self.base, edition=edition, value=listing.written(value))

    def listing_urls(self, value: str, edition: str | None = None) -> list[str]:
        """The pages ``value`` names as each kind of listing that takes it."""
        return [self.listing_url(listing, value, edition) for listing in self.listings
                if self.listing_problem(listing, value) is None]

    # ---- argument checks, derived ----------------------------------------------------
    def listing_problem(self, listing: Listing, value: str) -> str | None:
        """Why ``value`` names no ``listing`` page of the site (``None``: it does)."""
        if value.startswith(URL_PREFIXES):
            full = urljoin(self.base, value) if value.startswith("/") else value
            why = http_url(full, self.allowed_domains)
            if why or not listing.path.search(unquote(urlsplit(full).path)):
                return why or f"{value!r} is not {listing.page_what}"
            return None
        return None if listing.value.fullmatch(value) else f"{value!r} is not {listing.value_what}"

    def article_problem(self, value: str) -> str | None:
        """Why ``value`` is no article URL of the site (``None``: it is)."""
        why = http_url(value, self.allowed_domains)
        if why is None and self.article_id(self.canonical_url(value)) is None \
                and host_of(value) not in self.short_hosts:
            why = f"{value!r} is not {self.article_what}"
        return why

    def picture_url(self, url: str, max_width: int) -> str:
        """The URL to keep a picture from: the largest the site offers of the picture at
        ``url`` (an item's image URL), no wider than ``max_width`` pixels where the site lets
        the width be chosen. By default the URL itself."""
        return url

    def picture_identity(self, url: str) -> str:
        """Which picture ``url`` (an item's image URL) shows, whatever size it is asked at: the
        same for every size variant the site serves of one picture (the identity of a picture
        that was not kept, in :func:`newscrawl.versions.content_hash`). By default the URL."""
        return url

    def link_identity(self, url: str) -> str:
        """Where an in-text link leads, for telling a re-pointed link from a trivially
        different one (:func:`newscrawl.versions.content_hash`): an article of the site by
        its id (``dw:a-123``: its edition, slug and query do not matter), any other page by
        its canonical URL (no tracking parameters, no fragment); with :attr:`edition_twins`,
        a page of the site in any edition is one page."""
        if self.edition_twins and self.is_own(url):
            with contextlib.suppress(ValueError):  # not a URL urlsplit reads: as it is
                url = self.to_edition(self.canonical_url(url), self.default_edition)
        canonical = self.canonical_url(url)
        article = self.article_id(canonical)
        return f"{self.name}:{article}" if article else canonical

    def link_url(self, url: str) -> str:
        """An in-text link as the archive keeps it: the site's own article links canonical."""
        return self.canonical_url(url) if self.article_id(self.canonical_url(url)) else url

    # ---- parsing -------------------------------------------------------------------
    def parse(self, response: Response, context: ParseContext | None = None) -> ParsedPage:
        """Turn a fetched (or saved) page into an item; raise :class:`ParseError` if impossible.

        ``context``: what the run's earlier parses learnt (:class:`ParseContext`)."""
        if not isinstance(response, TextResponse):
            raise ParseError("not_html", f"{response.url}: not a text page")
        try:
            response = decoded(response)
        except Undecodable as exc:
            raise ParseError("undecodable_page", f"{response.url}: {exc}") from None
        self.check_page(response)
        page = self.layout_for(response)(self, response, context)
        try:
            item, gallery_url = page.to_item(), page.gallery_url()
        except RecursionError:  # markup or JSON nested deeper than a reader recurses
            raise ParseError("mangled_page", f"{response.url}: the page is nested too deep to read") from None
        except UnicodeEncodeError as exc:  # a lone surrogate ("\\ud800" in its JSON) a reader did not repair
            bad = ord(exc.object[exc.start])
            raise ParseError("mangled_page", f"{response.url}: a lone surrogate (U+{bad:04X}) where text"
                             " was needed") from None
        return ParsedPage(item, gallery_url, page.layout)

    def check_page(self, response: TextResponse) -> None:
        """Refuse pages cut short in transfer: the page ends before ``</body>``/``</html>``."""
        tail = response.text[-4096:].lower()  # the text: a UTF-16 page's bytes hold no b"</html"
        if "</html" not in tail and "</body" not in tail:
            raise ParseError("truncated_page", f"{response.url}: the page ends before </body></html>")

    def layout_for(self, response: TextResponse) -> type[ArticlePage]:
        """The one switch: the first (newest) layout whose markers the page has.

        A page that has none but carries a body marker (:attr:`body_markers`) in markup
        nested deeper than parsers follow is ``mangled_page``, not an unknown layout.
        """
        for layout in self.layouts:
            if layout.matches(response):
                return layout
        text = response.text
        if any(marker in text for marker in self.body_markers) and nesting_depth(text) > MAX_DEPTH:
            raise ParseError("mangled_page", f"{response.url}: the article is nested too deep to read")
        raise ParseError("unrecognised_layout", f"{response.url}: no {self.name} article layout fits")

    # ---- feeds and listings --------------------------------------------------------
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
        folded = to_simplified(unicodedata.normalize("NFKC", title))
        if self.teaser_affixes is not None:
            folded = self.teaser_affixes.sub("", folded)
        return _SPACES.sub("", folded)

    def link_date(self, link: Link) -> date | None:
        """The day a found link's article is from, as far as the link tells without fetching
        it (a backfill stops at entries older than ``-a since``): a sitemap's ``<lastmod>``;
        a site may know more (a date in its URLs)."""
        when = parse_datetime(link.lastmod) if link.lastmod else None
        return when.date() if when else None

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


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_NESTING = frozenset({"div", "section", "article", "span", "table", "tr", "td", "ul", "li", "blockquote",
                      "main", "aside", "font", "b", "i", "em", "strong"})


def meta_content(response: Response, name: str) -> str | None:
    """``<meta property=… content>``, ``<meta name=… content>`` or ``itemprop``."""
    return response.xpath("//meta[@property=$n or @name=$n or @itemprop=$n]/@content", n=name).get()


def nesting_depth(text: str) -> int:
    """How deep container elements nest in the markup (a quick scan of the tags, not a parse)."""
    depth = deepest = 0
    for closing, tag, self_closing in _TAG.findall(text):
        tag = tag.lower()
        if tag not in _NESTING or tag in _VOID or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


# ---- the page object ------------------------------------------------------------------------

class ArticlePage:
    """One page of a site as a page object: one method per field, :meth:`to_item` builds the item.

    Subclasses (one per template generation) override the fields their layout changed.
    Every field method returns ``None``/``[]`` for "not on this page"; only
    :meth:`to_item` decides whether the item is complete enough (:data:`REQUIRED`).

    Fields are values computed from the page (and the run's :class:`ParseContext`): what
    several fields share is a cached property (``_body``), never filled in by another field.
    """

    #: Short name of the layout (fixtures live in ``tests/fixtures/pages/<site>/<layout>/``).
    layout: ClassVar[str] = "base"
    #: The day this layout became the site's (its predecessor's ``valid_until``).
    valid_from: ClassVar[date | None] = None
    #: The day the next layout took over (``None``: current).
    valid_until: ClassVar[date | None] = None
    #: CSS of boilerplate inside a body (ads, share bars, players, promotions).
    boilerplate_css: ClassVar[tuple[str, ...]] = ()
    #: CSS of image boxes inside a body.
    image_box_css: ClassVar[str] = "figure"
    #: How the site writes image credits.
    credit_rules: ClassVar[CreditRules] = CreditRules()
    def __init__(self, site: Site, response: TextResponse, context: ParseContext | None = None):
        self.site = site
        self.response = response
        self.context = context if context is not None else ParseContext()

    @classmethod
    def matches(cls, response: TextResponse) -> bool:
        """Whether the page is of this layout (cheap markers: CSS, a substring)."""
        return False

    # ---- helpers ---------------------------------------------------------------------
    @cached_property
    def ld_objects(self) -> list[dict[str, Any]]:
        return json_ld_objects(self.response.text)

    def ld_of_type(self, *types: str) -> dict[str, Any]:
        for obj in self.ld_objects:
            kind = obj.get("@type")
            if any(k in types for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)):
                return obj
        return {}

    def meta(self, name: str) -> str | None:
        return meta_content(self.response, name)

    def text(self, css: str, within: Any = None) -> str | None:
        """Cleaned text of the first element matching ``css`` (in the page or ``within``)."""
        return clean_text((within if within is not None else self.response).css(css).xpath("string()").get())

    def image_url(self, src: str | None) -> str | None:
        """An image URL as the archive keeps it (absolute; a site may ask for a useful size)."""
        src = URL_JUNK.sub("", src or "")
        if not src:
            return None
        try:
            url = urljoin(self.response.url, src)
        except ValueError:
            return None
        return url if url.startswith(("http://", "https://")) else None

    def read_box(self, box: HtmlElement, title_css: str = "h3, h4, strong, .title") -> ImageBox | None:
        return read_image_box(box, self.credit_rules, self.image_url, title_css)

    # ---- fields ----------------------------------------------------------------------
    def url(self) -> str:
        return self.site.canonical_url(self.response.url)

    def id(self) -> str | None:
        return self.site.article_id(self.url()) or self.site.article_id(self.response.url)

    def title(self) -> str | None:
        return first(lambda: self.text("h1"), lambda: clean_text(self.meta("og:title")))

    def published(self) -> Published | None:
        return None

    def updated(self) -> str | None:
        return None

    def authors(self) -> list[str]:
        return self.body_authors()

    def body_authors(self) -> list[str]:
        """The authors the body's credit lines name."""
        return unique(self.body().credits.get("author", []))

    def editor(self) -> str | None:
        editors = unique(self.body().credits.get("editor", []))
        return "、".join(editors) if editors else None

    def lead(self) -> str | None:
        return None

    def body_html(self) -> str | None:
        """The body's markup (before cleaning)."""
        return None

    def dom_markup(self, css: str) -> str | None:
        """The markup of the first element matching ``css``; one buried deeper than
        :data:`MAX_DEPTH` elements (where parsers start dropping content) is refused."""
        found = self.response.css(css)
        if not found:
            return None
        depth = sum(1 for _ in found[0].root.iterancestors())
        if depth > MAX_DEPTH:
            raise ParseError("mangled_page", f"{self.response.url}: the body is nested {depth} deep")
        return found[0].get()

    def lead_image(self) -> Image | None:
        """An image shown above the body (it opens the body and ``images``)."""
        return None

    def images(self) -> list[Image]:
        return self.body().images

    def gallery(self) -> Gallery | None:
        return None

    def gallery_url(self) -> str | None:
        """A page to fetch to complete the gallery (its captions), if this one lacks them."""
        return None

    def tags(self) -> list[str]:
        return []

    def category(self) -> str | None:
        return None

    def lang(self) -> str | None:
        return self.site.lang_of(self.url())

    def source_name(self) -> str:
        return self.site.source_name_for(self.lang())

    # ---- the body ----------------------------------------------------------------------
    @cached_property
    def _body(self) -> Body:
        return self.read_body()

    def read_body(self) -> Body:
        """The body, read once a page (:meth:`body` gives it): boilerplate, components and
        credit lines out, image boxes as figures, then Markdown."""
        lead = self.lead_image()
        images: list[Image] = [lead] if lead else []
        credits: dict[str, list[str]] = {}
        markup = self.body_html()
        if not markup:
            return Body(None, images, credits)
        root = self.body_fragment(markup)
        drop(root, self.boilerplate_css)
        galleries = tuple(self.take_components(root))
        for box in list(selector(self.image_box_css, "html")(root)):
            if box.getparent() is None:
                continue
            found = self.read_box(box, title_css="")
            if found is None:  # no usable image (none, or not http(s)): its caption stays as text
                text = clean_text(box.text_content())
                if text:
                    para = lxml.html.Element("p")
                    para.text = text
                    replace(box, para)
                else:
                    box.drop_tree()
                continue
            image = found.image()
            images.append(image)
            replace(box, make_figure(image["url"], image["caption"], image["credit"]))
        self.take_lines(root, credits)
        paragraphs = tuple(t for t in (clean_text(el.text_content()) for el in root.iter("p")) if t)
        clean_common(root, self.response.url, self.site.link_url, self.site.embed_hosts)
        drop_empty_blocks(root)
        if lead:
            root.insert(0, make_figure(lead["url"], lead["caption"], lead["credit"]))
        return Body(to_markdown(root), images, credits, paragraphs, galleries)

    def body(self) -> Body:
        return self._body

    def body_fragment(self, markup: str) -> HtmlElement:
        """The body markup as an element; markup that loses its paragraphs is refused.

        Lone surrogates are repaired (U+FFFD, as everywhere), then characters no XML tree may
        hold (control characters) are dropped: editing the tree (removing a line, merging
        runs) would otherwise fail on them.
        """
        markup = xml_safe(markup)
        depth = nesting_depth(markup)
        if depth > MAX_DEPTH:
            raise ParseError("mangled_page", f"{self.response.url}: the body is nested {depth} deep")
        root = fragment(markup)
        written = len(re.findall(r"<p[\s>]", markup, re.I))
        parsed = sum(1 for _ in root.iter("p"))
        if written >= 3 and parsed < written // 2:
            raise ParseError("mangled_page", f"{self.response.url}: {written - parsed} of {written}"
                                             " paragraphs lost in the markup")
        return root

    def take_components(self, root: HtmlElement) -> list[Gallery]:
        """Take embedded components that are not article text out of the body (a site's
        teaser boxes, inline galleries, promotions); the galleries taken out are returned
        (they become :attr:`Body.galleries`)."""
        return []

    def take_lines(self, root: HtmlElement, credits: dict[str, list[str]]) -> None:
        """Drop boilerplate lines and take credit lines out of the body (into ``credits``)."""
        for el in list(root.iter("p", "div", "h2", "h3", "h4", "h5", "em", "strong", "span")):
            if el.getparent() is None or el is root:
                continue
            if any(True for _ in el.iterdescendants("p", "div", "h2", "h3", "h4", "h5", "li", "figure")):
                continue  # a container: its own lines are judged one by one
            text = clean_text(el.text_content())
            if not text or len(text) > 300:
                continue
            if self.is_boilerplate_line(text):
                el.drop_tree()
                continue
            parts = self.credit_parts(text)
            for role, names in parts:
                credits.setdefault(role, []).extend(names)
            if parts:
                el.drop_tree()

    def is_boilerplate_line(self, text: str) -> bool:
        """A body line that is navigation, promotion or legal text, not article text."""
        return False

    def credit_parts(self, text: str) -> list[tuple[str, list[str]]]:
        """The parts of a body line that only credits people, each ``(role, names)``:
        ``[("author", ["X"]), ("editor", ["Y"])]``; ``[]`` for any other line."""
        return []

    # ---- the item ----------------------------------------------------------------------
    def to_item(self) -> Article:
        """The item, every field from its method; :class:`ParseError` if a required one is missing."""
        published = self.published()
        precision = published.precision if published else None
        value = to_published(published.value, precision) if published else None
        body = self.body()
        item = Article(
            site=self.site.name, id=self.id(), url=self.url(), title=clean_text(self.title()),
            published=value, published_precision=precision if value else None,
            updated=to_utc_iso(self.updated()),
            authors=unique([a for a in map(clean_text, self.authors()) if a]),
            editor=clean_text(self.editor()), lead=clean_text(self.lead()), body_markdown=body.markdown,
            images=self.images(), gallery=self.gallery(),
            tags=unique([t for t in map(clean_text, self.tags()) if t]),
            category=clean_text(self.category()), lang=self.lang(), source_name=self.source_name(),
        )
        for name in REQUIRED:
            if not getattr(item, name):
                field = "body" if name == "body_markdown" else name
                raise ParseError(f"missing_{field}",
                                 f"{self.response.url}: no {field} ({self.layout} layout)")
        return item
