"""Body HTML → Markdown that is safe to publish, through nh3 and markdownify.

Every piece of page text is hostile. The body goes through three steps:

1. :func:`sanitize_html` — nh3 (the Rust sanitiser ammonia) keeps an allowlist of tags and
   attributes and only http(s) link and image targets; ``script``, ``style``, ``iframe`` and
   the like go with their content. It works on the parsed tree, so text that merely *mentions*
   ``<style>`` (entity-escaped in the page) is text and stays.
2. markdownify turns the clean HTML into Markdown; every text node goes through
   :func:`escape_text`, so nothing the page wrote can become Markdown syntax, HTML, a link,
   Liquid or a kramdown extension.
3. Link and image targets go through :func:`markdown_url`: only absolute http(s) URLs, with
   the characters that could end the ``(…)`` or an HTML attribute percent-encoded.

Titles, captions and gallery lines that :mod:`newscrawl.posts` writes use the same helpers.
"""

from __future__ import annotations

import re
import unicodedata

import lxml.html
import nh3
from bs4 import BeautifulSoup
from lxml.html import HtmlElement
from markdownify import ATX, MarkdownConverter

from newscrawl.html import FIGURE_CLASS, safe_url
from newscrawl.text import clean_multiline, repair_surrogates, xml_safe

# ---- sanitising -------------------------------------------------------------------------

#: Tags whose structure becomes Markdown; any other tag is dropped and its text kept.
#: No ``pre``/``code``: their text would be shown unescaped (and Liquid runs inside code), so
#: it becomes ordinary, escaped text.
ALLOWED_TAGS = frozenset({
    "a", "article", "b", "blockquote", "br", "dd", "del", "div", "dl", "dt", "em", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "s", "section",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul",
})
#: Tags removed together with everything inside them.
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object",
    "embed", "applet", "svg", "math", "textarea", "select", "button", "form", "audio",
    "video", "canvas", "title",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt"},
    "figure": {"class", "data-src", "data-caption", "data-credit"},
}


def sanitize_html(markup: str) -> str:
    """The HTML with only :data:`ALLOWED_TAGS`, their harmless attributes and http(s) URLs."""
    return nh3.clean(
        repair_surrogates(markup),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https"},
        strip_comments=True,
        link_rel=None,
    )


# ---- URLs -------------------------------------------------------------------------------

#: Written percent-encoded in URLs we emit: ASCII controls and space, characters that could
#: end the Markdown ``(…)`` or an HTML attribute or start Liquid, and a ``%`` that starts no
#: escape; any non-ASCII character is looked at by :func:`_non_ascii`.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\"'<>()\[\]\\^`{|}]|%(?![0-9A-Fa-f]{2})|[^\x00-\x7f]")


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def _url_char(match: re.Match[str]) -> str:
    char = match.group()
    # non-ASCII letters (a Chinese path) stay readable; controls, format characters (bidi,
    # zero-width) and separators (U+3000, NBSP) do not
    if not char.isascii() and unicodedata.category(char)[0] not in "CZ":
        return char
    return _percent(char)


def markdown_url(url: str | None) -> str | None:
    """A link or image target to write into Markdown (or front matter), or ``None`` if unsafe.

    Only :func:`safe_url` URLs; spaces, quotes, brackets, parentheses, braces, backslashes
    and every control, format (bidi, zero-width) or separator character are percent-encoded,
    so the URL can neither leave its ``(…)`` nor an HTML attribute, nor start Liquid.
    """
    url = safe_url(url)
    return None if url is None else _URL_UNSAFE.sub(_url_char, url)


# ---- text -------------------------------------------------------------------------------

#: Characters that would be Markdown, HTML or Liquid: ``<``, ``>`` and ``&`` become entities
#: (kramdown passes them through as text), ``{`` becomes ``&#123;`` (no ``{{``/``{%`` for
#: Liquid, no ``{:`` attribute lists or ``{::`` extensions for kramdown, even across two text
#: nodes), and the rest get a backslash.
_TEXT_SPECIAL = re.compile(r"[\\`*_\[\]|$~<>&{]")
_TEXT_REPLACEMENT = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "{": "&#123;"}
#: What would start a heading, list, definition, quote or setext line at a line's start.
_LINE_MARK = re.compile(r"^([ \t]*)([#\-+=:])", re.M)
_LINE_NUMBER = re.compile(r"^([ \t]*\d{1,9})([.)])", re.M)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _TEXT_REPLACEMENT.get(char) or "\\" + char


