"""Body HTML → Markdown, through markdownify, with the canonical figures of :mod:`newscrawl.html`."""

from __future__ import annotations

import re

import lxml.html
from bs4 import BeautifulSoup
from lxml.html import HtmlElement
from markdownify import ATX, MarkdownConverter

from newscrawl.html import FIGURE_CLASS
from newscrawl.text import clean_multiline


def _escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]])", r"\\\1", text)


def image_markdown(url: str, alt: str | None) -> str:
    return f"![{_escape(alt or '').replace(chr(10), ' ')}]({url})"


def figure_markdown(url: str, caption: str | None, credit: str | None) -> str:
    """An image with its caption and credit kept as text under it."""
    lines = [image_markdown(url, caption)]
    under = " · ".join(_escape(part) for part in (caption, credit) if part)
    if under:
        lines.append(f"*{under}*")
    return "\n".join(lines)


class _Converter(MarkdownConverter):
    def convert_figure(self, el, text, parent_tags):
        if el.get("class") == FIGURE_CLASS:
            md = figure_markdown(el.get("data-src"), el.get("data-caption"), el.get("data-credit"))
            return f"\n\n{md}\n\n"
        return f"\n\n{text.strip()}\n\n" if text.strip() else ""

    def convert_a(self, el, text, parent_tags):
        if not el.get("href"):
            return text
        return super().convert_a(el, text, parent_tags)


_CONVERTER = _Converter(heading_style=ATX, bullets="-", strip=["iframe"], escape_misc=False)


_RUNS = {"strong": "strong", "b": "strong", "em": "em", "i": "em"}
#: What lxml refuses in a text it is given (a parsed page may still hold it).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _joined(*parts: str | None) -> str:
    return _NOT_XML.sub("", "".join(p or "" for p in parts))


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
    markup = lxml.html.tostring(root, encoding="unicode")
    soup = BeautifulSoup(markup, "lxml", multi_valued_attributes=None)
    return clean_multiline(_CONVERTER.convert_soup(soup)) or ""
