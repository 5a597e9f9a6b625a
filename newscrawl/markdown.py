"""Body HTML → Markdown that is safe to publish: nh3, then a walk of lxml's tree.

Every piece of page text is hostile. The body goes through three steps:

1. :func:`sanitize_html` — nh3 (the Rust sanitiser ammonia) keeps an allowlist of tags and
   attributes and only http(s) link and image targets; ``script``, ``style``, ``iframe`` and
   the like go with their content. It works on the parsed tree, so text that merely *mentions*
   ``<style>`` (entity-escaped in the page) is text and stays.
2. :func:`sanitized_markdown` parses the clean HTML with lxml and turns it into Markdown by
   markdownify's rules (the converter below); every text node goes through
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
from lxml.html import HtmlElement

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


# ---- the converter ------------------------------------------------------------------------
#
# The sanitised body is parsed once more by lxml (C, a fraction of the page parse) and walked
# here. The rules are markdownify's (1.2, ``heading_style=ATX``, ``bullets="-"``), written out
# for exactly the tags :data:`ALLOWED_TAGS` lets through: markdownify needs a BeautifulSoup
# tree, and building one plus markdownify's walk cost 0.6 ms an article, a quarter of the
# in-process cost (issue 10); this walk costs 0.1 ms. tests/test_markdown_converter.py checks
# the output against markdownify itself on every fixture and mirror body and on random trees.

#: Blocks that drop whitespace-only text inside their edges and next to them.
_BLOCKS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "blockquote", "article", "div", "section", "ol",
    "ul", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_INLINE_MARKUP = {"b": "**", "strong": "**", "em": "*", "i": "*", "del": "~~", "s": "~~",
                  "sub": "", "sup": ""}
_NEWLINE_RUN = re.compile(r"[\t \r\n]*[\r\n][\t \r\n]*")
_SPACE_RUN = re.compile(r"[\t ]+")
_ALL_SPACE = re.compile(r"[\t \r\n]+")
_LINE = re.compile(r"^(.*)", re.M)
_EDGE_NEWLINES = re.compile(r"^(\n*)((?:.*[^\n])?)(\n*)$", re.S)
_INLINE = "_inline"


def _tag(el: HtmlElement) -> str:
    """The element's tag name (comments and processing instructions, whose tag is not a
    string, never reach the converters)."""
    tag = el.tag
    return tag if isinstance(tag, str) else ""


def _is_block(node: object) -> bool:
    return isinstance(node, HtmlElement) and node.tag in _BLOCKS


def _chomp(text: str) -> tuple[str, str, str]:
    return (" " if text[:1] == " " else ""), (" " if text[-1:] == " " else ""), text.strip()


def _children(node: HtmlElement) -> list[tuple[HtmlElement | str | None, HtmlElement | str,
                                                HtmlElement | str | None]]:
    """The node's children as (previous, child, next): elements, and text as ``str``."""
    items: list[HtmlElement | str] = [node.text] if node.text else []
    for child in node:
        if isinstance(child.tag, str):  # comments and processing instructions are skipped
            items.append(child)
        if child.tail:
            items.append(child.tail)
    return [(items[i - 1] if i else None, item, items[i + 1] if i + 1 < len(items) else None)
            for i, item in enumerate(items)]


def _text_markdown(text: str, prev: object, nxt: object, parent: HtmlElement) -> str:
    text = _SPACE_RUN.sub(" ", _NEWLINE_RUN.sub("\n", text))
    text = escape_text(text.replace("\n", " "))
    inside = parent.tag in _BLOCKS
    if _is_block(prev) or (inside and prev is None):
        text = text.lstrip(" \t\r\n")
    if _is_block(nxt) or (inside and nxt is None):
        text = text.rstrip()
    return text


