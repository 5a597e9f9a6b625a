"""Site-independent HTML cleaning: the contract between site parsers and the Markdown writer.

A site parser builds the article body as an lxml element, removes its own boilerplate
(site rules live in ``newscrawl/sites/``), turns each of its image boxes into a
*canonical figure* with :func:`make_figure`, and hands the element to
:func:`newscrawl.markdown.to_markdown`. What every site needs — scripts out,
links and images absolute and http(s) only, unknown iframes out — is done here once.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable
from typing import Literal
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

from newscrawl.text import repair_surrogates

FIGURE_CLASS = "nc-figure"
#: Video players whose iframes are kept as links on every site (a site adds its own hosts).
VIDEO_EMBED_HOSTS = frozenset({
    "youtube.com",
    "www.youtube.com",
    "www.youtube-nocookie.com",
    "player.vimeo.com",
})
_ALWAYS_DROP = "script, style, noscript, template, form, button, input, svg, link, meta"
_SELECTOR_CACHE: dict[tuple[str, str], CSSSelector] = {}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_EDGE_JUNK = "".join(map(chr, range(0x21))) + "\x7f"


def selector(css: str, translator: Literal["xml", "html", "xhtml"] = "xml") -> CSSSelector:
    """A compiled, cached CSS selector (compiling is the slow part); ``translator="html"``
    matches as ``HtmlElement.cssselect`` does."""
    sel = _SELECTOR_CACHE.get((css, translator))
    if sel is None:
        sel = _SELECTOR_CACHE[css, translator] = CSSSelector(css, translator=translator)
    return sel


_PARSER = lxml.html.HTMLParser(huge_tree=True)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def fragment(markup: str) -> HtmlElement:
    """Parse an HTML fragment into one ``<div>`` holding it (tolerates broken markup; deep
    nesting is followed, not silently cut at libxml2's default depth of 256).

    Lone surrogates (from a JSON string on the page) are replaced first: libxml2 would
    silently cut the text at the first one.
    """
    return lxml.html.fragment_fromstring(repair_surrogates(markup or ""), create_parent="div", parser=_PARSER)


def _url_shape(value: str) -> str:
    """A URL as a browser reads it: edge spaces and controls off, tabs and newlines out."""
    return _TAB_NEWLINE.sub("", value).strip(_EDGE_JUNK)


def _is_web(value: str) -> bool:
    match = _SCHEME.match(value)
    if match is None:
        return value.startswith("//")
    return match.group(1).lower() in ("http", "https") and value[match.end():].startswith("//")


@functools.lru_cache(maxsize=1024)
def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else ``None`` (remembered for the last 1024
    URLs: a page's links and images are checked again as they are written out).

    The scheme is compared case-insensitively on the URL as a browser reads it (edge
    whitespace and controls stripped, tabs and newlines removed), and again after decoding
    HTML entities (``java&#x09;script:``); both must be http(s). A protocol-relative
    ``//host/…`` becomes https.
    """
    if not url:
        return None
    shaped = _url_shape(repair_surrogates(url))
    if not (_is_web(shaped) and _is_web(_url_shape(html.unescape(shaped)))):
        return None
    if shaped.startswith("//"):
        shaped = "https:" + shaped
    try:
        parts = urlsplit(shaped)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
        return shaped if parts.hostname else None
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None


def absolute_url(base_url: str, url: str | None) -> str | None:
    """``url`` made absolute against ``base_url``; ``None`` unless the result is http(s).

    A URL with a scheme (before or after decoding entities) is judged as it is, never joined
    as a relative path: `` javascript:`` with a leading space stays a ``javascript:`` URL.
    """
    value = _url_shape(repair_surrogates(url or ""))
    if not value or value.startswith("#"):
        return None
    if value.startswith("//") or _SCHEME.match(value) or _SCHEME.match(_url_shape(html.unescape(value))):
        return safe_url(value)
    try:
        return safe_url(urljoin(base_url, value))
    except ValueError:
        return None


def drop(root: HtmlElement, css: str | Iterable[str]) -> int:
    """Remove every element matching the selector(s), keeping the text that follows it."""
    count = 0
    for one in [css] if isinstance(css, str) else css:
        for el in selector(one)(root):
            if el.getparent() is not None:
                el.drop_tree()
                count += 1
    return count


def make_figure(url: str, caption: str | None, credit: str | None) -> HtmlElement:
    """The canonical figure every site's image boxes are turned into."""
    fig = lxml.html.Element("figure")
    fig.set("class", FIGURE_CLASS)
    fig.set("data-src", url)
    if caption:
        fig.set("data-caption", caption)
    if credit:
        fig.set("data-credit", credit)
    return fig


def replace(old: HtmlElement, new: HtmlElement) -> None:
    """Put ``new`` where ``old`` was, keeping ``old``'s tail text."""
    parent = old.getparent()
    if parent is None:
        raise ValueError("the root element cannot be replaced")
    new.tail = old.tail
    parent.replace(old, new)


def clean_common(
    root: HtmlElement, base_url: str, map_url: Callable[[str], str] | None = None,
    embed_hosts: Iterable[str] = (),
) -> HtmlElement:
    """Remove scripts and foreign embeds, make links absolute, drop empty images.

    ``map_url`` lets the site canonicalise in-text links (e.g. API links to article pages);
    iframes from ``embed_hosts`` (the site's own players) and :data:`VIDEO_EMBED_HOSTS` are
    kept as links.
    """
    drop(root, _ALWAYS_DROP)
    keep_hosts = VIDEO_EMBED_HOSTS | frozenset(embed_hosts)
    for iframe in list(root.iter("iframe")):
        src = absolute_url(base_url, iframe.get("src"))
        if src and urlsplit(src).hostname in keep_hosts:
            link = lxml.html.Element("a", href=src)
            link.text = _CONTROLS.sub(" ", iframe.get("title") or "").strip() or src
            para = lxml.html.Element("p")
            para.append(link)
            replace(iframe, para)
        else:
            iframe.drop_tree()
    for img in list(root.iter("img")):
        src = absolute_url(base_url, img.get("src"))
        if src is None:
            img.drop_tree()  # keeps its tail text
        else:
            img.set("src", src)
    for a in root.iter("a"):
        absolute = absolute_url(base_url, a.get("href"))
        a.attrib.clear()
        if absolute:
            a.set("href", (safe_url(map_url(absolute)) if map_url else None) or absolute)
    return root


def drop_empty_blocks(root: HtmlElement, tags: Iterable[str] = ("p", "div", "span", "em", "strong")) -> None:
    """Remove blocks with neither text nor images/figures (left behind by boilerplate removal)."""
    wanted = set(tags)
    for el in reversed(list(root.iter(*wanted))):
        if el is root or el.getparent() is None:
            continue
        if (el.text_content() or "").strip():
            continue
        if any(True for _ in el.iter("img", "figure", "iframe", "a")):
            continue
        el.drop_tree()
