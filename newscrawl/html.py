"""Site-independent HTML cleaning: the contract between site parsers and the Markdown writer.

A site parser builds the article body as an lxml element, removes its own boilerplate
(site rules live in ``newscrawl/sites/``), turns each of its image boxes into a
*canonical figure* with :func:`make_figure`, and hands the element to
:func:`newscrawl.markdown.to_markdown`. What every site needs — scripts out,
links absolute, unknown iframes out — is done here once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

FIGURE_CLASS = "nc-figure"
VIDEO_EMBED_HOSTS = (
    "youtube.com",
    "www.youtube.com",
    "www.youtube-nocookie.com",
    "player.vimeo.com",
    "www.dw.com",
    "tv.dw.com",
)
_ALWAYS_DROP = "script, style, noscript, template, form, button, input, svg, link, meta"
_SELECTOR_CACHE: dict[str, CSSSelector] = {}


def selector(css: str) -> CSSSelector:
    """A compiled, cached CSS selector (compiling is the slow part)."""
    sel = _SELECTOR_CACHE.get(css)
    if sel is None:
        sel = _SELECTOR_CACHE[css] = CSSSelector(css)
    return sel


def fragment(markup: str) -> HtmlElement:
    """Parse an HTML fragment into one ``<div>`` holding it (tolerates broken markup)."""
    return lxml.html.fragment_fromstring(markup or "", create_parent="div")


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
    root: HtmlElement, base_url: str, map_url: Callable[[str], str] | None = None
) -> HtmlElement:
    """Remove scripts and foreign embeds, make links absolute, drop empty images.

    ``map_url`` lets the site canonicalise in-text links (e.g. API links to article pages).
    """
    drop(root, _ALWAYS_DROP)
    for iframe in root.iter("iframe"):
        src = urljoin(base_url, iframe.get("src") or "")
        if urlsplit(src).hostname in VIDEO_EMBED_HOSTS:
            link = lxml.html.Element("a", href=src)
            link.text = iframe.get("title") or src
            para = lxml.html.Element("p")
            para.append(link)
            replace(iframe, para)
        else:
            iframe.drop_tree()
    for img in list(root.iter("img")):
        if not (img.get("src") or "").strip():
            img.drop_tree()
        else:
            img.set("src", urljoin(base_url, img.get("src").strip()))
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#")):
            a.attrib.pop("href", None)
            continue
        absolute = urljoin(base_url, href)
        a.attrib.clear()
        a.set("href", map_url(absolute) if map_url else absolute)
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