def _element_markdown(el: HtmlElement, parents: frozenset[str], nxt: object) -> str:
    inside = el.tag in _BLOCKS
    tags = parents | {_tag(el)}
    if el.tag in _HEADINGS or el.tag in ("td", "th"):
        tags |= {_INLINE}
    parts: list[str] = [""]  # so the first look-back works
    for prev, child, after in _children(el):
        if isinstance(child, str):
            if not child.strip() and (
                    (inside and (prev is None or after is None)) or _is_block(prev) or _is_block(after)):
                continue
            part = _text_markdown(child, prev, after, el)
        else:
            part = _element_markdown(child, tags, after)
        if not part:
            continue
        # newlines where two children meet: the larger count, at most two
        edges = _EDGE_NEWLINES.match(part)
        assert edges is not None  # it matches any text
        leading, content, trailing = edges.groups()
        if parts[-1] and leading:
            leading = "\n" * min(2, max(len(parts.pop()), len(leading)))
        parts += (leading, content, trailing)
    text = "".join(parts)
    convert = _CONVERT.get(_tag(el))
    return convert(el, text, parents, nxt) if convert else text


def _inline_markup(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    mark = _INLINE_MARKUP[_tag(el)]
    prefix, suffix, text = _chomp(text)
    return f"{prefix}{mark}{text}{mark}{suffix}" if text else ""


def _a(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    prefix, suffix, text = _chomp(text)
    return f"{prefix}{link_markdown(text, el.get('href'))}{suffix}"


def _img(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    if _INLINE in parents:
        return escape_text(el.get("alt") or "")
    return image_markdown(el.get("src") or "", el.get("alt"))


def _figure(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    if el.get("class") == FIGURE_CLASS:
        md = figure_markdown(el.get("data-src") or "", el.get("data-caption"), el.get("data-credit"))
        return f"\n\n{md}\n\n" if md else ""
    return f"\n\n{text.strip()}\n\n" if text.strip() else ""


def _blockquote(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    text = text.strip(" \t\r\n")
    if _INLINE in parents:
        return f" {text} "
    if not text:
        return "\n"
    return "\n" + _LINE.sub(lambda m: "> " + m.group(1) if m.group(1) else ">", text) + "\n\n"


def _br(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    return (text + " " if text else " ") if _INLINE in parents else "  \n" + text


def _div(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    if _INLINE in parents:
        return f" {text.strip()} "
    text = text.strip()
    return f"\n\n{text}\n\n" if text else ""


def _dd(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    text = text.strip()
    if _INLINE in parents:
        return f" {text} "
    if not text:
        return "\n"
    text = _LINE.sub(lambda m: "    " + m.group(1) if m.group(1) else "", text)
    return ":" + text[1:] + "\n"


def _dt(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    text = _ALL_SPACE.sub(" ", text.strip())
    if _INLINE in parents:
        return f" {text} "
    return f"\n\n{text}\n" if text else "\n"


def _heading(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    if _INLINE in parents:
        return text
    return f"\n\n{'#' * _HEADINGS[_tag(el)]} {_ALL_SPACE.sub(' ', text.strip())}\n\n"


def _hr(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    return "\n\n---\n\n"


def _list(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    if "li" in parents:
        return "\n" + text.rstrip()
    if isinstance(nxt, str) and not nxt.strip():  # blank text: the next element, if any
        nxt = next((e for e in el.itersiblings() if isinstance(e.tag, str)), None)
    before_paragraph = nxt is not None and not (isinstance(nxt, HtmlElement) and nxt.tag in ("ul", "ol"))
    return "\n\n" + text + ("\n" if before_paragraph else "")


def _li(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    text = text.strip()
    if not text:
        return "\n"
    parent = el.getparent()
    if parent is not None and parent.tag == "ol":
        start = parent.get("start")
        number = int(start) if start and start.isdecimal() else 1
        bullet = f"{number + sum(1 for _ in el.itersiblings('li', preceding=True))}. "
    else:
        bullet = "- "
    indent = " " * len(bullet)
    text = _LINE.sub(lambda m: indent + m.group(1) if m.group(1) else "", text)
    return bullet + text[len(bullet):] + "\n"


def _p(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    text = text.strip(" \t\r\n")
    if _INLINE in parents:
        return f" {text} "
    return f"\n\n{text}\n\n" if text else ""


def _table(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    return "\n\n" + text.strip() + "\n\n"


def _colspan(cell: HtmlElement) -> int:
    span = cell.get("colspan") or ""
    return max(1, min(1000, int(span))) if span.isdecimal() else 1


def _cell(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    return " " + text.strip().replace("\n", " ") + " |" * _colspan(el)


def _previous_element(el: HtmlElement) -> HtmlElement | None:
    return next((e for e in el.itersiblings(preceding=True) if isinstance(e.tag, str)), None)


def _tr(el: HtmlElement, text: str, parents: frozenset[str], nxt: object) -> str:
    cells = [c for c in el.iterdescendants("td", "th")]
    parent = el.getparent()
    assert parent is not None  # a row is in a table (sanitize_html's parser puts it in one)
    first = _previous_element(el) is None
    head = all(c.tag == "th" for c in cells) or (
        parent.tag == "thead" and sum(1 for _ in parent.iterdescendants("tr")) == 1)
    table = parent.getparent()
    head_missing = first and (parent.tag != "tbody" or table is None or not any(
        True for _ in table.iterdescendants("thead")))
    width = sum(_colspan(c) for c in cells)
    over = under = ""
    if head and first:
        under = "| " + " | ".join(["---"] * width) + " |\n"
    elif head_missing or (first and (parent.tag == "table" or (
            parent.tag == "tbody" and _previous_element(parent) is None))):
        over = "| " + " | ".join([""] * width) + " |\n| " + " | ".join(["---"] * width) + " |\n"
    return over + "|" + text + "\n" + under


_CONVERT = {
    "a": _a, "img": _img, "figure": _figure, "blockquote": _blockquote, "br": _br,
    "div": _div, "article": _div, "section": _div, "dl": _div, "dd": _dd, "dt": _dt,
    "hr": _hr, "ul": _list, "ol": _list, "li": _li, "p": _p, "table": _table,
    "td": _cell, "th": _cell, "tr": _tr,
    **dict.fromkeys(_HEADINGS, _heading), **dict.fromkeys(_INLINE_MARKUP, _inline_markup),
}


def sanitized_markdown(markup: str) -> str:
    """Markdown of HTML that :func:`sanitize_html` has cleaned (no further cleaning here)."""
    if not markup.strip():
        return ""
    document = lxml.html.document_fromstring(markup)
    return _element_markdown(document, frozenset(), None).strip("\n")


_RUNS = {"strong": "strong", "b": "strong", "em": "em", "i": "em"}


def _joined(*parts: str | None) -> str:
    return xml_safe("".join(p or "" for p in parts))


def merge_adjacent_runs(root: HtmlElement) -> None:
    """``<strong>a</strong><strong>b</strong>`` → ``<strong>ab</strong>`` (also ``b``/``em``/``i``):
    touching runs of the same emphasis would otherwise become ``**a****b**``."""
    for el in list(root.iter(*_RUNS)):
        parent = el.getparent()
        if parent is None:
            continue
        nxt = el.getnext()
        while (nxt is not None and not (el.tail or "") and isinstance(nxt.tag, str)
               and _RUNS.get(nxt.tag) == _RUNS.get(_tag(el))):
            if len(el):
                el[-1].tail = _joined(el[-1].tail, nxt.text)
            else:
                el.text = _joined(el.text, nxt.text)
            for child in list(nxt):
                el.append(child)
            el.tail = nxt.tail
            parent.remove(nxt)
            nxt = el.getnext()


def to_markdown(root: HtmlElement) -> str:
    """Convert a cleaned body element to Markdown (paragraphs, headings, lists, quotes, figures)."""
    merge_adjacent_runs(root)
    markup = sanitize_html(lxml.html.tostring(root, encoding="unicode"))
    return clean_multiline(sanitized_markdown(markup)) or ""
