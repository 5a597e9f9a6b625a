"""Whole-item fixtures: a saved page per layout class and per hard case, and its whole item.

``tests/fixtures/pages/<site>/<layout>/<case>.html`` is a page of our own text with a real
layout; ``<case>.json`` holds the URL it was fetched from and every field of the item
``scrapy extract`` gives (``python -m tests.fixtures.regenerate`` rewrites them and shows
the diff). Every layout class of every site has at least one; losing any paragraph of any
fixture body fails here.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from dataclasses import asdict
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from newscrawl.pipelines import normalize_article
from newscrawl.sites import ParseError, all_sites, get_site
from tests.fixtures.regenerate import PAGES, VOLATILE

FIXTURES = sorted(PAGES.glob("*/*/*.html"))
IDS = [str(p.relative_to(PAGES)) for p in FIXTURES]
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dw" / "DW_2024_01_30.html"


def expected(page: Path) -> dict:
    return json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))


def parse(page: Path, body: bytes | None = None, headers: dict | None = None):
    """The site's parse of a fixture page (or of other bytes at its URL)."""
    site = get_site(page.relative_to(PAGES).parts[0])
    response = HtmlResponse(url=expected(page)["fetched_url"],
                            body=page.read_bytes() if body is None else body, headers=headers)
    return site.parse(response)


def item_of(parsed) -> dict:
    item = asdict(normalize_article(parsed.item))
    return {k: v for k, v in item.items() if k not in VOLATILE}


@pytest.mark.parametrize("page", FIXTURES, ids=IDS)
def test_the_whole_item(page):
    parsed = parse(page)
    assert parsed.layout == page.parent.name  # the switch picked the layout the fixture is for
    assert item_of(parsed) == expected(page)["item"]


LAYOUTS = [(name, layout.layout) for name, site in sorted(all_sites().items()) for layout in site.layouts]


@pytest.mark.parametrize(("site", "layout"), LAYOUTS)
def test_every_layout_class_has_a_fixture(site, layout):
    pages = sorted((PAGES / site / layout).glob("*.html"))
    assert pages, f"layout {site}/{layout} has no fixture page in tests/fixtures/pages/{site}/{layout}/"


def test_layout_dates_follow_each_other():
    """Each generation's ``valid_until`` is a later one's ``valid_from``: old pages keep a class."""
    for site in all_sites().values():
        froms = {layout.valid_from for layout in site.layouts if layout.valid_from}
        for layout in site.layouts:
            if layout.valid_until:
                assert layout.valid_until in froms, (site.name, layout.layout)
                assert layout.valid_from is None or layout.valid_from < layout.valid_until


# ---- losing a paragraph fails --------------------------------------------------------------

_P = re.compile(r"<p\b[^>]*>(.*?)</p>|\\u003cp\b.*?>(.*?)\\u003c/p>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>|\\u003c.*?>")


def _plain_markdown(paragraph: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", paragraph)
    return re.sub(r"[*_`\\#>]", "", text).strip()


def _plain_html(fragment: str) -> str:
    text = _TAGS.sub("", fragment)
    if "\\" in text:
        with contextlib.suppress(ValueError):
            text = json.loads(f'"{text}"')
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def text_paragraphs(body: str) -> list[str]:
    """The body's text paragraphs (not images, captions or headings)."""
    return [p for p in body.split("\n\n") if p and not p.startswith(("![", "*", "#"))]


@pytest.mark.parametrize("page", FIXTURES, ids=IDS)
def test_losing_any_paragraph_of_the_body_fails(page):
    """Each paragraph of the expected body, deleted from the page (from every place the page
    carries it: the DOM and the embedded state), gives an item that no longer matches."""
    want = expected(page)["item"]
    source = page.read_text(encoding="utf-8")
    occurrences = [(m, _plain_html(m.group(1) or m.group(2) or "")) for m in _P.finditer(source)]
    checked = 0
    for paragraph in text_paragraphs(want["body_markdown"]):
        key = _plain_markdown(paragraph)[:12]
        spans = [m.span() for m, text in occurrences if len(key) >= 4 and text.startswith(key)]
        whole = _plain_markdown(paragraph)
        if not spans and whole not in source:
            continue
        cut = source
        for start, end in sorted(spans, reverse=True):
            cut = cut[:start] + cut[end:]
        if len(whole) >= 8:  # also where the page carries it as plain text (a teaser in JSON)
            cut = cut.replace(whole, "")
        try:
            changed = item_of(parse(page, cut.encode("utf-8")))
        except ParseError:
            changed = None
        assert changed != want, f"deleting {paragraph[:30]!r} went unnoticed"
        checked += 1
    assert checked >= min(1, len(text_paragraphs(want["body_markdown"])))


# ---- the real reference page, when the shared material is beside the checkout -------------

@pytest.mark.skipif(not REFERENCE.exists(), reason="no shared reference page beside the checkout")
def test_the_real_dw_reference_page():
    """A real, unmodified DW page (German edition, January 2024), read where it lies."""
    response = HtmlResponse(url="https://www.dw.com/de/a-68117411", body=REFERENCE.read_bytes())
    parsed = get_site("dw").parse(response)
    item = normalize_article(parsed.item)
    assert parsed.layout == "react"
    # the expected values are the shared material's own (its README), not copied here
    notes = " ".join((REFERENCE.parents[2] / "README.md").read_text(encoding="utf-8").split())
    title = re.search(r'title\s+"([^"]+)"', notes).group(1)
    author = re.search(r"author\s+([^,]+),", notes).group(1).strip()
    assert item.title == title
    assert item.authors == [author]
    assert item.published.startswith("2024-01-30T") and item.published_precision == "second"
    assert item.id == "a-68117411" and item.lang == "de"
    assert item.body_markdown and len(item.body_markdown) > 3000 and item.images