def escape_text(text: str | None) -> str:
    """Page text as Markdown that renders as exactly this text, and as nothing else.

    Not idempotent: escape text once, where it becomes Markdown.
    """
    if not text:
        return ""
    text = _TEXT_SPECIAL.sub(_escape_char, repair_surrogates(text))
    text = _LINE_MARK.sub(r"\1\\\2", text)
    return _LINE_NUMBER.sub(r"\1\\\2", text)


#: A raw tag start or a brace in Markdown that did not come from :func:`to_markdown`.
_RAW_MARKUP = re.compile(r"<(?=[a-zA-Z/!?])|\{")


def inert_markdown(markdown: str) -> str:
    """Markdown with any raw tag start written ``&lt;`` and every ``{`` written ``&#123;``.

    A last line of defence for Markdown of unknown origin: it escapes, never deletes, so no
    text is lost. Markdown from :func:`to_markdown` comes out unchanged (it has neither).
    """
    return _RAW_MARKUP.sub(lambda m: "&lt;" if m.group() == "<" else "&#123;", markdown)


# ---- Markdown ---------------------------------------------------------------------------

def image_markdown(url: str, alt: str | None) -> str:
    """``![alt](url)``, or just the alt text when the URL is not a safe http(s) URL."""
    target = markdown_url(url)
    alt_md = escape_text((alt or "").replace("\n", " "))
    return f"![{alt_md}]({target})" if target else alt_md


def figure_markdown(url: str, caption: str | None, credit: str | None) -> str:
    """An image with its caption and credit kept as text under it."""
    lines = [image_markdown(url, caption)] if markdown_url(url) else []
    under = " · ".join(escape_text(part) for part in (caption, credit) if part)
    if under:
        lines.append(f"*{under}*")
    return "\n".join(lines)


def link_markdown(text_md: str, url: str | None) -> str:
    """``[text](url)`` for a safe URL; the (already escaped) text alone otherwise."""
    target = markdown_url(url)
    return f"[{text_md}]({target})" if target and text_md else text_md


class _Converter(MarkdownConverter):
    def escape(self, text, parent_tags):
        # whitespace inside a text node is a space in HTML; a newline here would start a
        # Markdown line (a heading, a list, a definition)
        return escape_text(text.replace("\n", " "))

    def convert_figure(self, el, text, parent_tags):
        if el.get("class") == FIGURE_CLASS:
            md = figure_markdown(el.get("data-src"), el.get("data-caption"), el.get("data-credit"))
            return f"\n\n{md}\n\n" if md else ""
        return f"\n\n{text.strip()}\n\n" if text.strip() else ""

    def convert_a(self, el, text, parent_tags):
        prefix, suffix = (" " if text[:1] == " " else ""), (" " if text[-1:] == " " else "")
        return f"{prefix}{link_markdown(text.strip(), el.get('href'))}{suffix}"

    def convert_img(self, el, text, parent_tags):
        if "_inline" in parent_tags:
            return escape_text(el.get("alt") or "")
        return image_markdown(el.get("src") or "", el.get("alt"))


_CONVERTER = _Converter(heading_style=ATX, bullets="-", strip=["iframe"], escape_misc=False)


_RUNS = {"strong": "strong", "b": "strong", "em": "em", "i": "em"}
#: What lxml refuses in a text it is given (a parsed page may still hold it).


def _joined(*parts: str | None) -> str:
    return xml_safe("".join(p or "" for p in parts))


def merge_adjacent_runs(root: HtmlElement) -> None:
    """``<strong>a</strong><strong>b</strong>`` → ``<strong>ab</strong>`` (also ``b``/``em``/``i``):
    touching runs of the same emphasis would otherwise become ``**a****b**``."""
    for el in list(root.iter(*_RUNS)):
        if el.getparent() is None:
            continue
        nxt = el.getnext()
        while (nxt is not None and not (el.tail or "") and isinstance(nxt.tag, str)
               and _RUNS.get(nxt.tag) == _RUNS.get(el.tag)):
            if len(el):
                el[-1].tail = _joined(el[-1].tail, nxt.text)
            else:
                el.text = _joined(el.text, nxt.text)
            for child in list(nxt):
                el.append(child)
            el.tail = nxt.tail
            nxt.getparent().remove(nxt)
            nxt = el.getnext()


def to_markdown(root: HtmlElement) -> str:
    """Convert a cleaned body element to Markdown (paragraphs, headings, lists, quotes, figures)."""
    merge_adjacent_runs(root)
    markup = sanitize_html(lxml.html.tostring(root, encoding="unicode"))
    soup = BeautifulSoup(markup, "lxml", multi_valued_attributes=None)
    return clean_multiline(_CONVERTER.convert_soup(soup)) or ""
