"""Site-independent HTML cleaning: the contract between site parsers and the Markdown writer.

A site parser builds the article body as an lxml element, removes its own boilerplate
(site rules live in ``newscrawl/sites/``), turns each of its image boxes into a
*canonical figure* with :func:`make_figure`, and hands the element to
:func:`newscrawl.markdown.to_markdown`. What every site needs — scripts out,
links absolute, unknown iframes out — is done here once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

FIGURE_CLASS = "nc-figure"
#: Video players whose iframes are kept as links on every site (a site adds its own hosts).
VIDEO_EMBED_HOSTS = frozenset({
    "youtube.com",
    "www.youtube.com",
    "www.youtube-nocookie.com",
    "player.vimeo.com",
})
_ALWAYS_DROP = "script, style, noscript, template, form, button, input, svg, link, meta"
_SELECTOR_CACHE: dict[str, CSSSelector] = {}


def selector(css: str) -> CSSSelector:
    """A compiled, cached CSS selector (compiling is the slow part)."""
    sel = _SELECTOR_CACHE.get(css)
    if sel is None:
        sel = _SELECTOR_CACHE[css] = CSSSelector(css)
    return sel


_PARSER = lxml.html.HTMLParser(huge_tree=True)


def fragment(markup: str) -> HtmlElement:
    """Parse an HTML fragment into one ``<div>`` holding it (tolerates broken markup; deep
    nesting is followed, not silently cut at libxml2's default depth of 256)."""
    return lxml.html.fragment_fromstring(markup or "", create_parent="div", parser=_PARSER)


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
    new.tail = old.tail
    old.getparent().replace(old, new)


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
        src = join_url(base_url, iframe.get("src"))
        if src and urlsplit(src).hostname in keep_hosts:
            link = lxml.html.Element("a", href=src)
            link.text = _URL_JUNK.sub(" ", iframe.get("title") or "").strip() or src
            para = lxml.html.Element("p")
            para.append(link)
            replace(iframe, para)
        else:
            iframe.drop_tree()
    for img in list(root.iter("img")):
        src = join_url(base_url, img.get("src"))
        if not src:
            img.drop_tree()
        else:
            img.set("src", src)
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        absolute = None if href.startswith(("javascript:", "#")) else join_url(base_url, href)
        a.attrib.clear()
        if absolute and map_url:
            absolute = join_url(base_url, map_url(absolute)) or absolute
        if absolute:
            a.set("href", absolute)
    return root


_URL_JUNK = re.compile(r"[\x00-\x20\x7f-\x9f\ud800-\udfff]")


def join_url(base_url: str, url: str | None) -> str | None:
    """``url`` made absolute against ``base_url``, control characters and spaces dropped;
    ``None`` for an empty or malformed one (a page's URL never raises)."""
    url = _URL_JUNK.sub("", url or "")
    if not url:
        return None
    try:
        joined = urljoin(base_url, url)
        urlsplit(joined).port  # noqa: B018 - raises ValueError for a malformed host or port
    except ValueError:
        return None
    return joined


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
